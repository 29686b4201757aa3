"""Celery tasks of the exporters (queue `reports`): thin wrappers around `exporters.reports`
and `exporters.export_requests`."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from sqlalchemy.orm import Session

from exporters.export_requests import mark_export_running, produce_export
from exporters.file_jobs import write_once
from exporters.models import DataExport, Report
from exporters.reports import mark_running, produce_report
from minsheng.db import get_session
from minsheng.jobs import DATABASE_RETRY, Job, enqueue_after_commit, update_job


@shared_task(
    name="exporters.render_report",
    bind=True,
    # Safe to redeliver after a worker crash: `produce_report` skips a report that is done, and
    # `mark_running` lets one worker at a time hold the report's job.
    acks_late=True,
    **DATABASE_RETRY,
)
def render_report(self: Task[Any, Any], report_id: int) -> str | None:
    """Render the report `report_id`; return the PDF's file store key, or None if it failed or
    is gone.

    Progress and failures are visible on the report's `Job` row; a failure that only the
    operator can fix (missing CJK font) is recorded there rather than retried.
    """
    session = get_session()
    report = session.get(Report, report_id)
    if report is None:
        return None

    def render(job: Job) -> str | None:
        def progress(fraction: float, step: str) -> None:
            update_job(session, job, progress=fraction, message=step)
            session.commit()

        return produce_report(session, report, progress=progress)

    return write_once(session, report, mark_running, render)


def queue_report(session: Session, report: Report) -> None:
    """Render `report` once the caller commits: in-process in the embedded default, on the
    `reports` queue with a broker; through the outbox, so a lost send or a dead worker is
    recovered by the beat tasks of `minsheng.jobs`."""
    job = session.get(Job, report.job_id) if report.job_id else None
    enqueue_after_commit(session, render_report.s(report.id), job=job)


@shared_task(
    name="exporters.export_responses",
    bind=True,
    # Safe to redeliver: `produce_export` skips an export whose file is stored, and the job's
    # lease lets one worker at a time write it.
    acks_late=True,
    **DATABASE_RETRY,
)
def export_responses(self: Task[Any, Any], export_id: int) -> str | None:
    """Write the data export `export_id` into the file store; return its key, or None if it
    failed or is gone. Progress and failures are on the export's `Job` row."""
    session = get_session()
    export = session.get(DataExport, export_id)
    if export is None:
        return None
    return write_once(
        session, export, mark_export_running, lambda job: produce_export(session, export, job)
    )


def queue_export(session: Session, export: DataExport) -> None:
    """Write `export` once the caller commits (in-process in the embedded default, on the
    `reports` queue with a broker), through the outbox like a report."""
    job = session.get(Job, export.job_id) if export.job_id else None
    enqueue_after_commit(session, export_responses.s(export.id), job=job)
