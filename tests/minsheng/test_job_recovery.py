"""No job is ever stuck: a send lost after commit is relayed, a job whose worker died is queued
again or failed with the reason (and its report shows it, with a retry button that works), a
broker that lost a message gets it again, tasks retry a lost database for minutes, and while the
database is down the API answers 503 with Retry-After."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from sqlalchemy import select, update

from exporters.models import Report
from exporters.reports import request_report
from exporters.tasks import queue_report
from minsheng.db import utcnow
from minsheng.jobs import (
    DATABASE_RETRY,
    Job,
    OutboxMessage,
    claim_job,
    enqueue_after_commit,
    get_celery,
    reap_jobs,
    relay_outbox,
    update_job,
    visibility_timeout,
)

SEEN: list[Any] = []


@shared_task(name="tests.note_value")
def note_value(value: Any) -> None:
    SEEN.append(value)


def _age(session, seconds: int) -> None:
    session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(seconds=seconds)))


def test_a_send_lost_after_commit_is_relayed_once_the_broker_is_back(app, session, broker):
    broker["up"] = False
    enqueue_after_commit(session, note_value.s("survives"))
    session.commit()  # the broker is down: the commit still succeeds, the message waits
    (message,) = session.scalars(select(OutboxMessage)).all()
    assert message.sent_at is None and broker["sent"] == []

    broker["up"] = True
    assert relay_outbox(session) == 0  # too recent: the after-commit send may still be running
    _age(session, 60)
    assert relay_outbox(session) == 1
    session.commit()
    assert broker["sent"] == [("tests.note_value", ("survives",))]
    session.refresh(message)
    assert message.sent_at is not None
    assert relay_outbox(session) == 0  # sent once, never again


def test_a_message_sent_after_commit_is_marked_and_not_relayed(app, session, broker):
    enqueue_after_commit(session, note_value.s("once"))
    session.commit()
    _age(session, 60)
    assert relay_outbox(session) == 0
    assert broker["sent"] == [("tests.note_value", ("once",))]


def test_one_worker_at_a_time_holds_a_job_and_progress_renews_its_lease(app, session):
    job = Job(kind="tests.kind", target="t")
    session.add(job)
    session.commit()
    assert claim_job(session, job.id) is not None
    assert claim_job(session, job.id) is None  # a second delivery while the first runs
    first_lease = job.lease_until
    update_job(session, job, progress=0.5, message="half way")
    assert job.lease_until >= first_lease

    job.lease_until = utcnow() - timedelta(seconds=1)  # its worker died
    session.commit()
    again = claim_job(session, job.id)
    assert again is not None and again.attempts == 2
    update_job(session, again, state="done")
    session.commit()
    assert claim_job(session, job.id) is None and job.lease_until is None


def _dead_report(session, campaign, attempts: int) -> Report:
    """A report whose worker claimed it and then died (its lease ran out)."""
    report = request_report(session, campaign)
    queue_report(session, report)
    session.flush()
    # The message went to a worker, not run here: marked sent without running it.
    session.execute(update(OutboxMessage).values(sent_at=utcnow()))
    session.info.pop("minsheng.pending_tasks", None)
    session.commit()
    session.execute(
        update(Job)
        .where(Job.id == report.job_id)
        .values(state="running", attempts=attempts, lease_until=utcnow() - timedelta(minutes=1))
    )
    report.status = "running"
    session.commit()
    return report


def test_a_job_whose_worker_died_is_queued_again_then_failed_with_the_reason(
    app, session, campaign, broker
):
    report = _dead_report(session, campaign, attempts=1)
    reaped = reap_jobs(session, max_attempts=2, queue_timeout=timedelta(minutes=30))
    session.commit()
    job = session.get(Job, report.job_id)
    assert (reaped.requeued, reaped.failed) == (1, 0)
    assert job.state == "queued" and "attempt 2 of 2" in job.message
    assert broker["sent"][-1] == ("exporters.render_report", (report.id,))

    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(state="running", attempts=2, lease_until=utcnow() - timedelta(minutes=1))
    )
    session.commit()
    reaped = reap_jobs(session, max_attempts=2, queue_timeout=timedelta(minutes=30))
    session.commit()
    session.refresh(report)
    assert reaped.failed == 1
    assert job.state == "failed" and "stopped responding" in job.message
    assert report.status == "failed" and "stopped responding" in report.error


def test_the_report_page_shows_why_and_its_retry_button_renders_the_report(
    app, session, campaign, client, login
):
    login("organizer")
    report = _dead_report(session, campaign, attempts=3)
    reap_jobs(session, max_attempts=3, queue_timeout=timedelta(minutes=30))
    session.commit()

    page = client.get(f"/campaigns/{campaign.slug}/reports")
    html = page.get_data(as_text=True)
    assert "stopped responding" in html
    assert f"/jobs/{report.job_id}/retry" in html

    retried = client.post(f"/jobs/{report.job_id}/retry")
    assert retried.status_code == 302
    assert retried.headers["Location"].endswith(f"/campaigns/{campaign.slug}/reports")
    session.expire_all()
    assert session.get(Report, report.id).status == "done"  # rendered in-process, eagerly
    assert session.get(Job, report.job_id).state == "done"
    assert client.post(f"/jobs/{report.job_id}/retry").status_code == 422  # not failed now


def test_a_queued_job_whose_message_the_broker_lost_is_sent_again(app, session, campaign, broker):
    report = request_report(session, campaign)
    queue_report(session, report)
    session.commit()
    assert len(broker["sent"]) == 1
    timeout = timedelta(minutes=30)
    assert reap_jobs(session, max_attempts=3, queue_timeout=timeout).resent == 0

    session.execute(update(OutboxMessage).values(sent_at=utcnow() - timedelta(hours=1)))
    session.commit()
    assert reap_jobs(session, max_attempts=3, queue_timeout=timeout).resent == 1
    session.commit()
    assert broker["sent"][-1] == ("exporters.render_report", (report.id,))
    # The copy is recent: nothing more is resent until it too is old.
    assert reap_jobs(session, max_attempts=3, queue_timeout=timeout).resent == 0


def test_tasks_retry_a_lost_database_for_minutes_and_redis_waits_longer_than_any_task(app):
    celery = get_celery(app)
    ours = {
        name: task
        for name, task in celery.tasks.items()
        if name.split(".")[0]
        in {"minsheng", "exporters", "analysis", "contacts", "invitations", "recommendations"}
    }
    assert {"minsheng.relay_outbox", "minsheng.reap_jobs", "exporters.render_report"} <= set(ours)
    for name, task in ours.items():
        assert "OperationalError" in {e.__name__ for e in task.autoretry_for}, name
        delays = [
            min(task.retry_backoff_max, task.retry_backoff * 2**n) for n in range(task.max_retries)
        ]
        assert sum(delays) >= 10 * 60, f"{name} gives up on the database within {sum(delays)} s"
    limit = celery.conf.task_time_limit
    assert celery.conf.broker_transport_options["visibility_timeout"] == visibility_timeout(limit)
    assert visibility_timeout(limit) > limit + DATABASE_RETRY["retry_backoff_max"]
    assert set(celery.conf.beat_schedule) >= {"minsheng-relay-outbox", "minsheng-reap-jobs"}


def test_while_the_database_is_down_the_api_answers_503_with_retry_after(make_app):
    down = make_app(DATABASE_URL="postgresql+psycopg://minsheng@127.0.0.1:9/minsheng")
    client = down.test_client()
    api = client.post("/api/v1/campaigns/transport-2026/responses", json={"answers": {}})
    assert api.status_code == 503
    assert int(api.headers["Retry-After"]) > 0
    assert "unavailable" in api.get_json()["errors"][0]["message"]
    page = client.get("/healthz")
    assert page.status_code == 503 and page.headers["Retry-After"]
