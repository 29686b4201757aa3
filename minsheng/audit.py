"""Append-only audit log: who did what to which object, when. Every staff action records one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from minsheng.db import Base, utcnow


class AuditEvent(Base):
    """One staff action. Rows are never updated or deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: object,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the caller's transaction, so it commits (or not) with the action."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
    )
    session.add(event)
    return event


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
