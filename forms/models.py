"""Questionnaires, their immutable versions, responses and drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

# Responses and drafts point at invitations and collection points: their tables must be in the
# metadata whenever these models are used (a web worker imports no other models by itself).
import campaigns.models  # noqa: F401
import invitations.models  # noqa: F401
from minsheng.db import Base, utcnow


class Questionnaire(Base):
    """The questionnaire of one campaign; its content lives in versions, the highest number being
    the current one."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )


class QuestionnaireVersion(Base):
    """One published definition (`questionnaire.schema.form_to_dict`); immutable once it has
    responses."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    definition: Mapped[dict[str, Any]]
    checksum: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class Response(Base):
    """One submitted questionnaire. `submission_id` (chosen by the client) makes retries safe;
    `invitation_id` is unique, so an invitation gives at most one response."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("campaign_id", "submission_id"),
        Index("ix_responses_campaign_id_id", "campaign_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    submission_id: Mapped[str] = mapped_column(String(64))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    collection_point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_points.id"))
    target_group_id: Mapped[int | None] = mapped_column(ForeignKey("target_groups.id"))
    language: Mapped[str] = mapped_column(String(10), default="zh_CN")
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_seconds: Mapped[float | None]
    answers: Mapped[dict[str, Any]]
    # Where it came from, for the quality screen (issue 11), never the address itself: a keyed
    # hash of it that changes every day (`forms.origin`), the fingerprint of the normalised
    # answers, and whether the page's honeypot field came back filled (a bot, thanked alike).
    address_hash: Mapped[str | None] = mapped_column(String(32))
    answers_fingerprint: Mapped[str | None] = mapped_column(String(32))
    honeypot: Mapped[bool] = mapped_column(default=False, server_default=false())


class Draft(Base):
    """A questionnaire in progress (草稿): the answers so far and the page reached, saved on every
    page turn. It is found again by its invitation (the same link) or, on a public link, by a
    resume code shown to the respondent; only `sha256(code)` is stored, like invitation tokens.

    The draft keeps the version it started on, so a questionnaire published mid-way never changes
    the questions under a respondent's feet; `submission_id` is fixed when the draft is created,
    so the final submit is idempotent however often it is retried.
    """

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_versions.id", ondelete="CASCADE")
    )
    resume_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    submission_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    collection_point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_points.id"))
    language: Mapped[str] = mapped_column(String(10), default="zh_CN")
    page: Mapped[int] = mapped_column(default=0)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"))
