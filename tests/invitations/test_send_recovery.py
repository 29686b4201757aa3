"""A send run survives its worker: a batch whose worker died is taken back within the lease (not
after Redis's hour), the run finishes when its last batch does (the hourly reminders are runs
too), and a worker killed while it waits for the rate limit or during the SMTP call, before the
server can deliver, leaves the step to the next run."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from invitations.channels import SmtpChannel, SmtpSettings
from invitations.models import Delivery
from invitations.send_runs import (
    BATCH_JOB_KIND,
    plan_send_run,
    recent_runs,
    run_batches,
    send_progress,
)
from invitations.sending import send_batch
from invitations.tasks import queue_send_run, send_batch_task, send_reminders_task
from minsheng.db import utcnow
from minsheng.jobs import Job, reap_jobs

from .local_servers import smtp_server
from .sending_helpers import email_context, invited_campaign

REAP = {"max_attempts": 3, "queue_timeout": timedelta(minutes=30)}


class KilledDuringCall(SmtpChannel):
    """An SMTP channel whose process is killed during its call number `die_at`: at its start
    (`at="start"`), when the server has all of the message but the final dot (`"hand-over"`),
    or right after the server accepted it (`"accepted"`)."""

    def __init__(self, settings: SmtpSettings, die_at: int, at: str = "start") -> None:
        super().__init__(settings)
        self.calls = 0
        self.die_at, self.at = die_at, at

    def send(self, message, hand_over=lambda: None):
        self.calls += 1
        if self.calls != self.die_at:
            return super().send(message, hand_over)
        if self.at == "start":
            raise SystemExit("worker killed")
        if self.at == "hand-over":

            def killed() -> None:
                raise SystemExit("worker killed")

            return super().send(message, killed)
        super().send(message, hand_over)
        raise SystemExit("worker killed")


def _expire_leases(session) -> None:
    """The batches' workers died: nobody renews their leases."""
    session.execute(
        update(Job)
        .where(Job.kind == BATCH_JOB_KIND, Job.state == "running")
        .values(lease_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()


@pytest.fixture()
def sink(app, monkeypatch):
    """A local SMTP server the app's e-mail channel sends to; `.port` is its port."""
    with smtp_server() as (server, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        server.port = port
        yield server


def _states(session) -> Counter[str]:
    return Counter(session.scalars(select(Delivery.state)))


def test_a_batch_whose_worker_died_is_taken_back_within_the_lease_and_its_run_finishes(
    app, session, broker, sink, monkeypatch
):
    camp, _ = invited_campaign(session, 4)
    run_job = queue_send_run(session, plan_send_run(session, camp, "invitation", "email"))
    session.commit()
    ((task, args),) = broker["sent"]
    assert task == "invitations.send_batch"

    # The worker is killed right after the server accepted the second message.
    dying = KilledDuringCall(SmtpSettings("127.0.0.1", sink.port), die_at=2, at="accepted")
    with monkeypatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr("invitations.tasks.channel_from_config", lambda *_: dying)
        send_batch_task(*args)
    session.rollback()
    assert len(sink.messages) == 2

    # No live worker renews its lease: the reaper queues the batch again at once.
    _expire_leases(session)
    reaped = reap_jobs(session, **REAP)
    session.commit()
    assert reaped.requeued == 1
    (task, again) = broker["sent"][-1]
    assert (task, again) == ("invitations.send_batch", args)

    send_batch_task(*again)
    # Redis hands the first message back an hour later: the batch is done, nothing is sent.
    assert send_batch_task(*args) == {"sent": 0}

    session.expire_all()
    recipients = Counter(m["To"] for m in sink.messages)
    assert len(recipients) == 4 and set(recipients.values()) == {1}
    # The step whose outcome its worker did not live to record is settled at once, not sent again.
    assert _states(session) == {"sent": 3, "uncertain": 1}
    run = session.get(Job, run_job.id)
    assert run.state == "done" and run.finished_at is not None
    assert send_progress(session, run, camp).done
    (batch,) = run_batches(session, run)
    assert batch.state == "done" and batch.attempts == 2 and batch.result["sent"] == 2


def test_a_run_is_done_with_its_last_batch_and_failed_with_the_reason_when_one_gave_up(
    app, session, broker, sink
):
    camp, _ = invited_campaign(session, 3)
    plan = plan_send_run(session, camp, "invitation", "email", batch_size=2)
    run_job = queue_send_run(session, plan)
    session.commit()
    first, second = (args for _, args in broker["sent"])

    send_batch_task(*first)
    session.expire_all()
    assert session.get(Job, run_job.id).state == "running"  # one batch is still queued

    # The second batch's worker dies every time: after its last attempt it fails for good.
    session.execute(update(Job).where(Job.id == second[3]).values(state="running", attempts=3))
    _expire_leases(session)
    assert reap_jobs(session, **REAP).failed == 1
    session.commit()
    session.expire_all()
    run = session.get(Job, run_job.id)
    assert run.state == "failed"
    assert run.message.startswith("1 of 2 batches failed: its worker stopped responding")
    assert len(sink.messages) == 2


def test_a_run_in_the_embedded_default_is_done_when_its_batches_are(app, session, sink):
    camp, _ = invited_campaign(session, 3)
    plan = plan_send_run(session, camp, "invitation", "email", batch_size=2)
    run_job = queue_send_run(session, plan)
    session.commit()  # both batches run here
    session.expire_all()
    assert len(sink.messages) == 3
    assert session.get(Job, run_job.id).state == "done"
    assert [b.result["sent"] for b in run_batches(session, run_job)] == [2, 1]


class KilledWhileWaiting:
    """A rate limiter whose process is killed while it waits for token number `die_at`."""

    def __init__(self, die_at: int) -> None:
        self.calls = 0
        self.die_at = die_at

    def wait(self) -> None:
        self.calls += 1
        if self.calls == self.die_at:
            raise SystemExit("worker killed")


def test_a_worker_killed_waiting_for_the_rate_limit_leaves_nobody_without_a_message(
    app, session, sink
):
    _camp, ids = invited_campaign(session, 4)
    ctx = replace(email_context(app, sink.port), limiter=KilledWhileWaiting(die_at=3))
    with pytest.raises(SystemExit):
        send_batch(session, ctx, ids, step=0)
    session.rollback()
    assert len(sink.messages) == 2
    send_batch(session, email_context(app, sink.port), ids, step=0)
    # The third invitation was not claimed before the wait, so the next run sent it.
    recipients = Counter(m["To"] for m in sink.messages)
    assert len(recipients) == 4 and set(recipients.values()) == {1}


@pytest.mark.parametrize("at", ["start", "hand-over"])
def test_a_worker_killed_during_the_smtp_call_leaves_the_step_to_the_next_run(
    app, session, sink, at
):
    _camp, ids = invited_campaign(session, 4)
    dying = KilledDuringCall(SmtpSettings("127.0.0.1", sink.port), die_at=2, at=at)
    with pytest.raises(SystemExit):
        send_batch(session, email_context(app, sink.port, dying), ids, step=0)
    session.rollback()
    # Without the final dot the server keeps nothing, and no claim was committed.
    assert len(sink.messages) == 1
    send_batch(session, email_context(app, sink.port), ids, step=0)
    recipients = Counter(m["To"] for m in sink.messages)
    assert len(recipients) == 4 and set(recipients.values()) == {1}
    # The first outcome was to be committed with the second claim: its row stays `sending`
    # (delivered, counted as sent once settled), never sent again.
    assert _states(session) == {"sent": 3, "sending": 1}


def test_the_hourly_reminder_job_sends_as_a_run_whose_batches_hold_leases(app, session, sink):
    policy = {"sending": {"reminders": {"max": 1, "interval_hours": 72}}}
    camp, _ = invited_campaign(session, 2, settings=policy)
    queue_send_run(session, plan_send_run(session, camp, "invitation", "email"))
    session.commit()
    session.execute(update(Delivery).values(sent_at=utcnow() - timedelta(days=4)))
    session.commit()

    assert send_reminders_task(camp.slug) == 1
    session.expire_all()
    reminders, _invitation = recent_runs(session, camp)
    assert reminders.result["kind"] == "reminder" and reminders.state == "done"
    (batch,) = run_batches(session, reminders)
    assert batch.state == "done" and batch.result["sent"] == 2
    assert sorted(m["Subject"][:2] for m in sink.messages) == ["提醒", "提醒", "邀请", "邀请"]
