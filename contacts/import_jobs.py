"""Importing a contact file in the background: the upload is stored encrypted, a Celery task
(`contacts.import_contacts`) imports it and reports progress in a `minsheng.jobs.Job` row
that the organizer's page polls. Running the task again after a crash imports the file once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import shared_task
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from contacts.access import uses_list
from contacts.files import check_contact_file
from contacts.lists import import_contacts
from contacts.models import ContactList, ContactUpload
from contacts.pii import PIIKeys, current_keys, decrypt_bytes, encrypt_bytes
from minsheng.audit import record
from minsheng.db import get_database, get_session
from minsheng.errors import InputError
from minsheng.jobs import (
    DATABASE_RETRY,
    Job,
    JobKind,
    claim_job,
    enqueue_after_commit,
    register_job_kind,
    update_job,
)

JOB_KIND = "contacts.import"


def start_import(
    session: Session,
    contact_list: ContactList,
    data: bytes,
    filename: str,
    required: Sequence[str] = (),
    keys: PIIKeys | None = None,
    actor_id: int | None = None,
) -> Job:
    """Queue the import of `data` into `contact_list`; the task starts once the caller commits.

    With no broker (the embedded default) the task runs in-process at that commit. A file past
    the size limits (`contacts.files.check_contact_file`) is refused here, before it is stored.
    """
    check_contact_file(data, filename)
    job = Job(kind=JOB_KIND, target=f"contact_list:{contact_list.id}", message=filename[:500])
    session.add(job)
    session.flush()
    session.add(
        ContactUpload(
            list_id=contact_list.id,
            job_id=job.id,
            filename=filename[:255],
            required=list(required),
            data_enc=encrypt_bytes(keys or current_keys(), data),
        )
    )
    session.flush()
    # Who uploaded is recorded here; what the file added is recorded by the import itself.
    record(
        session,
        actor_id,
        "contacts.upload",
        "contact_list",
        contact_list.id,
        file=filename,
        job=job.id,
    )
    enqueue_after_commit(session, import_contacts_task.s(job.id), job=job)
    return job


@shared_task(name="contacts.import_contacts", acks_late=True, **DATABASE_RETRY)
def import_contacts_task(job_id: int) -> None:
    run_import(get_session(), job_id)


def run_import(session: Session, job_id: int) -> None:
    """Import the upload of job `job_id` and commit; a job whose upload is gone is finished.

    The import and the upload's deletion commit together, so a worker dying mid-way leaves the
    upload for the retried task and nothing half-imported.
    """
    upload = session.scalar(select(ContactUpload).where(ContactUpload.job_id == job_id))
    if upload is None:
        return
    # One worker at a time holds the job; a finished one, or one held elsewhere, is left alone.
    job = claim_job(session, job_id)
    session.commit()
    if job is None:
        return
    contact_list = session.get(ContactList, upload.list_id)
    assert contact_list is not None  # the upload cascades with its list
    reporter = _ProgressReporter(session, job_id)
    reporter(0.0, "started")
    try:
        result = import_contacts(
            session,
            contact_list,
            decrypt_bytes(current_keys(), upload.data_enc),
            upload.filename,
            [str(a) for a in upload.required],
            progress=reporter,
        )
    except InputError as exc:
        session.rollback()
        job = session.get(Job, job_id)
        assert job is not None
        upload = session.scalar(select(ContactUpload).where(ContactUpload.job_id == job_id))
        if upload is not None:
            session.delete(upload)
        problems = [{"location": p.location, "message": p.message} for p in exc.problems]
        update_job(session, job, state="failed", message=str(exc), result={"problems": problems})
        session.commit()
        return
    assert result.record is not None
    session.delete(upload)
    update_job(
        session,
        job,
        state="done",
        progress=1.0,
        message=f"{result.imported} imported, {result.skipped} skipped",
        result={
            "import_id": result.record.id,
            "imported": result.imported,
            "skipped": result.skipped,
        },
    )
    session.commit()


class _ProgressReporter:
    """Writes progress through a session of its own, so the page sees it while the import's
    transaction is still open. SQLite allows one writer at a time, so there the import runs
    without intermediate progress (it is the embedded, in-process setting anyway)."""

    def __init__(self, session: Session, job_id: int) -> None:
        self.job_id = job_id
        self.enabled = session.get_bind().dialect.name != "sqlite"

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        own = get_database().session_factory()
        try:
            job = own.get(Job, self.job_id)
            if job is not None:
                update_job(own, job, state="running", progress=fraction, message=message)
                own.commit()
        except SQLAlchemyError:
            # Progress is a courtesy; never let it fail the import.
            own.rollback()
        finally:
            own.close()


def _import_page(session: Session, job: Job) -> str:
    from flask import url_for

    return url_for("contacts.import_job", job_id=job.id)


def _upload_left(session: Session, job: Job) -> bool:
    # A refused file is deleted with the failure; only an import whose worker died keeps it.
    return (
        session.scalar(select(ContactUpload.id).where(ContactUpload.job_id == job.id)) is not None
    )


def _import_allows(session: Session, job: Job, user: Any) -> bool:
    """An import's job is followed by whoever may use its list (`contacts.access`)."""
    contact_list = session.get(ContactList, int(job.target.removeprefix("contact_list:")))
    return contact_list is not None and uses_list(user, contact_list)


register_job_kind(
    JOB_KIND, JobKind(page=_import_page, can_retry=_upload_left, allows=_import_allows)
)
