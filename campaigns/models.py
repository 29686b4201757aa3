"""Campaigns (专项征集), their target groups, collection points and receiving departments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minsheng.accounts.models import Department, User
from minsheng.db import LOCAL_TIMEZONE, Base, utcnow
from questionnaire.schema import text_in

campaign_departments = Table(
    "campaign_departments",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id"), primary_key=True),
)

campaign_organizers = Table(
    "campaign_organizers",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class Campaign(Base):
    """A themed suggestion-collection campaign (专项征集), e.g. 交通出行 or 蓉漂.

    `status` moves through `campaigns.lifecycle.TRANSITIONS`. `settings` keeps the parts of the
    campaign file that later stages read (population margins, sampling design, report options).
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[dict[str, Any]]
    theme: Mapped[str] = mapped_column(String(80))
    description: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    anonymous: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    target_groups: Mapped[list[TargetGroup]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="TargetGroup.id",
    )
    collection_points: Mapped[list[CollectionPoint]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="CollectionPoint.id",
    )
    departments: Mapped[list[Department]] = relationship(secondary=campaign_departments)
    # The organizer who owns the campaign and those sharing its work (`campaigns.access`); a
    # campaign without an owner (made before owners existed) is open to every organizer.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    co_organizers: Mapped[list[User]] = relationship(secondary=campaign_organizers)

    def title_in(self, language: str) -> str:
        """The title in `language` (`zh_CN` matches `zh`), else in Chinese, else in any language
        the campaign file gave it: what every page, message, poster and report shows."""
        return text_in(self.title, language, "zh")

    @property
    def timezone(self) -> str:
        """The zone its dates and times are told in (reports, exports): the campaign file's
        ``settings.timezone`` (checked when the file is read), else the app's `LOCAL_TIMEZONE`."""
        zone = (self.settings or {}).get("timezone") if isinstance(self.settings, dict) else None
        return zone if isinstance(zone, str) and zone else LOCAL_TIMEZONE


class TargetGroup(Base):
    """A group the campaign addresses (目标群体), e.g. 社区居民 or 蓉漂青年."""

    __tablename__ = "target_groups"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[dict[str, Any]]
    description: Mapped[str] = mapped_column(Text, default="")

    campaign: Mapped[Campaign] = relationship(back_populates="target_groups")


class CollectionPoint(Base):
    """An offline collection point (征集点位) with its own QR code; its responses are attributed
    to it."""

    __tablename__ = "collection_points"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")

    campaign: Mapped[Campaign] = relationship(back_populates="collection_points")
