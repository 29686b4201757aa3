"""Report requests and their production: a `Report` row with a `Job` for progress is created when
someone asks, and `produce_report` renders it once, whoever runs it (worker, eager task, command).
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.access import runs
from campaigns.models import Campaign
from exporters.errors import ExportError
from exporters.file_jobs import claim_row_job, register_file_job_kind, stored_file
from exporters.models import REPORT_AUDIENCES, Report
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from minsheng.files import file_store
from minsheng.jobs import Job, update_job

if TYPE_CHECKING:
    from exporters.pdf_report import Progress

JOB_KIND = "exporters.render_report"


def request_report(
    session: Session,
    campaign: Campaign,
    *,
    audience: str = "staff",
    language: str | None = None,
    actor_id: int | None = None,
) -> Report:
    """Add a queued thematic report of `campaign` and the job that tracks it; the caller commits
    and then enqueues `exporters.render_report` with the report's id."""
    if audience not in REPORT_AUDIENCES:
        raise InputError(
            [
                Problem(
                    "audience",
                    f"unknown audience {audience!r}; expected one of {', '.join(REPORT_AUDIENCES)}",
                )
            ]
        )
    job = Job(kind=JOB_KIND, target=f"campaign:{campaign.slug}", state="queued", progress=0.0)
    session.add(job)
    session.flush()
    report = Report(
        campaign_id=campaign.id,
        kind="thematic_pdf",
        audience=audience,
        language=language or str(current_app.config["DEFAULT_LOCALE"]),
        status="queued",
        job_id=job.id,
        requested_by_id=actor_id,
    )
    session.add(report)
    session.flush()
    record(session, actor_id, "report.request", "report", report.id, campaign=campaign.slug)
    return report


def report_key(report: Report) -> str:
    """The file store key of the report's PDF: `reports/<campaign slug>/<report id>.pdf`."""
    return f"reports/{report.campaign.slug}/{report.id}.pdf"


def report_download_name(report: Report) -> str:
    """The file name a download of the report is saved under."""
    return f"{report.campaign.slug}-report-{report.id}.pdf"


def report_file(report: Report) -> str | None:
    """The file store key of the finished file of `report`, or None while it is not done (or
    the file is gone from the store)."""
    return stored_file(report)


def mark_running(session: Session, report: Report) -> Job | None:
    """Claim the report's job for this worker (it holds a lease while rendering) and show the
    report running; None when the job is finished or another worker holds it."""
    return claim_row_job(session, report, 0.05)


register_file_job_kind(
    JOB_KIND,
    Report,
    "exporters.campaign_report_list",
    lambda user, report: runs(user, report.campaign),
)


def produce_report(
    session: Session,
    report: Report,
    progress: Progress | None = None,
) -> str | None:
    """Render `report` into the file store unless it is already done; return its key, or None
    if rendering failed.

    Idempotent: a report whose file is stored is returned as is, so a task delivered twice
    (acks_late after a worker crash) never renders a second file. A failure the operator must fix
    (missing font, no questionnaire) marks the report and its job failed with the reason. The
    caller commits either way.
    """
    done = report_file(report)
    if done is not None:
        return done
    # The task and the command mark the report running and commit before rendering, so the page
    # shows it; marking it again here would start its job's progress over.
    if report.status == "running":
        job = session.get(Job, report.job_id) if report.job_id else None
    else:
        job = mark_running(session, report)
    # WeasyPrint, matplotlib and the statistics load where a report is rendered, not in every
    # process that can request one (issue 10).
    from exporters.pdf_report import render_campaign_report

    key = report_key(report)
    try:
        with tempfile.TemporaryDirectory(prefix="minsheng-report-") as folder:
            path = render_campaign_report(
                session,
                report.campaign,
                folder,
                audience=report.audience,
                filename=report_download_name(report),
                language=report.language,
                progress=progress,
                version=str(report_version(session, report)),
                viewer=session.get(User, report.requested_by_id)
                if report.requested_by_id
                else None,
            )
            with path.open("rb") as pdf:
                file_store().put(key, pdf)
    except (ExportError, InputError) as exc:  # analysis errors are InputErrors too
        report.status = "failed"
        report.error = str(exc)[:1000]
        report.finished_at = utcnow()
        if job is not None:
            update_job(session, job, state="failed", message=str(exc))
        return None
    report.status = "done"
    report.file_key = key
    report.finished_at = utcnow()
    if job is not None:
        update_job(session, job, state="done", progress=1.0, message="", result={"key": key})
    return key


def report_version(session: Session, report: Report) -> int:
    """The report's number among its campaign's reports for the same audience, oldest first:
    the version its cover and metadata carry."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Report)
            .where(
                Report.campaign_id == report.campaign_id,
                Report.audience == report.audience,
                Report.id <= report.id,
            )
        )
        or 1
    )


def campaign_reports(session: Session, campaign: Campaign) -> list[Report]:
    """The campaign's reports, newest first."""
    return list(
        session.scalars(
            select(Report)
            .where(Report.campaign_id == campaign.id)
            .order_by(Report.created_at.desc(), Report.id.desc())
        )
    )
