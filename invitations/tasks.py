"""Celery tasks of the invitations (queue `invitations`): thin wrappers around
`invitations.sending`. Both are safe to run again: a step that has a row is never re-sent."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from contacts.pii import current_keys
from invitations.channels import channel_from_config
from invitations.models import Invitation
from invitations.ratelimits import rate_limiter
from invitations.send_runs import SendRun, add_batch_jobs, finish_batch, plan_send_run
from invitations.sending import (
    MAX_ATTEMPTS,
    SendContext,
    channel_rate,
    give_up,
    resolve_abandoned,
    resolve_stale,
    retry_delay,
    send_batch,
)
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.jobs import (
    DATABASE_RETRY,
    Job,
    claim_job,
    enqueue_after_commit,
    heartbeat_commit,
    update_job,
)

_log = logging.getLogger(__name__)


def send_context(campaign: Campaign, channel: str) -> SendContext:
    """The channel, shared rate limiter and link settings from the app's configuration."""
    config = current_app.config
    return SendContext(
        channel=channel_from_config(channel, config),
        limiter=rate_limiter(str(config["BROKER_URL"]), channel, channel_rate(campaign, channel)),
        base_url=str(config["BASE_URL"]),
        secret=str(config["SECRET_KEY"]),
        keys=current_keys(),
    )


@shared_task(
    name="invitations.send_batch",
    bind=True,
    # Safe to run again (a step with a row is skipped), so a lost database connection or a busy
    # SQLite file is retried with the whole batch.
    acks_late=True,
    **DATABASE_RETRY,
)
def send_batch_task(
    self: Task[Any, Any],
    invitation_ids: list[int],
    step: int,
    channel: str,
    job_id: int | None = None,
) -> dict[str, int]:
    """Send step `step` to these invitations; temporary failures come back as a retry of this
    task with only the invitations concerned, after a growing delay.

    With `job_id` (a batch of a send run) the worker holds the batch's job with a lease its
    commits renew; a batch already done, or held by a live worker, is left alone, and a batch
    taken over from a dead worker first settles the step that worker had in flight.
    """
    session = get_session()
    job: Job | None = None
    if job_id is not None:
        job = claim_job(session, job_id, message="sending")
        session.commit()
        if job is None:
            return {"sent": 0}
        if job.attempts > 1:
            resolve_abandoned(session, invitation_ids, step)
            session.commit()
    first = session.scalar(select(Invitation.campaign_id).where(Invitation.id.in_(invitation_ids)))
    campaign = session.get(Campaign, first) if first is not None else None
    commit = heartbeat_commit(session, job_id) if job_id is not None else session.commit
    result = (
        send_batch(session, send_context(campaign, channel), invitation_ids, step, commit=commit)
        if campaign is not None
        else None
    )
    if result is not None and result.retry:
        if self.request.retries < MAX_ATTEMPTS:
            if job is not None:  # the retry claims it again, whoever runs it
                update_job(session, job, state="queued", message="waiting to retry")
                session.commit()
            raise self.retry(
                args=(result.retry, step, channel, job_id),
                countdown=retry_delay(self.request.retries, result.retry_after),
            )
        give_up(session, result.retry, step)
        session.commit()
    counts = {
        "sent": result.sent if result else 0,
        "bounced": result.bounced if result else 0,
        "failed": result.failed if result else 0,
    }
    if job is not None:
        finish_batch(session, job, counts)
        session.commit()
    return counts


def queue_send_run(session: Session, run: SendRun | None) -> Job | None:
    """Queue a planned run's batches, each with its job, once the caller commits (the embedded
    default runs them at that commit); the run's job, or None when there was nothing to send."""
    if run is None:
        return None
    for job, (name, step, ids) in zip(add_batch_jobs(session, run), run.batches, strict=True):
        enqueue_after_commit(session, send_batch_task.s(ids, step, name, job.id), job=job)
    return run.job


@shared_task(name="invitations.send_reminders", acks_late=True, **DATABASE_RETRY)
def send_reminders_task(campaign_slug: str | None = None) -> int:
    """Beat job: mark steps of dead workers `uncertain`, then queue the reminders that are due
    (for one campaign, or every open one) as a send run each, recorded and audited like one
    started from the page and with a leased job per batch, so a batch whose worker died is
    carried on within the lease. A campaign whose templates cannot be sent is skipped with the
    problems in the log (its sending page shows them too). Returns the number of batches queued.
    """
    session = get_session()
    resolve_stale(session)
    session.commit()
    query = select(Campaign).where(Campaign.status == "open")
    if campaign_slug:
        query = select(Campaign).where(Campaign.slug == campaign_slug)
    queued = 0
    # Ids first, read to the end: each campaign commits (or rolls back) on its own.
    campaigns = session.execute(query.with_only_columns(Campaign.id, Campaign.slug)).all()
    for campaign_id, slug in campaigns:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        try:
            run = plan_send_run(session, campaign, "reminder")
        except InputError as exc:
            session.rollback()
            _log.warning("reminders of campaign %s not sent: %s", slug, exc)
            continue
        queue_send_run(session, run)
        session.commit()
        queued += len(run.batches) if run is not None else 0
    return queued
