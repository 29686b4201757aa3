"""Celery tasks of the exporters (queue `reports`): thin wrappers around `exporters.reports`."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from sqlalchemy.orm import Session

from exporters.models import Report
from exporters.reports import mark_running, produce_report, report_file
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
    done = report_file(report)
    if done is not None:
        return done
    job = mark_running(session, report)
    session.commit()
    if job is None:
        return None  # finished, or another worker is rendering it

    def progress(fraction: float, step: str) -> None:
        if job is not None:
            update_job(session, job, progress=fraction, message=step)
            session.commit()

    key = produce_report(session, report, progress=progress)
    session.commit()
    return key


def queue_report(session: Session, report: Report) -> None:
    """Render `report` once the caller commits: in-process in the embedded default, on the
    `reports` queue with a broker; through the outbox, so a lost send or a dead worker is
    recovered by the beat tasks of `minsheng.jobs`."""
    job = session.get(Job, report.job_id) if report.job_id else None
    enqueue_after_commit(session, render_report.s(report.id), job=job)
