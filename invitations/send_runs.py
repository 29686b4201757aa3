"""Send runs started from the organizer's page or the CLI: the invitation message or the
reminders due, queued as batches (after commit, from the page), with progress the page reads
from the deliveries themselves.

A run is a `minsheng.jobs.Job` (kind `invitations.send`) recording what was planned: the steps,
the channel and how many invitations. Its progress is counted from `Delivery` rows written since
the run started, so it is true whichever worker sends and however often a batch is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from invitations.messages import template_problems
from invitations.models import Delivery
from invitations.reminders import plan_reminders
from invitations.sending import BATCH_SIZE, plan_first_messages, resolve_stale
from invitations.tasks import send_batch_task
from minsheng.audit import record
from minsheng.errors import InputError
from minsheng.jobs import Job, enqueue_after_commit

JOB_KIND = "invitations.send"
FINISHED = ("sent", "bounced", "failed", "uncertain")


@dataclass(frozen=True)
class SendProgress:
    """How far a run is: deliveries by state against the number planned."""

    job: Job
    planned: int
    counts: dict[str, int]

    @property
    def finished(self) -> int:
        return sum(self.counts.get(state, 0) for state in FINISHED)

    @property
    def fraction(self) -> float:
        return 1.0 if self.planned == 0 else min(1.0, self.finished / self.planned)

    @property
    def done(self) -> bool:
        return self.finished >= self.planned


@dataclass(frozen=True)
class SendRun:
    """A recorded run: its job and the batches planned, as (channel, step, invitation ids)."""

    job: Job
    batches: list[tuple[str, int, list[int]]]


def plan_send_run(
    session: Session,
    campaign: Campaign,
    kind: str,
    channel: str = "email",
    actor_id: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> SendRun | None:
    """Plan the invitation message (`kind="invitation"`, on `channel`) or the reminders due
    (`kind="reminder"`, each on the channel of its invitation) and record the run (its job and
    audit event); the caller queues the batches. None when there is nothing to send. Templates
    with problems stop the run."""
    if kind not in ("invitation", "reminder"):
        raise ValueError(f"unknown send kind {kind!r}; expected invitation or reminder")
    problems = template_problems(campaign)
    if problems:
        raise InputError(problems)
    if kind == "invitation":
        planned = [
            (channel, 0, ids) for ids in plan_first_messages(session, campaign, channel, batch_size)
        ]
    else:
        resolve_stale(session)
        planned = plan_reminders(session, campaign, batch_size=batch_size)
    total = sum(len(ids) for _, _, ids in planned)
    if total == 0:
        return None
    job = Job(
        kind=JOB_KIND,
        target=f"campaign:{campaign.id}",
        state="running",
        message=kind,
        result={
            "kind": kind,
            "planned": total,
            "steps": sorted({step for _, step, _ in planned}),
            "channels": sorted({name for name, _, _ in planned}),
            "batches": len(planned),
        },
    )
    session.add(job)
    session.flush()
    record(
        session,
        actor_id,
        f"invitations.send_{kind}",
        "campaign",
        campaign.id,
        job_id=job.id,
        planned=total,
    )
    return SendRun(job=job, batches=planned)


def queue_send_run(session: Session, run: SendRun | None) -> Job | None:
    """Queue a planned run's batches once the caller commits (the page's way: the embedded
    default runs them at that commit); its job, or None when there was nothing to send."""
    if run is None:
        return None
    for name, step, ids in run.batches:
        enqueue_after_commit(session, send_batch_task.s(ids, step, name))
    return run.job


def send_progress(session: Session, job: Job, campaign: Campaign) -> SendProgress:
    """Deliveries of the run's steps written since it started, by state."""
    result: dict[str, Any] = job.result
    rows = session.execute(
        select(Delivery.state, func.count())
        .where(
            Delivery.campaign_id == campaign.id,
            Delivery.step.in_(result.get("steps", [])),
            Delivery.created_at >= job.created_at,
        )
        .group_by(Delivery.state)
    )
    counts = {state: int(n) for state, n in rows}
    return SendProgress(job=job, planned=int(result.get("planned", 0)), counts=counts)


def recent_runs(session: Session, campaign: Campaign, limit: int = 10) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.kind == JOB_KIND, Job.target == f"campaign:{campaign.id}")
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )
