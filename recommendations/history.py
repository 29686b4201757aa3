"""A recommendation's own history: its events as the viewer may see them (staff: all; a
department: the public ones and those of its own assignments; the public: the public ones)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from minsheng.accounts.models import User
from recommendations.models import Assignment, LoopEvent, Recommendation


def history(
    session: Session, recommendation: Recommendation, viewer: User | None
) -> list[LoopEvent]:
    """The events of `recommendation`, oldest first, that `viewer` (None: the public) may see."""
    stmt = select(LoopEvent).where(LoopEvent.recommendation_id == recommendation.id)
    if viewer is None or viewer.role not in ("organizer", "admin"):
        own = select(Assignment.id).where(
            Assignment.recommendation_id == recommendation.id,
            Assignment.department_id == (viewer.department_id if viewer is not None else -1),
        )
        stmt = stmt.where(or_(LoopEvent.public.is_(True), LoopEvent.assignment_id.in_(own)))
    return list(session.scalars(stmt.order_by(LoopEvent.at, LoopEvent.id)))
