"""Delivery reports that arrive after sending: an SMS gateway's receipt, or a bounce message
matched to the e-mail it answers. They settle a send step as delivered, bounced or failed."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from invitations.lifecycle import BOUNCED, DELIVERED, advance
from invitations.models import Delivery
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

RECEIPT_STATUSES = ("delivered", "bounced", "failed")
# The `message_id` that `invitations.sending` gives each step (also the e-mail's Message-ID).
MESSAGE_ID_RE = re.compile(r"^<?minsheng-(\d+)-(\d+)-(\d+)(?:@[^>]*)?>?$")


def record_receipt(session: Session, message_id: str, status: str, reason: str = "") -> Delivery:
    """Apply one delivery report to its send step.

    `delivered` also settles a step left `sending` or `uncertain` by a dead worker (the message
    did go out); `bounced` ends the invitation's sequence of messages, by the same rule as a
    refusal at send time (`invitations.lifecycle`). Raises InputError naming the field for an
    unknown message id or status.
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
        advance(session, invitation_id, DELIVERED)
    else:
        delivery.state = status
        delivery.error = (reason or f"reported {status}")[:500]
        if status == BOUNCED:
            advance(session, invitation_id, BOUNCED)
    session.flush()
    return delivery
