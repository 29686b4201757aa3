"""Recommendation tables along the closed loop 征集—交办—办理—反馈—评价—激励: the recommendation
and its decision, assignments to departments, progress with evidence, escalations, evaluations
and recognitions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import reviews.models  # noqa: F401  (golden ideas, responses, campaigns in the metadata)
from campaigns.models import Campaign
from minsheng.accounts.models import Department
from minsheng.db import Base, utcnow

#: Where a recommendation comes from.
SOURCES = ("golden_idea", "suggestion_cluster", "expert")
ASSIGNMENT_STATES = ("assigned", "in_progress", "completed")
RATERS = ("suggester", "organizer")
RECOGNISED_KINDS = ("suggester", "expert")


class Recommendation(Base):
    """A recommendation (建议事项) drawn from a campaign and followed until it is closed.

    `status` moves only along `recommendations.workflow.ALLOWED_TRANSITIONS`; `public_feedback` is
    the text shown to suggesters on the campaign's public feedback page (反馈).
    """

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(30))
    golden_idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("golden_ideas.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(30), default="proposed")
    #: The adoption decision, kept when `status` moves on (adoption rates count it).
    decision: Mapped[str | None] = mapped_column(String(30))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    public_feedback: Mapped[str] = mapped_column(Text, default="")
    feedback_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="recommendation", order_by="Assignment.id", cascade="all, delete-orphan"
    )


class Assignment(Base):
    """The recommendation handed to one department (交办) with a deadline; the department reports
    progress (办理) until it marks the assignment completed (办结)."""

    __tablename__ = "recommendation_assignments"
    __table_args__ = (UniqueConstraint("recommendation_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE")
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    overdue: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(default=0)

    recommendation: Mapped[Recommendation] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship()
    updates: Mapped[list[ProgressUpdate]] = relationship(
        order_by="ProgressUpdate.id", cascade="all, delete-orphan"
    )


class ProgressUpdate(Base):
    """A progress note from the department with its evidence: `attachments` lists the file store
    keys of its files (`evidence/<assignment id>/<update number>-<name>`)."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_assignments.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    completes: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Escalation(Base):
    """One escalation (督办) of an overdue assignment: at most one per level and day, which is
    what makes the beat job safe to run twice. `notified_at` is set once the e-mail went out."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("assignment_id", "level", "on_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_assignments.id", ondelete="CASCADE")
    )
    level: Mapped[int]
    on_day: Mapped[date]
    days_overdue: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    notified_to: Mapped[list[Any]] = mapped_column(default=list)

    assignment: Mapped[Assignment] = relationship()


class Evaluation(Base):
    """Satisfaction (评价) with how a recommendation was handled, 1-5, from a suggester or the
    organizer; 4 and 5 count as satisfied."""

    __tablename__ = "recommendation_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    rater: Mapped[str] = mapped_column(String(20))
    rater_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    satisfaction: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Recognition(Base):
    """A suggester or expert recognised (激励) for a recommendation. Suggesters are anonymous, so
    they are named by the response their suggestion came from."""

    __tablename__ = "recognitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    recognised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
