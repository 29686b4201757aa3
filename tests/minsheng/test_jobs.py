"""Background work: enqueued after commit, never for a rolled-back transaction."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from minsheng.jobs import enqueue_after_commit, get_celery

RAN: list[Any] = []


@shared_task(name="tests.record_value")
def record_value(value: Any) -> None:
    RAN.append(value)


def test_embedded_default_runs_tasks_in_process(app):
    assert get_celery(app).conf.task_always_eager is True


def test_task_runs_only_after_commit(app, session):
    RAN.clear()
    enqueue_after_commit(session, record_value.s("committed"))
    assert RAN == []
    session.commit()
    assert RAN == ["committed"]


def test_task_is_dropped_when_the_transaction_rolls_back(app, session):
    RAN.clear()
    enqueue_after_commit(session, record_value.s("rolled back"))
    session.rollback()
    session.commit()
    assert RAN == []
