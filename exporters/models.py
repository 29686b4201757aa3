"""Reports rendered and data exported for a campaign: what was asked for, its state, and the key
of its file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from minsheng.db import Base, utcnow

REPORT_KINDS = ("thematic_pdf",)
REPORT_AUDIENCES = ("staff", "department")
REPORT_STATUSES = ("queued", "running", "done", "failed")


class ProducedFile:
    """The columns of a row whose file a background job writes (`exporters.file_jobs`):
    `status` goes queued -> running -> done | failed; `file_key` (in the file store) is set once
    the file is complete, so a done row always has its file; `job_id` is the `Job` whose
    progress its page shows."""

    status: Mapped[str] = mapped_column(String(20), default="queued")
    file_key: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str] = mapped_column(String(1000), default="")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Report(ProducedFile, Base):
    """One requested report (专题报告) of a campaign.

    `status` goes queued -> running -> done | failed; `file_key` (in the file store) is set
    once the file is complete, so a done report always has its file. `job_id` points at the
    `Job` row whose progress the organizer page shows. `audience` "department" means small
    cells are suppressed.
    """

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_campaign_id_created_at", "campaign_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), default="thematic_pdf")
    audience: Mapped[str] = mapped_column(String(20), default="staff")
    language: Mapped[str] = mapped_column(String(10), default="zh_CN")

    campaign: Mapped[Campaign] = relationship()


class DataExport(ProducedFile, Base):
    """One data export of a campaign asked for on its Exports page.

    `format` is a name of `exporters.formats.FORMATS`; `labels` puts labels instead of codes;
    `raw` keeps free text unmasked (asked by an admin, audited). `status` goes queued -> running
    -> done | failed like a report's, and `file_key` is set once the file is whole in the store.
    """

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_campaign_id_created_at", "campaign_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(20))
    labels: Mapped[bool] = mapped_column(default=False)
    raw: Mapped[bool] = mapped_column(default=False)

    campaign: Mapped[Campaign] = relationship()
