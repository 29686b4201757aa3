"""Expert review tables: who reviews which campaign, the review round, annotations on results,
rubric scores of suggestions, nominations and golden ideas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Scores and nominations point at responses and users: their tables must be in the metadata.
import campaigns.models  # noqa: F401
import forms.models  # noqa: F401
from minsheng.accounts.models import User
from minsheng.db import Base, utcnow

#: The rubric of a suggestion (Xuzhou's screening): authenticity of the problem (问题真实性),
#: certainty of its cause (原因确定性), feasibility of the remedy (对策可行性).
CRITERIA = ("authenticity", "cause", "feasibility")
SCORE_MIN, SCORE_MAX = 1, 5
ROUND_STATES = ("open", "closed")


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


class ReviewRound(Base):
    """The review of one campaign: scores can be changed while it is open; closing it freezes
    them for the panel decision (集中审). A campaign without a row has an open round."""

    __tablename__ = "review_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Annotation(Base):
    """An expert's (or organizer's) note on the results of one question, shown to organizers and
    in the report."""

    __tablename__ = "annotations"
    __table_args__ = (Index("ix_annotations_campaign_id_question", "campaign_id", "question_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


class SuggestionScore(Base):
    """One expert's rubric score of one suggestion (the open-text answer `question_name` of a
    response): each criterion 1-5, plus a comment. One row per expert and suggestion."""

    __tablename__ = "suggestion_scores"
    __table_args__ = (UniqueConstraint("response_id", "question_name", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    authenticity: Mapped[int]
    cause: Mapped[int]
    feasibility: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Nomination(Base):
    """A suggestion put forward by the organizing unit (单位推) as a golden-idea candidate."""

    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("response_id", "question_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_name: Mapped[str] = mapped_column(String(120))
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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

    nomination: Mapped[Nomination] = relationship()
