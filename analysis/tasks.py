"""Celery tasks of the analysis: a campaign summary computed in the background, with progress in
a `minsheng.jobs.Job` row that pages can poll."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from campaigns.access import sees_results
from campaigns.models import Campaign
from campaigns.store import get_campaign
from minsheng.db import get_session
from minsheng.jobs import (
    DATABASE_RETRY,
    Job,
    JobKind,
    claim_job,
    enqueue_after_commit,
    lease_heartbeat,
    register_job_kind,
    update_job,
)

JOB_KIND = "analysis.summarize_campaign"
_log = logging.getLogger(__name__)


def request_summary(session: Session, campaign: Campaign, segments: list[str]) -> Job:
    """Add a queued summary job and enqueue its task for after the caller's commit.

    Unknown segments are refused here (an `AnalysisError`), not found failed minutes later."""
    from analysis.frames import check_segments
    from analysis.loading import campaign_form

    check_segments(campaign_form(session, campaign), segments)
    job = Job(kind=JOB_KIND, target=campaign.slug, result={"segments": segments})
    session.add(job)
    session.flush()
    enqueue_after_commit(session, summarize_campaign.s(campaign.id, job.id, segments), job=job)
    return job


@shared_task(name=JOB_KIND, acks_late=True, **DATABASE_RETRY)
def summarize_campaign(campaign_id: int, job_id: int, segments: list[str] | None = None) -> None:
    """Summarise the campaign into ``job.result``; progress is committed as it goes.

    Idempotent: a job already done, or running in another worker, is left alone.
    """
    # The statistics are imported by the worker that runs the task, not by every web process
    # that registers it (issue 10).
    from analysis.snapshots import snapshot_root
    from analysis.summary import summarize

    session = get_session()
    # One worker at a time holds the job (a lease its progress renews); a finished job, or one
    # another worker holds, is left alone, so a redelivered message does no work twice.
    job = claim_job(session, job_id, message="reading responses")
    session.commit()
    if job is None:
        return
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        update_job(session, job, state="failed", message=f"campaign {campaign_id} is gone")
        session.commit()
        return

    def progress(done: float, what: str) -> None:
        update_job(session, job, progress=done, message=what)
        session.commit()

    try:
        with lease_heartbeat(session, job.id):
            summary = summarize(
                session,
                campaign,
                segments=tuple(segments or ()),
                progress=progress,
                snapshot_root=snapshot_root(),
            )
    except (OperationalError, InterfaceError):
        # The database went away: Celery retries with backoff (`DATABASE_RETRY`), and once this
        # job's lease runs out a retry claims it again (or the reaper queues it), so it is
        # neither failed for a passing outage nor left running.
        session.rollback()
        raise
    except Exception as exc:
        # Anything else will not mend itself: the job says why, and the results page offers a
        # retry. Not raised, so the embedded default's request that queued it still answers.
        _log.exception("summary job %s of campaign %s failed", job.id, campaign.slug)
        session.rollback()
        update_job(session, job, state="failed", message=f"{type(exc).__name__}: {exc}")
        session.commit()
        return
    update_job(session, job, state="done", progress=1.0, message="", result=summary.to_dict())
    session.commit()


def summary_jobs(session: Session, campaign: Campaign, limit: int = 5) -> list[Job]:
    """The campaign's latest background summaries, newest first (the results page lists them
    with their state, why one failed and its retry button)."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.kind == JOB_KIND, Job.target == campaign.slug)
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )


def summary_job(session: Session, campaign: Campaign, job_id: int) -> Job | None:
    """Job `job_id` when it is a summary of `campaign`, else None (another campaign's job is
    not found through this one's URL)."""
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND or job.target != campaign.slug:
        return None
    return job


def _results_page(session: Session, job: Job) -> str:
    from flask import url_for

    return url_for("analysis.campaign_results", slug=job.target)


def _summary_allows(session: Session, job: Job, user: Any) -> bool:
    """A summary's job is followed by whoever may read its campaign's results."""
    campaign = get_campaign(session, job.target)
    return campaign is not None and sees_results(user, campaign)


register_job_kind(JOB_KIND, JobKind(page=_results_page, allows=_summary_allows))
