"""Delivery reports that arrive after sending: an SMS gateway's receipt, or a bounce message
matched to the e-mail it answers. They settle a send step as delivered, bounced or failed."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from invitations.models import Delivery, Invitation
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

RECEIPT_STATUSES = ("delivered", "bounced", "failed")
# The `message_id` that `invitations.sending` gives each step (also the e-mail's Message-ID).
MESSAGE_ID_RE = re.compile(r"^<?minsheng-(\d+)-(\d+)-(\d+)(?:@[^>]*)?>?$")
# A later report never moves an invitation back from what the person did since.
_BEFORE_DELIVERED = ("created", "sent")
_BEFORE_STARTED = ("created", "sent", "delivered", "opened")


def record_receipt(session: Session, message_id: str, status: str, reason: str = "") -> Delivery:
    """Apply one delivery report to its send step.

    `delivered` also settles a step left `sending` or `uncertain` by a dead worker (the message
    did go out); `bounced` ends the invitation's sequence of messages, like a refusal at send
    time. Raises InputError naming the field for an unknown message id or status.
    """
    problems = []
    match = MESSAGE_ID_RE.match(message_id.strip())
    if match is None:
        problems.append(
            Problem("message_id", f"got {message_id!r}; expected minsheng-<c>-<i>-<step>")
        )
    if status not in RECEIPT_STATUSES:
        problems.append(
            Problem("status", f"got {status!r}; expected one of {', '.join(RECEIPT_STATUSES)}")
        )
    if problems or match is None:
        raise InputError(problems)
    campaign_id, invitation_id, step = (int(g) for g in match.groups())
    delivery = session.scalar(
        select(Delivery).where(
            Delivery.campaign_id == campaign_id,
            Delivery.invitation_id == invitation_id,
            Delivery.step == step,
        )
    )
    if delivery is None:
        raise InputError([Problem("message_id", f"no message {message_id!r} was sent")])
    if status == "delivered":
        if delivery.state in ("sending", "uncertain", "retry"):
            delivery.state = "sent"
            delivery.sent_at = delivery.sent_at or utcnow()
        _move(session, invitation_id, _BEFORE_DELIVERED, "delivered")
    else:
        delivery.state = status
        delivery.error = (reason or f"reported {status}")[:500]
        if status == "bounced":
            _move(session, invitation_id, _BEFORE_STARTED, "bounced")
    session.flush()
    return delivery


def _move(session: Session, invitation_id: int, allowed: tuple[str, ...], status: str) -> None:
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.status.in_(allowed))
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
