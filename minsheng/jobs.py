"""Celery inside the app factory: a task base class with an app context, after-commit enqueueing,
declared periodic jobs, and `Job` rows through which long work reports progress to the UI.

With no `BROKER_URL` (the embedded default) tasks run in-process when enqueued; with a Redis URL
they go to real workers. The task code is the same in both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.canvas import Signature
from flask import Flask, current_app, has_app_context
from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from minsheng.db import Base, utcnow

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


JOB_STATES = ("queued", "running", "done", "failed")


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
        timezone="Asia/Shanghai",
        beat_schedule={},
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


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


def enqueue_after_commit(session: Session, signature: Signature[Any]) -> None:
    """Send `signature` once `session` commits, and drop it if the session rolls back, so a worker
    never looks for a row that is not committed yet [Warehouse's after-commit hook]."""
    if not session.in_transaction():
        session.begin()  # so a rollback before any SQL still cancels what was enqueued
    pending: list[Signature[Any]] = session.info.setdefault(_PENDING, [])
    pending.append(signature)
    if not event.contains(session, "after_commit", _send_pending):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)


_PENDING = "minsheng.pending_tasks"


def _send_pending(session: Session) -> None:
    pending: list[Signature[Any]] = session.info.pop(_PENDING, [])
    for signature in pending:
        signature.apply_async()


def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # Only the outermost rollback cancels: a savepoint rolled back inside (a lost insert race)
    # leaves the transaction, and the work it enqueued, alive.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
