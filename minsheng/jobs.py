"""Celery inside the app factory: a task base class with an app context, enqueueing through an
outbox, declared periodic jobs, and `Job` rows through which long work reports progress to the UI
and holds a lease while it runs.

No job is ever stuck (issue 11, point 7):
- *Outbox.* `enqueue_after_commit` writes an `OutboxMessage` row in the caller's transaction and
  sends it once that commits; a message whose send was lost (the process died between commit and
  send, the broker was down) is sent by the `minsheng.relay_outbox` beat task. A job still queued
  long after its message went out (a broker that lost it) gets its message again.
- *Leases.* A task starts its job with `claim_job`, which holds a lease the job's progress renews
  (the heartbeat). `minsheng.reap_jobs` puts a job whose lease expired (its worker died or hangs)
  back in the queue, up to `JOB_MAX_ATTEMPTS`, then fails it with the reason; pages show the
  reason and a retry button (`retry_job`).
- Every task is safe to run twice, so a message sent again costs work, never a duplicate.

With no `BROKER_URL` (the embedded default) tasks run in-process when enqueued; with a Redis URL
they go to real workers. The task code is the same in both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, Task, shared_task
from celery.canvas import Signature
from flask import Flask, current_app, has_app_context
from sqlalchemy import Engine, ForeignKey, Index, String, Update, event, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from minsheng.audit import record
from minsheng.db import LOCAL_TIMEZONE, Base, utcnow

QUEUES = ("default", "invitations", "analysis", "reports")
ROUTES = {
    "contacts.*": {"queue": "invitations"},
    "invitations.*": {"queue": "invitations"},
    "analysis.*": {"queue": "analysis"},
    "exporters.*": {"queue": "reports"},
}


class Job(Base):
    """Progress of one long-running piece of work (report rendering, summary, sending)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # How many times a worker started it, and until when the running one holds it.
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(index=True)


class OutboxMessage(Base):
    """A task to send to the broker, written in the transaction that asked for it, so it is
    sent exactly when that work commits and is sent again if the send was lost."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_sent_at_created_at", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(120))
    args: Mapped[list[Any]] = mapped_column(default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


JOB_STATES = ("queued", "running", "done", "failed")

# Tasks retry a lost database (a restart, a failover) with a growing delay for about 20 minutes
# in all (2, 4, 8 ... 120 s, jittered), not for a few seconds. Every task is safe to run again.
DATABASE_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 15,
}


@dataclass(frozen=True)
class JobKind:
    """What a package does when one of its jobs fails for good or is retried (a report is
    marked failed with the reason, then queued again), so its own rows never stay "running";
    `page` is where a person follows the job (the retry button returns there) and `can_retry`
    says whether a retry can help (an import whose file was refused cannot); `allows` says who
    may follow and retry it (the organizers of its campaign; without it, admins only)."""

    page: Callable[[Session, Job], str]
    on_failed: Callable[[Session, Job], None] | None = None
    on_retry: Callable[[Session, Job], None] | None = None
    can_retry: Callable[[Session, Job], bool] | None = None
    allows: Callable[[Session, Job, Any], bool] | None = None


def job_kind(kind: str) -> JobKind | None:
    return _KINDS.get(kind)


def can_retry(session: Session, job: Job) -> bool:
    """Whether the page offers a retry: the job failed and its kind can run it again."""
    hooks = _KINDS.get(job.kind)
    if job.state != "failed" or hooks is None:
        return False
    return hooks.can_retry is None or hooks.can_retry(session, job)


_KINDS: dict[str, JobKind] = {}


def register_job_kind(kind: str, job_kind: JobKind) -> None:
    """Declare the hooks of a job kind; packages call this at import of their job module."""
    _KINDS[kind] = job_kind


def _lease() -> timedelta:
    seconds = current_app.config["JOB_LEASE_SECONDS"] if has_app_context() else 300
    return timedelta(seconds=int(seconds))


def update_job(
    session: Session,
    job: Job,
    *,
    state: str | None = None,
    progress: float | None = None,
    message: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Change a job's visible state; the caller commits so the UI sees it."""
    if state is not None:
        if state not in JOB_STATES:
            raise ValueError(f"unknown job state {state!r}; expected one of {JOB_STATES}")
        job.state = state
        if state in ("done", "failed"):
            job.finished_at = utcnow()
    if progress is not None:
        job.progress = max(0.0, min(1.0, progress))
    if message is not None:
        job.message = message[:500]
    if result is not None:
        job.result = result
    if job.state == "running":
        # The heartbeat: a job that reports progress keeps its lease.
        job.lease_until = utcnow() + _lease()
    elif job.state in ("done", "failed"):
        job.lease_until = None


def claim_job(session: Session, job_id: int, *, message: str = "started") -> Job | None:
    """Start job `job_id` for this worker: it must be queued, or running with an expired lease
    (its worker died). None when it is finished or another worker holds it, so a message
    delivered twice does the work once. The caller commits."""
    now = utcnow()
    claimed = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            or_(Job.state == "queued", (Job.state == "running") & (Job.lease_until < now)),
        )
        .values(
            state="running",
            attempts=Job.attempts + 1,
            lease_until=now + _lease(),
            message=message[:500],
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id, populate_existing=True)
    return job


def renew_lease(session: Session, job_id: int) -> bool:
    """The heartbeat of work that reports no progress for a while (a batch of messages): extend
    the lease of job `job_id` if it is still running; False when it is not (the reaper took it
    back). The caller commits."""
    renewed = session.execute(
        _renewal(job_id, _lease()).execution_options(synchronize_session=False)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def _renewal(job_id: int, lease: timedelta) -> Update:
    return (
        update(Job)
        .where(Job.id == job_id, Job.state == "running")
        .values(lease_until=utcnow() + lease)
    )


@contextmanager
def lease_heartbeat(session: Session, job_id: int) -> Iterator[None]:
    """Renew the lease of running job `job_id` from a thread of its own, every third of the
    lease, while the block runs: a step that reports no progress for longer than the lease
    (laying out a long PDF on a busy machine) is not taken for a dead worker and started again
    beside the live one, while a process that dies stops beating, so its job is still taken back
    within the lease. A hung task beats on until `TASK_TIME_LIMIT` stops it.

    Only with a worker (the session bound to an engine and a broker configured): run in-process,
    no other worker can take the job over."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or current_app.extensions["celery"].conf.task_always_eager:
        yield
        return
    lease = _lease()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                with bind.begin() as connection:
                    connection.execute(_renewal(job_id, lease))
            except (OperationalError, InterfaceError):
                _log.warning("could not renew the lease of job %s", job_id)

    thread = threading.Thread(target=beat, name=f"lease-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def heartbeat_commit(session: Session, job_id: int) -> Callable[[], None]:
    """A commit for work that commits often (once per message) without reporting progress: the
    first commit after a third of the lease also renews it, so the lease can be short and a dead
    worker's job is taken back soon, without one more statement per commit."""
    every = _lease().total_seconds() / 3
    due = time.monotonic() + every

    def commit() -> None:
        nonlocal due
        if time.monotonic() >= due:
            renew_lease(session, job_id)
            due = time.monotonic() + every
        session.commit()

    return commit


def celery_init_app(app: Flask) -> Celery[Any]:
    """Build the Celery app from the Flask config; every task runs inside an app context."""

    class FlaskTask(Task[Any, Any]):
        def __call__(self, *args: object, **kwargs: object) -> object:
            # Run in a fresh context of the app that is calling (an eager task in the embedded
            # default runs inside a request or command), else of the app that built this Celery
            # app (a worker). Several apps in one process (tests) each keep their own database.
            context = current_app.app_context() if has_app_context() else app.app_context()
            with context:
                return self.run(*args, **kwargs)

    broker = app.config["BROKER_URL"]
    limit = int(app.config["TASK_TIME_LIMIT"])
    celery_app: Celery[Any] = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=app.config["RESULT_BACKEND"] or None,
        task_always_eager=not broker,
        task_eager_propagates=True,
        task_ignore_result=True,
        task_default_queue="default",
        task_routes=ROUTES,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A task is stopped after TASK_TIME_LIMIT; Redis hands an unacknowledged message to
        # another worker only after the visibility timeout, which is longer than the longest
        # task and the longest retry delay, so a slow task is never run twice at once.
        task_time_limit=limit,
        task_soft_time_limit=max(1, limit - 60),
        broker_transport_options={"visibility_timeout": visibility_timeout(limit)},
        timezone=LOCAL_TIMEZONE,
        beat_schedule={
            "minsheng-relay-outbox": {
                "task": "minsheng.relay_outbox",
                "schedule": timedelta(seconds=int(app.config["OUTBOX_RELAY_SECONDS"])),
                "kwargs": {},
            },
            "minsheng-reap-jobs": {
                "task": "minsheng.reap_jobs",
                "schedule": timedelta(seconds=int(app.config["JOB_REAP_SECONDS"])),
                "kwargs": {},
            },
        },
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def visibility_timeout(task_time_limit: int) -> int:
    """Seconds Redis waits for an acknowledgement: the longest task plus the longest retry
    delay (`DATABASE_RETRY`) plus a margin."""
    return task_time_limit + int(DATABASE_RETRY["retry_backoff_max"]) + 300


def get_celery(app: Flask) -> Celery[Any]:
    return app.extensions["celery"]  # type: ignore[no-any-return]


def add_periodic_job(
    app: Flask,
    name: str,
    task: str,
    every: timedelta,
    kwargs: dict[str, Any] | None = None,
) -> None:
    """Declare a beat entry; packages call this from their `init_app`."""
    schedule: dict[str, Any] = get_celery(app).conf.beat_schedule
    schedule[name] = {"task": task, "schedule": every, "kwargs": kwargs or {}}


def enqueue_after_commit(
    session: Session, signature: Signature[Any], job: Job | None = None
) -> OutboxMessage:
    """Send `signature` once `session` commits, and drop it if the session rolls back, so a worker
    never looks for a row that is not committed yet [Warehouse's after-commit hook].

    The message is an `OutboxMessage` row of the same transaction: if the process dies after the
    commit and before the send, or the broker refuses it, the relay sends it later. `job` links
    the message to the job whose work it does, so a lost or expired job can be sent again.
    """
    if not session.in_transaction():
        session.begin()  # so a rollback before any SQL still cancels what was enqueued
    message = OutboxMessage(
        task=str(signature.task),
        args=list(signature.args),
        kwargs=dict(signature.kwargs),
        job_id=job.id if job is not None else None,
    )
    session.add(message)
    pending: list[OutboxMessage] = session.info.setdefault(_PENDING, [])
    pending.append(message)
    if not event.contains(session, "after_commit", _send_pending):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
    return message


_PENDING = "minsheng.pending_tasks"
_log = logging.getLogger(__name__)


def _send_pending(session: Session) -> None:
    pending: list[OutboxMessage] = session.info.pop(_PENDING, [])
    if not pending:
        return
    if current_app.extensions["celery"].conf.task_always_eager:
        # The embedded default runs each task right here: marked sent first, and a failure
        # propagates to the caller as it always has.
        _mark_sent(session, [message.id for message in pending])
        for message in pending:
            _send(message)
        return
    sent: list[int] = []
    try:
        for message in pending:
            _send(message)
            sent.append(message.id)
    except Exception:
        # The broker is down: the relay sends what is left once it is back. The work itself is
        # committed, so the request that asked for it must not fail.
        _log.warning(
            "broker unavailable; %d message(s) left to the relay",
            len(pending) - len(sent),
            exc_info=True,
        )
    finally:
        if sent:
            _mark_sent(session, sent)


def _send(message: OutboxMessage) -> None:
    signature: Signature[Any] = Signature(
        message.task, args=tuple(message.args), kwargs=message.kwargs
    )
    signature.apply_async()


def _mark_sent(session: Session, ids: list[int]) -> None:
    # After a commit the session has no transaction to write in: the mark goes through the
    # session's bind (an engine in production, the test's outer connection in tests). A mark lost
    # here only means the relay sends the message once more.
    statement = update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_at=utcnow())
    bind = session.get_bind()
    try:
        if isinstance(bind, Engine):
            with bind.begin() as connection:
                connection.execute(statement)
        else:
            bind.execute(statement)
    except (OperationalError, InterfaceError):
        _log.warning("could not mark %d outbox message(s) sent", len(ids))


def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # Only the outermost rollback cancels: a savepoint rolled back inside (a lost insert race)
    # leaves the transaction, and the work it enqueued, alive.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def relay_outbox(session: Session, *, older_than: timedelta = timedelta(seconds=30)) -> int:
    """Send the messages whose send after commit was lost (older than `older_than`, so a send in
    progress is left alone); rows are locked and skipped by a second relay. Returns how many."""
    now = utcnow()
    due = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < now - older_than)
        .order_by(OutboxMessage.id)
        .limit(1000)
        .with_for_update(skip_locked=True)
    ).all()
    for message in due:
        _send(message)
        message.sent_at = utcnow()
    # Sent messages are kept a week, for the operator's questions, then dropped.
    session.execute(
        OutboxMessage.__table__.delete().where(  # type: ignore[attr-defined]
            OutboxMessage.sent_at < now - timedelta(days=7)
        )
    )
    return len(due)


def _resend(session: Session, job: Job) -> bool:
    """Queue the job's task again (a copy of its newest message) through the outbox."""
    last = session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.job_id == job.id)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if last is None:
        return False
    signature: Signature[Any] = Signature(last.task, args=tuple(last.args), kwargs=last.kwargs)
    enqueue_after_commit(session, signature, job=job)
    return True


def _give_up(session: Session, job: Job, reason: str) -> None:
    update_job(session, job, state="failed", message=reason)
    hooks = _KINDS.get(job.kind)
    if hooks is not None and hooks.on_failed is not None:
        hooks.on_failed(session, job)


@dataclass(frozen=True)
class Reaped:
    requeued: int
    failed: int
    resent: int


def reap_jobs(session: Session, *, max_attempts: int, queue_timeout: timedelta) -> Reaped:
    """Running jobs whose lease expired go back to the queue (their worker died or hangs), up to
    `max_attempts` starts, then fail with the reason; queued jobs whose message went out more
    than `queue_timeout` ago and never started (a broker that lost it) get it again."""
    now = utcnow()
    requeued = failed = resent = 0
    expired = session.scalars(
        select(Job)
        .where(Job.state == "running", Job.lease_until < now)
        .with_for_update(skip_locked=True)
    ).all()
    for job in expired:
        when = job.lease_until.strftime("%Y-%m-%d %H:%M:%S UTC") if job.lease_until else "?"
        if job.attempts < max_attempts and _resend(session, job):
            job.state, job.lease_until = "queued", None
            job.message = (
                f"its worker stopped responding (lease expired {when}); "
                f"queued again, attempt {job.attempts + 1} of {max_attempts}"
            )[:500]
            requeued += 1
        else:
            _give_up(
                session,
                job,
                f"its worker stopped responding (lease expired {when}) after "
                f"{job.attempts} attempt(s); retry it when the workers are healthy",
            )
            failed += 1
    lost = session.scalars(
        select(Job)
        .where(Job.state == "queued")
        .where(
            select(OutboxMessage.id)
            .where(OutboxMessage.job_id == Job.id)
            .where(OutboxMessage.sent_at < now - queue_timeout)
            .exists()
        )
        .where(
            ~select(OutboxMessage.id)
            .where(OutboxMessage.job_id == Job.id)
            .where(
                or_(OutboxMessage.sent_at.is_(None), OutboxMessage.sent_at >= now - queue_timeout)
            )
            .exists()
        )
        .with_for_update(skip_locked=True)
    ).all()
    for job in lost:
        if _resend(session, job):
            resent += 1
    return Reaped(requeued=requeued, failed=failed, resent=resent)


def retry_job(session: Session, job: Job, actor_id: int | None = None) -> None:
    """Queue a failed job again from its first attempt (the page's retry button)."""
    from minsheng.problems import InputError, Problem

    if job.state != "failed":
        raise InputError(
            [Problem("job", f"job {job.id} is {job.state}; only a failed job is retried")]
        )
    if not can_retry(session, job):
        raise InputError([Problem("job", f"job {job.id} cannot be run again; start a new one")])
    if not _resend(session, job):
        raise InputError([Problem("job", f"job {job.id} has no task to send again")])
    job.state, job.attempts, job.progress, job.finished_at = "queued", 0, 0.0, None
    job.message = "queued again"
    hooks = _KINDS.get(job.kind)
    if hooks is not None and hooks.on_retry is not None:
        hooks.on_retry(session, job)
    record(session, actor_id, "jobs.retry", "job", job.id, kind=job.kind)


@shared_task(name="minsheng.relay_outbox", **DATABASE_RETRY)
def relay_outbox_task() -> int:
    """Beat: send the outbox messages a lost send left behind."""
    from minsheng.db import get_session

    session = get_session()
    sent = relay_outbox(
        session, older_than=timedelta(seconds=int(current_app.config["OUTBOX_RELAY_SECONDS"]))
    )
    session.commit()
    return sent


@shared_task(name="minsheng.reap_jobs", **DATABASE_RETRY)
def reap_jobs_task() -> dict[str, int]:
    """Beat: requeue or fail jobs whose worker died, and resend messages a broker lost."""
    from minsheng.db import get_session

    config = current_app.config
    session = get_session()
    reaped = reap_jobs(
        session,
        max_attempts=int(config["JOB_MAX_ATTEMPTS"]),
        queue_timeout=timedelta(seconds=int(config["JOB_QUEUE_TIMEOUT_SECONDS"])),
    )
    session.commit()
    return {"requeued": reaped.requeued, "failed": reaped.failed, "resent": reaped.resent}
