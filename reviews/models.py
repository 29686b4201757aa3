"""Expert review tables: who reviews which campaign, the round and its rubric, suggestions as
records, per-item assignments and their score versions, discussion, nominations by units, panel
votes and decisions, golden ideas and annotations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Scores and nominations point at responses and users: their tables must be in the metadata.
import campaigns.models  # noqa: F401
import forms.models  # noqa: F401
from minsheng.accounts.models import Department, User
from minsheng.db import Base, utcnow

#: A round is open (experts score and discuss), closed (scores final, the panel votes) or
#: decided (every decision recorded; reopening needs a recorded reason).
ROUND_STATES = ("open", "closed", "decided")
#: What happens to one expert's assignment to one suggestion (ReviewTask.status).
TASK_STATES = ("assigned", "submitted", "declined", "recused", "overdue", "conflict")
#: Tasks that count towards an item's k reviews (the others were handed on or never given).
ACTIVE_TASKS = ("assigned", "submitted")
#: The panel's outcomes for one suggestion (集中审).
OUTCOMES = ("golden_idea", "adopt", "reference", "not_adopted")


class ExpertAssignment(Base):
    """An invited expert advisor (特约建议人) asked to review one campaign."""

    __tablename__ = "expert_assignments"
    __table_args__ = (UniqueConstraint("campaign_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    expert: Mapped[User] = relationship(foreign_keys=[expert_id])


class ExpertProfile(Base):
    """Where an expert works and lives: conflicts of interest are judged on it (an expert does
    not review a suggestion from their own organisation or district)."""

    __tablename__ = "expert_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str] = mapped_column(String(120), default="")


class Rubric(Base):
    """One version of a campaign's scoring rubric. A version that a review used is never
    changed: editing makes the next version, which a round can adopt only before any score."""

    __tablename__ = "rubrics"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    criteria: Mapped[list[RubricCriterion]] = relationship(
        order_by="RubricCriterion.position", cascade="all, delete-orphan"
    )


class RubricCriterion(Base):
    """A criterion of a rubric: its weight in the total, an anchor text for every level of the
    1-5 scale (`anchors[0]` describes 1), and an optional gate: a score below `gate` excludes
    the suggestion whatever its total (authenticity 1 means there is no real problem)."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (UniqueConstraint("rubric_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[dict[str, Any]]
    weight: Mapped[float]
    gate: Mapped[int | None]
    anchors: Mapped[list[Any]]


class ReviewRound(Base):
    """The review of one campaign: its rubric, k reviews per suggestion, the caps and deadline
    of assignments and the quota of nominations per unit. Scores change only while it is open;
    closing freezes them for the panel (集中审). A campaign without a row has an open round."""

    __tablename__ = "review_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id"))
    reviews_per_item: Mapped[int] = mapped_column(default=3, server_default="3")
    max_per_expert: Mapped[int | None]
    working_days: Mapped[int] = mapped_column(default=10, server_default="10")
    nomination_quota: Mapped[int] = mapped_column(default=10, server_default="10")
    started_at: Mapped[datetime | None]

    rubric: Mapped[Rubric | None] = relationship()


class Suggestion(Base):
    """A suggestion under review (建议): one open-text answer, or a cluster of near duplicates
    of the same question, with its theme and masked text. Stored when the round starts, so the
    queues and pages never re-derive it from the responses."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_campaign_id_theme", "campaign_id", "theme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(String(80))
    n_sources: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sources: Mapped[list[SuggestionSource]] = relationship(
        order_by="SuggestionSource.response_id", cascade="all, delete-orphan"
    )


class SuggestionSource(Base):
    """A response whose answer is (part of) a suggestion: every suggester keeps the credit."""

    __tablename__ = "suggestion_sources"
    __table_args__ = (UniqueConstraint("response_id", "question_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))


class ReviewTask(Base):
    """One expert asked to review one suggestion, by a working-day deadline; declined, recused
    and overdue tasks keep their reason and are handed to another expert. A `conflict` task
    records that the expert was excluded and why."""

    __tablename__ = "review_tasks"
    __table_args__ = (
        UniqueConstraint("suggestion_id", "expert_id"),
        Index("ix_review_tasks_expert_id_status", "expert_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    reason: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None]
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    suggestion: Mapped[Suggestion] = relationship()
    expert: Mapped[User] = relationship()


class Review(Base):
    """One version of an expert's scores of a suggestion under the rubric version it used. A
    revision after discussion is a new row pointing at the one it revises; both are kept."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("task_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_tasks.id", ondelete="CASCADE"))
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"))
    version: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    scores: Mapped[dict[str, Any]]
    total: Mapped[float]
    gated: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rubric: Mapped[Rubric] = relationship()


class DiscussionPost(Base):
    """A message in a suggestion's discussion, open to its experts once they have scored."""

    __tablename__ = "discussion_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


class Annotation(Base):
    """An expert's (or organizer's) note on the results: a question, a crosstab cell, a theme,
    a suggestion or a report section (`target`), with the snapshot of the data it refers to.
    Organizers mark the notes the report includes."""

    __tablename__ = "annotations"
    __table_args__ = (Index("ix_annotations_campaign_id_question", "campaign_id", "question_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


class Nomination(Base):
    """A suggestion put forward by a unit (单位推): the organizers or a linked department, with
    the rationale. Experts never see who nominated."""

    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("suggestion_id", "unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    suggestion_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE")
    )
    # The first response of the suggestion (older nominations name only this).
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    #: `organizer` or the nominating department's code: the quota counts per unit.
    unit: Mapped[str] = mapped_column(String(60), default="organizer", server_default="organizer")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()


class GoldenIdea(Base):
    """A nominated suggestion the panel (集中审) chose as a golden idea (金点子), with the citation
    read out when it is recognised."""

    __tablename__ = "golden_ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), unique=True
    )
    citation: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    nomination: Mapped[Nomination] = relationship()
