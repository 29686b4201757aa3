"""What reports and data exports share: a row (`Report`, `DataExport`) whose file a background
job writes into the file store once. Its job is claimed with a lease, a job that fails for good
marks the row failed, a retry queues it again, and the job's page is the campaign's list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from minsheng.db import utcnow
from minsheng.files import file_store
from minsheng.jobs import (
    Job,
    JobKind,
    claim_job,
    lease_heartbeat,
    register_job_kind,
    update_job,
)


class FileRow(Protocol):
    """A row whose file a job writes: queued -> running -> done | failed."""

    status: str
    error: str
    file_key: str | None
    job_id: int | None
    finished_at: Any


def stored_file(row: FileRow) -> str | None:
    """The file store key of the row's finished file, or None while it is not done (or the
    file is gone from the store)."""
    if row.status == "done" and row.file_key and file_store().exists(row.file_key):
        return row.file_key
    return None


def claim_row_job(session: Session, row: FileRow, progress: float) -> Job | None:
    """Claim the row's job for this worker (`claim_job`: a lease while it writes) and show the
    row running; the caller commits so the page can see it. None when the job is finished or
    another worker holds it: a message delivered twice writes once."""
    job = claim_job(session, row.job_id) if row.job_id else None
    if job is None:
        return None
    row.status, row.error = "running", ""
    update_job(session, job, progress=progress)
    return job


def register_file_job_kind(
    kind: str, model: Any, endpoint: str, allows: Callable[[Any, Any], bool]
) -> None:
    """Declare the job kind whose jobs write `model` rows: a job that failed for good shows
    why on its row, a retry queues the row again, `endpoint` (taking the campaign's `slug`) is
    the page where it is followed, and `allows(user, row)` says who may follow and retry it."""

    def row_of(session: Session, job: Job) -> Any:
        return session.scalar(select(model).where(model.job_id == job.id))

    def failed(session: Session, job: Job) -> None:
        row = row_of(session, job)
        if row is not None and row.status != "done":
            row.status, row.error, row.finished_at = "failed", job.message[:1000], utcnow()

    def retried(session: Session, job: Job) -> None:
        row = row_of(session, job)
        if row is not None:
            row.status, row.error, row.finished_at = "queued", "", None

    def page(session: Session, job: Job) -> str:
        from flask import url_for

        row = row_of(session, job)
        slug = row.campaign.slug if row is not None else job.target.removeprefix("campaign:")
        return url_for(endpoint, slug=slug)

    def followed_by(session: Session, job: Job, user: Any) -> bool:
        row = row_of(session, job)
        return row is not None and allows(user, row)

    register_job_kind(
        kind, JobKind(page=page, on_failed=failed, on_retry=retried, allows=followed_by)
    )


def write_once(
    session: Session,
    row: FileRow,
    claim: Callable[[Session, Any], Job | None],
    produce: Callable[[Job], str | None],
) -> str | None:
    """What a task does with a row: its stored file if it is done; else claim its job (None:
    finished, or another worker holds it), commit so the page shows it running, `produce` the
    file and commit. The lease beats while it works, so a long step that reports no progress (a
    big PDF's layout) is not taken for a dead worker. Returns the file's key, or None."""
    done = stored_file(row)
    if done is not None:
        return done
    job = claim(session, row)
    session.commit()
    if job is None:
        return None
    with lease_heartbeat(session, job.id):
        key = produce(job)
        session.commit()
    return key
