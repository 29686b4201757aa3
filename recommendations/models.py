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
from minsheng.accounts.models import Department, User
from minsheng.db import Base, utcnow

#: Where a recommendation comes from.
SOURCES = ("golden_idea", "suggestion_cluster", "expert")
#: 主办 (lead: answers for the whole recommendation) and 协办 (co-handling: does its own part).
HANDLING_ROLES = ("lead", "co")
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
    category: Mapped[str] = mapped_column(String(60), default="", server_default="")
    district: Mapped[str] = mapped_column(String(60), default="", server_default="")
    status: Mapped[str] = mapped_column(String(30), default="proposed")
    #: The handling round: 1, then 2 after a reopening (重办), and so on; evaluations belong to one.
    round: Mapped[int] = mapped_column(default=1, server_default="1")
    #: When the suggesters must hear back (反馈), set once the lead's reply is approved.
    feedback_due: Mapped[date | None]
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
    # Leads first ("lead" sorts after "co"), each group in the order they were assigned.
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="recommendation",
        order_by="[Assignment.role.desc(), Assignment.id]",
        cascade="all, delete-orphan",
    )
    credits: Mapped[list[Credit]] = relationship(order_by="Credit.id", cascade="all, delete-orphan")


class Credit(Base):
    """A suggestion a recommendation came from: its suggester is credited (激励) and invited to
    evaluate the answer. `via` is `chosen` for a suggestion named by the organizer, `duplicate`
    for a near-duplicate of one (same idea, other words), `golden_idea` for its golden idea's."""

    __tablename__ = "recommendation_credits"
    __table_args__ = (UniqueConstraint("recommendation_id", "response_id", "question_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    via: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeadlinePolicy(Base):
    """A campaign's clocks in working days (e.g. accept within 2, reply within 15), the amber band
    before a deadline and the working days between two levels of the escalation ladder."""

    __tablename__ = "deadline_policies"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    accept_days: Mapped[int] = mapped_column(default=2)
    reply_days: Mapped[int] = mapped_column(default=15)
    co_reply_days: Mapped[int] = mapped_column(default=10)
    feedback_days: Mapped[int] = mapped_column(default=5)
    amber_days: Mapped[int] = mapped_column(default=3)
    ladder_days: Mapped[int] = mapped_column(default=3)
    #: Share of dissatisfied evaluations from which reopening (重办) is proposed.
    reopen_share: Mapped[float] = mapped_column(default=0.5)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LoopEvent(Base):
    """One step in a recommendation's own history: who did what in which role, from which state
    to which, the deadline in force at that moment, and whether the public may see it. Rates
    are computed from these rows, so the rates as of any past day can be computed again."""

    __tablename__ = "recommendation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation_assignments.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    deadline: Mapped[date | None]
    public: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Assignment(Base):
    """The recommendation handed to one department (交办) as lead (主办) or co-handler (协办)
    with its own task; it moves along `recommendations.handling.ASSIGNMENT_STEPS` only.

    `accept_due` is the acceptance clock (签收), `deadline` the reply clock (答复), both in working
    days from the campaign's `DeadlinePolicy`; `paused_on` is set while an extension is pending
    (the reply clock stops).
    """

    __tablename__ = "recommendation_assignments"
    __table_args__ = (UniqueConstraint("recommendation_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE")
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="lead", server_default="lead")
    task: Mapped[str] = mapped_column(Text, default="", server_default="")
    accept_due: Mapped[date | None]
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(30), default="submitted")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(default=0, server_default="0")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    extension_until: Mapped[date | None]
    paused_on: Mapped[date | None]
    reply: Mapped[str] = mapped_column(Text, default="", server_default="")
    replied_at: Mapped[datetime | None]
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
    keys of its files (`evidence/<assignment id>/<number>-<name>`); `number` is unique per
    assignment, so two updates posted at once never share a number or overwrite a file."""

    __tablename__ = "progress_updates"
    __table_args__ = (UniqueConstraint("assignment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_assignments.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(default=1, server_default="1")
    percent: Mapped[int | None]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    completes: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Escalation(Base):
    """One rung of the escalation ladder (督办) reached by an assignment's clock: level 0 is the
    reminder before the due day, 1 the handler at the breach, then the department head, the
    supervising office and leadership. Unique per assignment, clock, due day and level: once per
    level per breach, however often the beat job runs; a new due day (an extension) is a new
    breach. `notified_at` is set once the notices went out."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("assignment_id", "clock", "due_on", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_assignments.id", ondelete="CASCADE")
    )
    clock: Mapped[str] = mapped_column(String(20), default="reply", server_default="reply")
    due_on: Mapped[date | None]
    level: Mapped[int]
    on_day: Mapped[date]
    days_overdue: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    notified_to: Mapped[list[Any]] = mapped_column(default=list)

    assignment: Mapped[Assignment] = relationship()


class LadderContact(Base):
    """Who hears of an escalation at a level of the ladder: level 2 a department's head (named
    with the department), 3 the supervising office (督查室), 4 leadership (for every department
    when no department is named). Level 0 and 1 go to the department's own users."""

    __tablename__ = "ladder_contacts"
    __table_args__ = (UniqueConstraint("level", "department_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship()


class Notice(Base):
    """An in-app notice (站内提醒) for one user: a reminder or an escalation, with its link."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


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
