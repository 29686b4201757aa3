"""Sending through a real Celery worker on Redis and PostgreSQL: a worker killed in the middle of
a batch, then the same task run again by another worker, sends nobody a second e-mail."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from aiosmtpd.controller import Controller
from celery import _state as celery_state
from sqlalchemy import func, select

from contacts.pii import generate_key
from invitations.models import Delivery
from invitations.sending import plan_first_messages
from invitations.tasks import send_batch_task
from minsheng.db import get_database, get_session

from ..invitations.local_servers import free_port
from ..invitations.sending_helpers import invited_campaign
from .conftest import fresh_database, run_worker

PEOPLE = 40


class SlowSink:
    """An SMTP server that takes 0.15 s per message, so a batch is still running when the
    worker is killed."""

    def __init__(self) -> None:
        self.recipients: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.15)
        with self.lock:
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.recipients)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_worker_killed_mid_batch_then_retried_sends_no_duplicate_email(
    server_url, broker_url, make_app, tmp_path
):
    # A Redis database of its own, so the suite's shared worker never takes this task.
    broker = broker_url.rsplit("/", 1)[0] + "/7"
    sink = SlowSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    previous = celery_state.get_current_app()
    try:
        with fresh_database(server_url) as url:
            from minsheng.dbtool import upgrade

            upgrade(url)
            settings = {
                "DATABASE_URL": url,
                "BROKER_URL": broker,
                "RESULT_BACKEND": broker,
                "INSTANCE_PATH": str(tmp_path),
                # The worker subprocess is not in TESTING mode: production-like keys.
                "SECRET_KEY": "integration-secret-" + "x" * 32,
                "PII_KEY": generate_key(),
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
            }
            app = make_app(**{**settings, "SMTP_PORT": port})
            with app.app_context():
                session = get_session()
                campaign, ids = invited_campaign(session, PEOPLE)
                campaign.settings = {"sending": {"rate_per_second": {"email": 1000}}}
                session.commit()
                (batch,) = plan_first_messages(session, campaign, "email", batch_size=PEOPLE)
                log = tmp_path / "workers.log"

                with run_worker(settings, log, f"a-{uuid.uuid4().hex[:6]}@localhost") as a:
                    send_batch_task.delay(batch, 0, "email")
                    _wait_for(lambda: sink.count() >= 10, 60, "the first e-mails")
                    a.process.kill()  # SIGKILL: no warm shutdown, the task is not acknowledged
                    a.process.wait()
                killed_at = sink.count()
                assert killed_at < PEOPLE

                # Redelivery of the unacknowledged task amounts to running it again.
                with run_worker(settings, log, f"b-{uuid.uuid4().hex[:6]}@localhost"):
                    send_batch_task.delay(batch, 0, "email").get(timeout=120)

                session.expire_all()
                states = dict(
                    session.execute(
                        select(Delivery.state, func.count()).group_by(Delivery.state)
                    ).all()
                )
                session.close()
            get_database(app).engine.dispose()
    finally:
        controller.stop()
        previous.set_current()
        previous.set_default()

    assert len(sink.recipients) == len(set(sink.recipients)), "someone got a second e-mail"
    # At most the one message in flight when the worker died is lost (at most once).
    assert len(sink.recipients) >= PEOPLE - 1, (
        f"states {states}; workers' log:\n{log.read_text(errors='replace')[-6000:]}"
    )
    assert states.get("sent", 0) >= PEOPLE - 1
    assert states.get("sending", 0) <= 1
    assert sum(states.values()) == PEOPLE
    assert len(ids) == PEOPLE


def test_redis_rate_limit_is_shared_by_all_workers(broker_url):
    import redis

    from invitations.ratelimits import RedisTokenBucket

    client = redis.Redis.from_url(broker_url.rsplit("/", 1)[0] + "/7")
    channel = f"test-{uuid.uuid4().hex[:6]}"
    # Two buckets on the same key stand for two workers: together they keep to 20 per second.
    workers = [RedisTokenBucket(client, channel, rate=20, burst=1) for _ in range(2)]
    started = time.monotonic()
    for n in range(11):
        workers[n % 2].wait()
    assert time.monotonic() - started >= 10 / 20 * 0.9
    client.close()


def test_fast_rate_takes_tokens_a_few_at_a_time_and_keeps_the_shared_rate(broker_url):
    import redis

    from invitations.ratelimits import RedisTokenBucket

    client = redis.Redis.from_url(broker_url.rsplit("/", 1)[0] + "/7")
    channel = f"test-{uuid.uuid4().hex[:6]}"
    workers = [RedisTokenBucket(client, channel, rate=100, burst=10) for _ in range(2)]
    calls = 0
    for bucket in workers:
        script = bucket.script

        def counted(*args, _script=script, **kwargs):
            nonlocal calls
            calls += 1
            return _script(*args, **kwargs)

        bucket.script = counted
    started = time.monotonic()
    for n in range(60):
        workers[n % 2].wait()
    # a full bucket of 10, then 100 per second for both together: 50 more take 0.5 s
    assert time.monotonic() - started >= 50 / 100 * 0.9
    assert calls < 30, f"{calls} round trips to Redis for 60 messages"
    client.close()
