"""Invitation links: random tokens (256 bits) stored only as their sha256, created in bulk without
ORM objects, resolved back to the invitation, and the started / completed marks that make one
invitation give one response."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from contacts.bulk import bulk_insert
from contacts.lists import is_opted_out, not_opted_out
from contacts.models import Contact
from invitations.lifecycle import COMPLETED, CREATED, STARTED, STATES, advance
from invitations.models import Invitation, InvitationToken
from invitations.quotas import open_for, quotas_of, record_completion, stratum_values
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

TOKEN_BYTES = 32
# Rows per executemany. Big enough to amortise round trips, small enough for SQLite's
# variable limit when a chunk of ids is used in an IN list.
CHUNK = 5000
INVITATIONS = cast(Table, Invitation.__table__)
INVITATION_TOKENS = cast(Table, InvitationToken.__table__)


def new_tokens(count: int) -> list[str]:
    """`count` tokens of `TOKEN_BYTES` random bytes each, urlsafe base64 without padding, the
    same as `secrets.token_urlsafe(32)` but from one read of the system's random source."""
    pool = secrets.token_bytes(TOKEN_BYTES * count)
    return [
        base64.urlsafe_b64encode(pool[i : i + TOKEN_BYTES]).rstrip(b"=").decode("ascii")
        for i in range(0, TOKEN_BYTES * count, TOKEN_BYTES)
    ]


def token_hash(token: str) -> bytes:
    """sha256 of the token: what the database keeps. A hash suffices (no key, no salt) because
    the token carries 256 random bits; nobody can enumerate them."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).digest()


def invitation_url(token: str, base_url: str | None = None) -> str:
    """The personal link `<BASE_URL>/i/<token>` (respondent pages serve `/i/<token>`)."""
    if base_url is None:
        from flask import current_app

        base_url = str(current_app.config["BASE_URL"])
    return f"{base_url.rstrip('/')}/i/{token}"


@dataclass
class CreatedInvitations:
    """What `create_invitations` did. `tokens` holds `(contact_id, token)` pairs only when asked
    for: the tokens cannot be recovered afterwards."""

    created: int = 0
    skipped_opted_out: int = 0
    skipped_invited: int = 0
    skipped_quota: int = 0
    tokens: list[tuple[int | None, str]] = field(default_factory=list)


def create_invitations(
    session: Session,
    campaign: Campaign,
    contact_ids: Sequence[int] | None = None,
    *,
    count: int = 0,
    strata: Mapping[int, str] | None = None,
    sample_id: int | None = None,
    channel: str | None = None,
    expires_at: datetime | None = None,
    keep_tokens: bool = False,
) -> CreatedInvitations:
    """Create one invitation per contact in `contact_ids`, or `count` invitations without a
    contact (printed letters) when `contact_ids` is None.

    Contacts who opted out, contacts already invited to this campaign, and contacts whose
    stratum (`strata[contact_id]`, a `stratum_key`) has a full quota are skipped and counted.
    Rows go in with Core `executemany` in chunks of `CHUNK`: no ORM object per invitation.
    """
    result = CreatedInvitations()
    strata = strata or {}
    now = utcnow()
    batches: Iterable[list[int | None]]
    if contact_ids is None:
        batches = ([None] * min(CHUNK, count - start) for start in range(0, count, CHUNK))
    else:
        batches = _invitable_batches(session, campaign, contact_ids, strata, result)
    for contacts in batches:
        _insert(
            session,
            campaign,
            contacts,
            strata,
            sample_id,
            channel,
            expires_at,
            now,
            result,
            keep_tokens,
        )
    return result


def _invitable_batches(
    session: Session,
    campaign: Campaign,
    contact_ids: Sequence[int],
    strata: Mapping[int, str],
    result: CreatedInvitations,
) -> Iterator[list[int | None]]:
    """The contacts to invite, `CHUNK` at a time, each batch checked against the database after
    the one before it was inserted; those skipped are counted in `result`."""
    quotas = quotas_of(session, campaign.id)
    for chunk in _chunks(contact_ids, CHUNK):
        allowed = _invitable(session, campaign.id, chunk)
        result.skipped_opted_out += len(chunk) - len(allowed[0]) - len(allowed[1])
        result.skipped_invited += len(allowed[1])
        wanted: list[int | None] = []
        for contact_id in allowed[0]:
            key = strata.get(contact_id)
            if quotas and not open_for(quotas, stratum_values(key)):
                result.skipped_quota += 1
                continue
            wanted.append(contact_id)
        yield wanted


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _invitable(session: Session, campaign_id: int, chunk: list[int]) -> tuple[list[int], list[int]]:
    """(contacts that may be invited, contacts already invited), in the order given."""
    reachable = set(
        session.scalars(select(Contact.id).where(Contact.id.in_(chunk), not_opted_out()))
    )
    invited = set(
        session.scalars(
            select(Invitation.contact_id).where(
                Invitation.campaign_id == campaign_id, Invitation.contact_id.in_(chunk)
            )
        )
    )
    ok = [c for c in dict.fromkeys(chunk) if c in reachable and c not in invited]
    again = [c for c in dict.fromkeys(chunk) if c in reachable and c in invited]
    return ok, again


def _insert(
    session: Session,
    campaign: Campaign,
    contacts: list[int | None],
    strata: Mapping[int, str],
    sample_id: int | None,
    channel: str | None,
    expires_at: datetime | None,
    now: datetime,
    result: CreatedInvitations,
    keep_tokens: bool,
) -> None:
    if not contacts:
        return
    tokens = new_tokens(len(contacts))
    constant = {
        "campaign_id": campaign.id,
        "sample_id": sample_id,
        "status": CREATED,
        "channel": channel,
        "expires_at": expires_at,
        "created_at": now,
    }
    rows = [
        (contact_id, token_hash(token), strata.get(contact_id) if contact_id else None)
        for contact_id, token in zip(contacts, tokens, strict=True)
    ]
    bulk_insert(session, INVITATIONS, ("contact_id", "token_hash", "stratum"), rows, constant)
    result.created += len(rows)
    if keep_tokens:
        result.tokens.extend(zip(contacts, tokens, strict=True))


def create_invitation(
    session: Session,
    campaign: Campaign,
    contact: Contact | None = None,
    *,
    stratum: str | None = None,
    channel: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[Invitation, str]:
    """One invitation and its token (the single-row path, for pages and tests).

    Raises InputError when the contact has opted out: nobody who did is invited again.
    """
    if contact is not None and is_opted_out(session, contact):
        raise InputError([Problem("contact", "this person opted out of all invitations")])
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        campaign_id=campaign.id,
        contact_id=contact.id if contact is not None else None,
        token_hash=token_hash(token),
        status=CREATED,
        channel=channel,
        stratum=stratum,
        expires_at=expires_at,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def issue_tokens(session: Session, invitation_ids: Sequence[int]) -> dict[int, str]:
    """A fresh link for each invitation (for a message or reminder), stored only as a hash in
    `invitation_tokens`; the earlier links keep working. Returns `{invitation_id: token}`."""
    issued: dict[int, str] = {}
    now = utcnow()
    for chunk in _chunks(invitation_ids, CHUNK):
        tokens = new_tokens(len(chunk))
        bulk_insert(
            session,
            INVITATION_TOKENS,
            ("invitation_id", "token_hash"),
            [(i, token_hash(t)) for i, t in zip(chunk, tokens, strict=True)],
            {"created_at": now},
        )
        issued.update(zip(chunk, tokens, strict=True))
    return issued


def _not_expired(now: datetime) -> ColumnElement[bool]:
    return (Invitation.expires_at.is_(None)) | (Invitation.expires_at > now)


def resolve_invitation(
    session: Session, token: str, now: datetime | None = None
) -> Invitation | None:
    """The invitation behind a link token, or None when the token is unknown or expired.

    A completed invitation is returned as is: the caller shows "already answered" for
    `status == "completed"`.
    """
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    now = now or utcnow()
    found = session.scalar(
        select(Invitation).where(Invitation.token_hash == digest, _not_expired(now))
    )
    if found is None:
        found = session.scalar(
            select(Invitation)
            .join(InvitationToken, InvitationToken.invitation_id == Invitation.id)
            .where(InvitationToken.token_hash == digest, _not_expired(now))
        )
    return found


def mark_started(session: Session, invitation: Invitation, when: datetime | None = None) -> None:
    """The respondent opened the questionnaire through the link; a started or completed
    invitation keeps its first time (to the day only in an anonymous campaign)."""
    if invitation.status in (STARTED, COMPLETED):  # the common case of a page reload: no write
        return
    moment = _coarse(session, invitation, when)
    advance(session, invitation, STARTED, started_at=func.coalesce(Invitation.started_at, moment))


def _coarse(session: Session, invitation: Invitation, when: datetime | None) -> datetime:
    """`when` (default now), kept to the day in an anonymous campaign, so invitation times
    cannot be matched against a response's start or submission time."""
    moment = when or utcnow()
    campaign = session.get(Campaign, invitation.campaign_id)
    if campaign is not None and campaign.anonymous:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment


def mark_completed(session: Session, invitation: Invitation, when: datetime | None = None) -> bool:
    """Record that the invitation gave its one response; False if it already had.

    The change is one conditional UPDATE, so of two concurrent submits through the same link
    only one sees True; the caller must refuse (roll back) the other. Quotas that apply to the
    invitation's stratum and contact attributes count one more completion. In an anonymous
    campaign the time is kept to the day only, so it cannot be matched against a response's
    submission time.
    """
    moment = _coarse(session, invitation, when)
    if not advance(session, invitation, COMPLETED, completed_at=moment):
        return False
    values: dict[str, object] = {}
    if invitation.contact_id is not None:
        contact = session.get(Contact, invitation.contact_id)
        if contact is not None:
            values.update(contact.attributes)
    values.update(stratum_values(invitation.stratum))
    record_completion(session, invitation.campaign_id, values)
    return True


def status_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """Invitations of a campaign per status, in funnel order (`invitations.lifecycle.STATES`),
    then any other status alphabetically."""
    found = {
        status: n
        for status, n in session.execute(
            select(Invitation.status, func.count())
            .where(Invitation.campaign_id == campaign_id)
            .group_by(Invitation.status)
        )
    }
    ordered = {s: found.pop(s, 0) for s in STATES}
    ordered.update(sorted(found.items()))
    return ordered
