"""Questionnaires, their immutable versions, responses and drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
    """One published definition (`forms.schema.form_to_dict`); immutable once it has responses."""

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
