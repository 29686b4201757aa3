"""Rotating `PII_KEY`: re-encrypt contact details and waiting uploads under the current key and
recompute the lookup hashes (with the opt-outs that carry them), after the old key moved to
`PII_PREVIOUS_KEYS`. Idempotent: what already opens with the current key is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from contacts.models import Contact, ContactUpload, OptOut
from contacts.pii import (
    PIIKeys,
    decrypt,
    decrypt_bytes,
    encrypt,
    encrypt_bytes,
    lookup_hash,
    opening_keys,
)
from minsheng.audit import record

_BATCH = 500


@dataclass(frozen=True)
class RekeyCounts:
    """Rows moved to the current key by one run, and rows that already were."""

    contacts: int
    contacts_current: int
    uploads: int
    uploads_current: int
    opt_outs: int


def rekey_contacts(session: Session, keys: PIIKeys, actor_id: int | None = None) -> RekeyCounts:
    """Move every contact and waiting upload to `keys` (the current key), flushing per batch.

    A contact's phone and e-mail hashes change with the key, so the opt-outs holding the old
    hashes are rewritten to the new ones in the same run; an opt-out whose address no contact
    holds any more cannot be recomputed (only its hash is stored) and keeps its old hash.
    Raises PIIError when a value opens with none of the configured keys; the caller's
    transaction then rolls back, nothing half done.
    """
    moved = current = opt_outs = 0
    last = 0
    while batch := list(
        session.scalars(select(Contact).where(Contact.id > last).order_by(Contact.id).limit(_BATCH))
    ):
        last = batch[-1].id
        for contact in batch:
            renamed = _rekey_contact(contact, keys)
            if renamed is None:
                current += 1
                continue
            moved += 1
            for old, new in renamed.items():
                opt_outs += _rehash_opt_out(session, old, new)
        session.flush()
    uploads, uploads_current = _rekey_uploads(session, keys)
    counts = RekeyCounts(moved, current, uploads, uploads_current, opt_outs)
    record(
        session, actor_id, "contacts.rekey", "contact", None,
        contacts=moved, uploads=uploads, opt_outs=opt_outs,
    )  # fmt: skip
    return counts


def _rekey_contact(contact: Contact, keys: PIIKeys) -> dict[bytes, bytes] | None:
    """Re-encrypt one contact; None when it is already current, else old hash -> new hash."""
    blobs = [b for b in (contact.name_enc, contact.phone_enc, contact.email_enc) if b]
    if all(opening_keys(keys, blob) is keys for blob in blobs):
        return None
    renamed: dict[bytes, bytes] = {}
    if contact.name_enc:
        contact.name_enc = encrypt(keys, decrypt(keys, contact.name_enc))
    if contact.phone_enc:
        phone = decrypt(keys, contact.phone_enc)
        contact.phone_enc = encrypt(keys, phone)
        renamed[contact.phone_hash or b""] = new = lookup_hash(keys, "phone", phone)
        contact.phone_hash = new
    if contact.email_enc:
        email = decrypt(keys, contact.email_enc)
        contact.email_enc = encrypt(keys, email)
        renamed[contact.email_hash or b""] = new = lookup_hash(keys, "email", email)
        contact.email_hash = new
    renamed.pop(b"", None)
    return {old: new for old, new in renamed.items() if old != new}


def _rehash_opt_out(session: Session, old: bytes, new: bytes) -> int:
    """Give the opt-out of `old` the hash `new`; 1 when one was rewritten."""
    if session.scalar(select(OptOut.id).where(OptOut.contact_hash == old)) is None:
        return 0
    if session.scalar(select(OptOut.id).where(OptOut.contact_hash == new)) is not None:
        # The person opted out again after the new key was deployed: one row is enough.
        session.execute(delete(OptOut).where(OptOut.contact_hash == old))
    else:
        session.execute(update(OptOut).where(OptOut.contact_hash == old).values(contact_hash=new))
    return 1


def _rekey_uploads(session: Session, keys: PIIKeys) -> tuple[int, int]:
    moved = current = 0
    for upload in session.scalars(select(ContactUpload).order_by(ContactUpload.id)):
        if opening_keys(keys, upload.data_enc, b"file") is keys:
            current += 1
            continue
        upload.data_enc = encrypt_bytes(keys, decrypt_bytes(keys, upload.data_enc))
        moved += 1
    session.flush()
    return moved, current
