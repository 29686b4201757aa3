"""Append-only, tamper-evident audit log: who did what to which object, when. Every staff action
records one.

The events form a hash chain: each row stores the hash of the row before it (`prev_hash`) and
its own `hash`, SHA-256 over the canonical JSON of its fields and `prev_hash`. Changing, removing
or reordering a row breaks the chain at that row, and `minsheng audit verify` names the first
broken link. The database refuses UPDATE and DELETE on the table (triggers, migration 0013), and
`prev_hash` is unique, so two writers can never both extend the same head: on PostgreSQL an
appender takes a transaction-scoped advisory lock before it reads the head, so concurrent
transactions queue for the few milliseconds between their first audit event and their commit.
The chain shows any change made through the database; against someone who may also rewrite the
whole chain, keep the head `verify` prints somewhere else and compare.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from minsheng.db import Base, utcnow
from minsheng.text import sanitised

#: The `prev_hash` of the first event.
GENESIS = "0" * 64
#: The PostgreSQL advisory lock that serialises appends to the chain ("audit" in ASCII).
CHAIN_LOCK = 0x6175646974


class AuditEvent(Base):
    """One staff action. Rows are never updated or deleted (the database refuses both)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


def _timestamp(at: datetime) -> str:
    """`at` in UTC with microseconds, as both databases give it back."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    detail: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's fields: keys sorted, no spaces, UTF-8."""
    canonical = json.dumps(
        {
            "action": action,
            "actor_id": actor_id,
            "at": _timestamp(at),
            "detail": detail,
            "object_id": object_id,
            "object_type": object_type,
            "prev_hash": prev_hash,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _stored_hash(event: AuditEvent) -> str:
    return event_hash(
        at=event.at,
        actor_id=event.actor_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        detail=event.detail,
        prev_hash=event.prev_hash,
    )


def chain_head(session: Session) -> str:
    """The hash the next event links to: the last event's, or `GENESIS`."""
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: object,
    **detail: Any,
) -> AuditEvent:
    """Append an audit event to the chain in the caller's transaction, so it commits (or not)
    with the action. `detail` is stored as the JSON the database gives back (tuples as lists,
    NUL and lone surrogates replaced), which is what the hash covers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    stored = sanitised(json.loads(json.dumps(detail, allow_nan=False)))
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "detail": stored,
        "prev_hash": chain_head(session),
    }
    event = AuditEvent(**fields, hash=event_hash(**fields))
    session.add(event)
    # Written now, so the next event of this transaction links to it.
    session.flush()
    return event


def record_download(
    session: Session, actor_id: int | None, object_type: str, object_id: object, file_name: str
) -> AuditEvent:
    """Audit that `actor_id` downloaded a report or an export (`<object_type>.download`); the
    view commits it before sending the file, so no download goes unrecorded."""
    return record(
        session, actor_id, f"{object_type}.download", object_type, object_id, file=file_name
    )


def events_for(session: Session, object_type: str, object_id: object) -> list[AuditEvent]:
    """The history of one object, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == str(object_id),
        )
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: the number of events read, the head (last id and hash) and,
    when the chain is broken, the id of the first event that does not fit and why; when a head
    recorded earlier was given, whether the chain still holds it (events after it would
    otherwise have been cut off and the rest rewritten)."""

    events: int
    head_id: int | None
    head_hash: str
    broken_at: int | None = None
    reason: str = ""
    earlier_head_found: bool = True

    @property
    def intact(self) -> bool:
        return self.broken_at is None and self.earlier_head_found


def verify_chain(
    session: Session, earlier_head: str | None = None, batch: int = 5000
) -> ChainReport:
    """Walk the audit events in id order, recomputing each hash and checking each link; stop at
    the first event that was changed, or whose predecessor was removed or changed. With
    `earlier_head` (a head `verify` printed before), also check that an event still has it."""
    expected, count, last_id = GENESIS, 0, None
    found_earlier = earlier_head in (None, GENESIS)
    stmt = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)
    rows = session.scalars(stmt)
    try:
        for event in rows:
            if event.prev_hash != expected:
                reason = (
                    f"links to {event.prev_hash[:12]}..., but the event before it"
                    + (f" (#{last_id})" if last_id is not None else "")
                    + f" hashes to {expected[:12]}...: an event before it was removed or changed"
                )
                return ChainReport(count, last_id, expected, event.id, reason)
            if _stored_hash(event) != event.hash:
                reason = "its fields do not hash to its stored hash: the event was changed"
                return ChainReport(count, last_id, expected, event.id, reason)
            expected, count, last_id = event.hash, count + 1, event.id
            found_earlier = found_earlier or event.hash == earlier_head
    finally:
        # Stopping early must close PostgreSQL's server-side cursor.
        rows.close()
    return ChainReport(count, last_id, expected, earlier_head_found=found_earlier)
