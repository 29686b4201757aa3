"""Celery tasks of the invitations (queue `invitations`): thin wrappers around
`invitations.sending`. Both are safe to run again: a step that has a row is never re-sent."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from flask import current_app
from sqlalchemy import select

from campaigns.models import Campaign
from contacts.pii import current_keys
from invitations.channels import channel_from_config
from invitations.models import Invitation
from invitations.ratelimits import rate_limiter
from invitations.reminders import plan_reminders
from invitations.sending import (
    MAX_ATTEMPTS,
    SendContext,
    channel_rate,
    give_up,
    resolve_stale,
    retry_delay,
    send_batch,
)
from minsheng.db import get_session
from minsheng.jobs import DATABASE_RETRY


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
    self: Task[Any, Any], invitation_ids: list[int], step: int, channel: str
) -> dict[str, int]:
    """Send step `step` to these invitations; temporary failures come back as a retry of this
    task with only the invitations concerned, after a growing delay."""
    session = get_session()
    first = session.scalar(select(Invitation.campaign_id).where(Invitation.id.in_(invitation_ids)))
    campaign = session.get(Campaign, first) if first is not None else None
    if campaign is None:
        return {"sent": 0}
    result = send_batch(session, send_context(campaign, channel), invitation_ids, step)
    if result.retry:
        if self.request.retries < MAX_ATTEMPTS:
            raise self.retry(
                args=(result.retry, step, channel),
                countdown=retry_delay(self.request.retries, result.retry_after),
            )
        give_up(session, result.retry, step)
        session.commit()
    return {"sent": result.sent, "bounced": result.bounced, "failed": result.failed}


@shared_task(name="invitations.send_reminders", acks_late=True, **DATABASE_RETRY)
def send_reminders_task(campaign_slug: str | None = None) -> int:
    """Beat job: mark steps of dead workers `uncertain`, then queue the reminders that are due
    (for one campaign, or every open one). Returns the number of batches queued."""
    session = get_session()
    resolve_stale(session)
    session.commit()
    query = select(Campaign).where(Campaign.status == "open")
    if campaign_slug:
        query = select(Campaign).where(Campaign.slug == campaign_slug)
    queued = 0
    # Planning writes nothing, so batches can be queued at once (no after-commit needed).
    for campaign in session.scalars(query).all():
        for channel, step, ids in plan_reminders(session, campaign):
            send_batch_task.delay(ids, step, channel)
            queued += 1
    return queued
