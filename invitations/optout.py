"""Opt-out links (退订) and open tracking: short signed references to an invitation or a delivery
that go into every message, and what happens when a person follows them."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.lists import opt_out_contact
from contacts.models import Contact
from invitations.lifecycle import OPENED, advance
from invitations.models import Delivery, Invitation, OptOutEvent
from minsheng.db import utcnow

# 72 bits: unguessable for this purpose, and 12 characters, so the link fits in an SMS.
_MAC_BYTES = 9


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"minsheng invitations signed references", "sha256").digest()


def signed_ref(secret: str, purpose: str, row_id: int) -> str:
    """`<id in base 36>.<72-bit HMAC>`: under 20 characters, short enough for an SMS, and
    unguessable, so nobody can opt out or mark as opened someone else's invitation."""
    mac = hmac.new(_key(secret), f"{purpose}:{row_id}".encode(), hashlib.sha256).digest()
    code = base64.urlsafe_b64encode(mac[:_MAC_BYTES]).decode().rstrip("=")
    return f"{_base36(row_id)}.{code}"


def read_signed_ref(secret: str, purpose: str, ref: str) -> int | None:
    """The id inside a reference made by `signed_ref` for `purpose`, or None if it was altered."""
    head, _, _code = ref.partition(".")
    if not head or len(ref) > 40:
        return None
    try:
        row_id = int(head, 36)
    except ValueError:
        return None
    return row_id if hmac.compare_digest(signed_ref(secret, purpose, row_id), ref) else None


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def opt_out_url(base_url: str, secret: str, invitation_id: int) -> str:
    return f"{base_url.rstrip('/')}/o/{signed_ref(secret, 'opt-out', invitation_id)}"


def pixel_url(base_url: str, secret: str, delivery_id: int) -> str:
    return f"{base_url.rstrip('/')}/t/{signed_ref(secret, 'open', delivery_id)}.gif"


def record_opt_out(session: Session, invitation: Invitation, channel: str | None = None) -> bool:
    """The person behind `invitation` wants no more messages: put their phone and e-mail hashes
    on the opt-out list (every campaign consults it) and note the event for this campaign's
    funnel. Returns False when this invitation had already opted out."""
    if invitation.contact_id is not None:
        contact = session.get(Contact, invitation.contact_id)
        if contact is not None:
            opt_out_contact(session, contact, invitation.campaign_id)
    if session.scalar(select(OptOutEvent.id).where(OptOutEvent.invitation_id == invitation.id)):
        return False
    session.add(
        OptOutEvent(
            invitation_id=invitation.id, campaign_id=invitation.campaign_id, channel=channel
        )
    )
    session.flush()
    return True


def record_open(session: Session, delivery_id: int) -> bool:
    """A message was opened (its tracking image loaded): note the first time on the delivery and
    move the invitation to `opened` unless it is further along. Returns False for an unknown
    delivery."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return False
    if delivery.opened_at is None:
        delivery.opened_at = utcnow()
    advance(session, delivery.invitation_id, OPENED)
    session.flush()
    return True
