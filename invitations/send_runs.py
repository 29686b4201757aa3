"""Send runs started from the organizer's page or the CLI: the invitation message or the
reminders due, queued as batches (after commit, from the page), with progress the page reads
from the deliveries themselves.

A run is a `minsheng.jobs.Job` (kind `invitations.send`) recording what was planned: the steps,
the channel and how many invitations. Its progress is counted from `Delivery` rows written since
the run started, so it is true whichever worker sends and however often a batch is retried.

Each batch is a job of its own (kind `invitations.send_batch`, target `run:<run job id>`) that
its worker holds with a lease, so a batch whose worker died is taken back by `minsheng.reap_jobs`
within the lease instead of waiting for Redis's visibility timeout (an hour); the run is done
(or failed, with the reason) when its last batch is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.access import runs
from campaigns.lifecycle import Note, StatusCheck
from campaigns.models import Campaign
from invitations.lifecycle import CREATED, NO_MORE_MESSAGES
from invitations.messages import template_problems
from invitations.models import Delivery, Invitation
from invitations.reminders import plan_reminders
from invitations.sending import BATCH_SIZE, plan_first_messages, resolve_stale
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from minsheng.jobs import Job, JobKind, register_job_kind, update_job

JOB_KIND = "invitations.send"
SEND_KINDS = ("invitation", "reminder", "uncertain")
BATCH_JOB_KIND = "invitations.send_batch"
FINISHED = ("sent", "bounced", "failed", "uncertain")


@dataclass(frozen=True)
class SendProgress:
    """How far a run is: deliveries by state against the number planned, and the batches that
    failed for good (their reasons and retry buttons on the page) once the run has failed."""

    job: Job
    planned: int
    counts: dict[str, int]
    failed_batches: list[Job] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return sum(self.counts.get(state, 0) for state in FINISHED)

    @property
    def fraction(self) -> float:
        return 1.0 if self.planned == 0 else min(1.0, self.finished / self.planned)

    @property
    def done(self) -> bool:
        """Finished: its job says so (a person who answered or opted out after the planning is
        skipped, so fewer than planned get a delivery), or every planned step has an outcome."""
        return self.job.state in ("done", "failed") or self.finished >= self.planned


@dataclass(frozen=True)
class SendRun:
    """A recorded run: its job and the batches planned, as (channel, step, invitation ids)."""

    job: Job
    batches: list[tuple[str, int, list[int]]]


def plan_uncertain(
    session: Session, campaign: Campaign, batch_size: int = BATCH_SIZE
) -> list[tuple[str, int, list[int]]]:
    """The steps of `campaign` left `uncertain` (a worker died between the hand-over and the
    outcome, so the message may or may not have left), made `retry` again so a batch takes them
    back; as (channel, step, invitation ids) batches.

    Sending never does this by itself (at most once, `invitations.sending`): it is the organizer's
    choice, after checking with the mail relay's log if need be, to risk a second copy for these
    few people rather than leave them without the message."""
    resolve_stale(session)
    rows = session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign.id, Delivery.state == "uncertain")
        .values(state="retry", error="sent again by an organizer: the first try was uncertain")
        .returning(Delivery.channel, Delivery.step, Delivery.invitation_id)
    ).all()
    by_step: dict[tuple[str, int], list[int]] = {}
    for channel, step, invitation_id in rows:
        by_step.setdefault((channel, step), []).append(invitation_id)
    return [
        (channel, step, sorted(ids)[start : start + batch_size])
        for (channel, step), ids in sorted(by_step.items())
        for start in range(0, len(ids), batch_size)
    ]


def uncertain_count(session: Session, campaign: Campaign) -> int:
    """How many steps of `campaign` are `uncertain`: people who may not have got a message."""
    return int(
        session.scalar(
            select(func.count()).where(
                Delivery.campaign_id == campaign.id, Delivery.state == "uncertain"
            )
        )
        or 0
    )


def plan_send_run(
    session: Session,
    campaign: Campaign,
    kind: str,
    channel: str = "email",
    actor_id: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> SendRun | None:
    """Plan the invitation message (`kind="invitation"`, on `channel`), the reminders due
    (`kind="reminder"`, each on the channel of its invitation) or the steps left `uncertain`
    (`kind="uncertain"`, see `plan_uncertain`) and record the run (its job and audit event); the
    caller queues the batches. None when there is nothing to send. Templates with problems stop
    the run."""
    if kind not in SEND_KINDS:
        raise ValueError(f"unknown send kind {kind!r}; expected one of {', '.join(SEND_KINDS)}")
    if campaign.status != "open":
        # A paused or closed campaign accepts no answer, so its links would lead nowhere.
        raise InputError(
            [
                Problem(
                    "status",
                    f"campaign {campaign.slug} is {campaign.status}; invitations and reminders "
                    "are sent only while it is open",
                )
            ]
        )
    problems = template_problems(campaign)
    if problems:
        raise InputError(problems)
    planned_at = utcnow()
    if kind == "invitation":
        planned = [
            (channel, 0, ids) for ids in plan_first_messages(session, campaign, channel, batch_size)
        ]
    elif kind == "reminder":
        resolve_stale(session)
        planned = plan_reminders(session, campaign, batch_size=batch_size)
    else:
        planned = plan_uncertain(session, campaign, batch_size)
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
            # Steps sent again keep their rows: the run's own are those updated since planning.
            **({"resent_since": planned_at.isoformat()} if kind == "uncertain" else {}),
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


def add_batch_jobs(session: Session, run: SendRun) -> list[Job]:
    """A queued job for each batch of `run`, in the order of `run.batches`; the caller enqueues
    each batch's task with its job."""
    jobs = [
        Job(
            kind=BATCH_JOB_KIND,
            target=f"run:{run.job.id}",
            state="queued",
            result={"channel": name, "step": step, "invitations": len(ids)},
        )
        for name, step, ids in run.batches
    ]
    session.add_all(jobs)
    session.flush()
    return jobs


def run_batches(session: Session, run_job: Job) -> list[Job]:
    """The batch jobs of a run, in the order they were planned."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.kind == BATCH_JOB_KIND, Job.target == f"run:{run_job.id}")
            .order_by(Job.id)
        )
    )


def finish_batch(session: Session, job: Job, counts: dict[str, int]) -> None:
    """Mark a batch job done with what it did, and its run done if it was the last one."""
    update_job(
        session, job, state="done", progress=1.0, message="", result={**job.result, **counts}
    )
    _close_run(session, job)


def _close_run(session: Session, batch: Job) -> None:
    """Finish the run of `batch` once none of its batches is queued or running: done, or failed
    with the reasons of the batches that failed."""
    run_id = int(batch.target.removeprefix("run:"))
    # Locked, so two batches finishing at once cannot each see the other still open.
    run = session.scalar(select(Job).where(Job.id == run_id).with_for_update())
    if run is None or run.state in ("done", "failed"):
        return
    batches = run_batches(session, run)
    if any(b.state in ("queued", "running") for b in batches):
        return
    failed = [b for b in batches if b.state == "failed"]
    if not failed:
        update_job(session, run, state="done", progress=1.0)
        return
    reason = f"{len(failed)} of {len(batches)} batches failed: {failed[0].message}"
    update_job(session, run, state="failed", message=reason)


def _run_of(session: Session, batch: Job) -> Job | None:
    return session.get(Job, int(batch.target.removeprefix("run:")))


def _campaign_of(session: Session, batch: Job) -> Campaign | None:
    run = _run_of(session, batch)
    if run is None:
        return None
    return session.get(Campaign, int(run.target.removeprefix("campaign:")))


def _batch_page(session: Session, job: Job) -> str:
    from flask import url_for

    campaign = _campaign_of(session, job)
    return url_for("invitations.sending_page", slug=campaign.slug if campaign else "-")


def _batch_retried(session: Session, job: Job) -> None:
    """A failed batch queued again reopens its run."""
    run = _run_of(session, job)
    if run is not None and run.state == "failed":
        run.state, run.finished_at, run.message = "running", None, str(run.result.get("kind", ""))


def _batch_allows(session: Session, job: Job, user: Any) -> bool:
    """A batch is followed and retried by the organizers who run its campaign (the sending
    page's users), not by admins alone."""
    campaign = _campaign_of(session, job)
    return campaign is not None and runs(user, campaign)


register_job_kind(
    BATCH_JOB_KIND,
    JobKind(page=_batch_page, on_failed=_close_run, on_retry=_batch_retried, allows=_batch_allows),
)


def send_progress(session: Session, job: Job, campaign: Campaign) -> SendProgress:
    """Deliveries of the run's steps written since it started, by state; a failed run's failed
    batches (one more query, only for a failed run)."""
    result: dict[str, Any] = job.result
    rows = session.execute(
        select(Delivery.state, func.count())
        .where(
            Delivery.campaign_id == campaign.id,
            Delivery.step.in_(result.get("steps", [])),
            Delivery.updated_at >= datetime.fromisoformat(result["resent_since"])
            if "resent_since" in result
            else Delivery.created_at >= job.created_at,
        )
        .group_by(Delivery.state)
    )
    counts = {state: int(n) for state, n in rows}
    failed = (
        [b for b in run_batches(session, job) if b.state == "failed"]
        if job.state == "failed"
        else []
    )
    return SendProgress(
        job=job, planned=int(result.get("planned", 0)), counts=counts, failed_batches=failed
    )


def recent_runs(session: Session, campaign: Campaign, limit: int = 10) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.kind == JOB_KIND, Job.target == f"campaign:{campaign.id}")
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )


def sending_check(session: Session, campaign: Campaign, new: str) -> StatusCheck:
    """Sending's say on a status change (`campaigns.lifecycle.add_status_check`): before a
    campaign is paused or closed, how many invitations were never sent and how many invited
    people have not answered yet (their reminders stop); before it opens, how many are ready."""
    found = StatusCheck()
    counts = dict(
        session.execute(
            select(Invitation.status, func.count())
            .where(Invitation.campaign_id == campaign.id)
            .group_by(Invitation.status)
        ).all()
    )
    unsent = int(counts.get(CREATED, 0))
    waiting = sum(
        int(n) for status, n in counts.items() if status not in (CREATED, *NO_MORE_MESSAGES)
    )
    if new in ("paused", "closed"):
        if unsent:
            found.notes.append(
                Note("%(n)s invitation(s) have not been sent yet and will not be", {"n": unsent})
            )
        if waiting:
            found.notes.append(
                Note(
                    "%(n)s invited people have not answered yet; their reminders stop",
                    {"n": waiting},
                )
            )
    elif new == "open" and unsent:
        found.notes.append(
            Note("%(n)s invitation(s) are ready to send once it is open", {"n": unsent})
        )
    return found
