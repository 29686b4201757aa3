"""Data exports asked for on a campaign's Exports page: a `DataExport` row with a `Job` for
progress is created when someone asks, and `produce_export` writes its file into the file store
once, whoever runs it (a worker, the eager task of the embedded default).

Who may have what: organizers of the campaign (and admins) every format; department users
linked to it only the anonymised, suppressed formats; the raw file (free text unmasked) only an
admin, and asking for it is audited apart from the download.
"""

from __future__ import annotations

import tempfile
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.access import runs_or_receives
from campaigns.models import Campaign
from exporters.errors import ExportError
from exporters.file_jobs import claim_row_job, register_file_job_kind, stored_file
from exporters.models import DataExport
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from minsheng.files import file_store
from minsheng.jobs import Job, update_job

JOB_KIND = "exporters.export_responses"


def formats_for(role: str) -> list[str]:
    """The export formats a user of `role` may ask for and download."""
    from exporters.formats import FORMATS

    if role == "department":
        return [name for name, f in FORMATS.items() if f.anonymised]
    return list(FORMATS)


def may_download(role: str, export: DataExport) -> bool:
    """Whether a user of `role` (already let into the campaign) may download `export`."""
    if export.raw and role != "admin":
        return False
    return export.format in formats_for(role)


def request_export(
    session: Session,
    campaign: Campaign,
    fmt: str,
    *,
    role: str,
    labels: bool = False,
    raw: bool = False,
    actor_id: int | None = None,
) -> DataExport:
    """Add a queued export of `campaign` and the job that tracks it; the caller commits and then
    enqueues `exporters.export_responses`. A format or option the role may not have is an
    `InputError` naming it."""
    allowed = formats_for(role)
    problems = []
    if fmt not in allowed:
        problems.append(
            Problem(
                "format",
                f"format {fmt!r} is not offered to you; expected one of {', '.join(allowed)}",
            )
        )
    if raw and role != "admin":
        problems.append(Problem("raw", "only an administrator may export unmasked free text"))
    if problems:
        raise InputError(problems)
    job = Job(kind=JOB_KIND, target=f"campaign:{campaign.slug}", state="queued", progress=0.0)
    session.add(job)
    session.flush()
    export = DataExport(
        campaign_id=campaign.id,
        format=fmt,
        labels=labels,
        raw=raw,
        status="queued",
        job_id=job.id,
        requested_by_id=actor_id,
    )
    session.add(export)
    session.flush()
    details: dict[str, Any] = {"campaign": campaign.slug, "format": fmt, "labels": labels}
    record(session, actor_id, "export.request", "export", export.id, **details, raw=raw)
    if raw:
        # Unmasked text leaves the app only this way: its own event, besides the download's.
        record(session, actor_id, "export.raw", "export", export.id, **details)
    return export


def export_suffix(export: DataExport) -> str:
    from exporters.formats import FORMATS

    return FORMATS[export.format].suffix


def export_key(export: DataExport) -> str:
    """The file store key: `exports/<campaign slug>/<export id>.<suffix>`."""
    return f"exports/{export.campaign.slug}/{export.id}.{export_suffix(export)}"


def export_download_name(export: DataExport) -> str:
    """The file name a download is saved under, e.g. `transport-2026-export-3-sav.sav`."""
    fmt = export.format + ("-raw" if export.raw else "")
    return f"{export.campaign.slug}-export-{export.id}-{fmt}.{export_suffix(export)}"


def export_file(export: DataExport) -> str | None:
    """The key of the finished file, or None while it is not done (or gone from the store)."""
    return stored_file(export)


def mark_export_running(session: Session, export: DataExport) -> Job | None:
    """Claim the export's job for this worker (it holds a lease while writing) and show the
    export running; None when it is finished or another worker holds it. The caller commits."""
    return claim_row_job(session, export, 0.02)


register_file_job_kind(
    JOB_KIND,
    DataExport,
    "exporters.campaign_exports",
    lambda user, export: runs_or_receives(user, export.campaign),
)


def produce_export(session: Session, export: DataExport, job: Job | None) -> str | None:
    """Write `export` into the file store unless it is done; return its key, or None if it
    failed (the reason on the export and its job). Idempotent: a task delivered twice writes
    one file. The file is written to a temporary file first and stored whole. The caller
    commits."""
    from exporters.exports import ExportOptions
    from exporters.formats import write_export

    done = export_file(export)
    if done is not None:
        return done

    def progress(fraction: float) -> None:
        if job is not None:
            update_job(session, job, progress=0.02 + 0.9 * fraction, message="writing")
            session.commit()

    key = export_key(export)
    options = ExportOptions(labels=export.labels, raw=export.raw)
    try:
        with tempfile.TemporaryFile(prefix="minsheng-export-") as written:
            write_export(session, export.campaign, export.format, written, options, progress)
            written.seek(0)
            file_store().put(key, written)
    except (ExportError, InputError) as exc:  # no questionnaire, missing CJK font, bad margins
        export.status, export.error, export.finished_at = "failed", str(exc)[:1000], utcnow()
        if job is not None:
            update_job(session, job, state="failed", message=str(exc))
        return None
    export.status, export.file_key, export.finished_at = "done", key, utcnow()
    if job is not None:
        update_job(session, job, state="done", progress=1.0, message="", result={"key": key})
    return key


def campaign_exports(session: Session, campaign: Campaign, role: str) -> list[DataExport]:
    """The campaign's exports a user of `role` may see (departments: the anonymised ones),
    newest first."""
    query = (
        select(DataExport)
        .where(DataExport.campaign_id == campaign.id)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
    )
    if role == "department":
        query = query.where(DataExport.format.in_(formats_for(role)))
    return list(session.scalars(query))
