"""Fixtures for tests on the real parts: a PostgreSQL database of their own, Redis, and a Celery
worker running in a subprocess.

They need `MINSHENG_TEST_DATABASE_URL` (PostgreSQL) and `MINSHENG_TEST_BROKER_URL` (Redis);
`make test` starts both (`scripts/services.sh`) and sets them, so there these tests always run.
Elsewhere they are skipped with the reason. These tests commit real rows, so instead of the
rolled-back savepoint of the unit tests they get a database created for the run and dropped after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import _state as celery_state
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from contacts.pii import generate_key
from minsheng.db import make_engine
from minsheng.dbtool import upgrade
from minsheng.jobs import QUEUES, get_celery

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT = 90.0
INTEGRATION_PII_KEY = generate_key()


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostgreSQL test server (its `MINSHENG_TEST_DATABASE_URL`), or skip."""
    url = os.environ.get("MINSHENG_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip(
            "needs PostgreSQL: set MINSHENG_TEST_DATABASE_URL=postgresql+psycopg://... "
            "(make test starts one with scripts/services.sh)"
        )
    return url


@pytest.fixture(scope="session")
def broker_url() -> str:
    """The Redis test server (`MINSHENG_TEST_BROKER_URL`), or skip."""
    url = os.environ.get("MINSHENG_TEST_BROKER_URL", "")
    if not url.startswith("redis"):
        pytest.skip(
            "needs Redis: set MINSHENG_TEST_BROKER_URL=redis://... "
            "(make test starts one with scripts/services.sh)"
        )
    return url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database on the test server, dropped (with its connections) on exit."""
    name = f"minsheng_it_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def it_database_url(server_url: str) -> Iterator[str]:
    """A database built by `upgrade head` for this run's integration tests, dropped after."""
    with fresh_database(server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def it_engine(it_database_url: str) -> Iterator[Engine]:
    """An engine on the integration database; sessions from it commit for real."""
    engine = make_engine(it_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def it_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instance folder the worker and the test-side app share (reports land here)."""
    return tmp_path_factory.mktemp("it-instance")


@pytest.fixture(scope="session")
def it_settings(it_database_url: str, broker_url: str, it_instance: Path) -> dict[str, str]:
    """Settings shared by the worker subprocess and the test-side app, as `MINSHENG_*` names."""
    return {
        "DATABASE_URL": it_database_url,
        "BROKER_URL": broker_url,
        "RESULT_BACKEND": broker_url,
        "INSTANCE_PATH": str(it_instance),
        # Production-like keys: the worker subprocess is not in TESTING mode, and it decrypts
        # the contacts the test-side app encrypted.
        "SECRET_KEY": "integration-secret-" + "x" * 32,
        "PII_KEY": INTEGRATION_PII_KEY,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }


@pytest.fixture()
def redis_app(make_app: Callable[..., Flask], it_settings: dict[str, str]) -> Iterator[Flask]:
    """An app whose tasks go through Redis to the worker. Building it makes its Celery app the
    process default, so the previous (eager) one is restored afterwards for the unit tests."""
    previous = celery_state.get_current_app()
    app = make_app(**it_settings)
    try:
        with app.app_context():
            yield app
    finally:
        previous.set_current()
        previous.set_default()


@dataclass
class Worker:
    """A `celery worker` subprocess consuming every queue."""

    process: subprocess.Popen[bytes]
    name: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def run_worker(settings: dict[str, str], log: Path, name: str) -> Iterator[Worker]:
    """Run `celery -A minsheng.worker worker` (every queue, solo pool) with these `MINSHENG_*`
    settings, wait until it answers a ping, and stop it afterwards (warm shutdown, then kill; a
    test may also kill it itself)."""
    from celery import Celery

    env = {key: value for key, value in os.environ.items() if not key.startswith("MINSHENG_")}
    env.update({f"MINSHENG_{key}": value for key, value in settings.items()})
    command = [
        sys.executable, "-m", "celery", "-A", "minsheng.worker", "worker",
        "-Q", ",".join(QUEUES), "--pool=solo", "--loglevel=INFO", "-n", name,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    probe = Celery("probe", broker=settings["BROKER_URL"], set_as_current=False)
    started = Worker(process, name, log)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not probe.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{started.output()}")
        yield started
    finally:
        probe.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def worker(
    it_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """The suite's worker, against the integration database and Redis."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with run_worker(it_settings, log, f"it-{uuid.uuid4().hex[:8]}@localhost") as started:
        yield started


@pytest.fixture()
def worker_celery(worker: Worker, redis_app: Flask) -> Any:
    """The test-side Celery app that sends to the running worker."""
    return get_celery(redis_app)
