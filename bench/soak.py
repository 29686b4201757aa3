"""Soak: responses posted to the JSON API and background jobs run through faults of every
server; nothing lost, nothing duplicated, no job stuck.

    .venv/bin/python bench/soak.py [--duration 300] [--clients 4]

On loopback: gunicorn (`minsheng/gunicorn_config.py`), a PostgreSQL cluster of its own with the
default durability, Redis with append-only persistence, a Celery worker, beat and an SMTP sink
(aiosmtpd). Client threads post responses for `--duration` seconds, each retrying the same
`submission_id` until it gets an answer (the API is idempotent by it), while faults are injected
in turn: a web worker killed (SIGKILL), the gunicorn master killed with its workers and started
again, PostgreSQL restarted in fast and in immediate shutdown mode, Redis restarted, the Celery
worker killed (SIGKILL, then started again as a supervisor would) while it renders a report and
while it sends an invitation run, and PostgreSQL stopped for 10 s while a summary is computed.
The worker runs with short leases and beat intervals (`SOAK_JOB_SETTINGS`), so the reaper takes
a dead worker's job back within seconds rather than minutes.

It prints acknowledged, stored, missing and duplicated submissions, client errors left after
retries, the outage of each fault (the longest stretch without a successful response that starts
at the fault), every background job's final state once beat has had time to recover them, and
the messages each invited person received; it returns 1 when a goal is missed: 0 missing,
0 duplicated, 0 stuck jobs (each finished, or failed with a reason), every invited person exactly
one message, at most 5 s outage per web restart.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(BENCH))

from ingest import SLUG, free_port, pg_bin, prepare_minsheng, valid_answers  # noqa: E402

API_PATH = f"/api/v1/campaigns/{SLUG}/responses"
WEB_OUTAGE_GOAL = 5.0
WEB_FAULTS = ("web worker SIGKILL", "gunicorn master SIGKILL + restart")
INVITED = 120
REPORT_KILL = "Celery worker SIGKILL (report)"
SEND_KILL = "Celery worker SIGKILL (send run)"
# E-mails per second of the soak's send run, so it lasts long enough to be interrupted.
SEND_RATE = 20.0
# The worker's job settings: a lease a dead worker's job is taken back after, and beat's reaper
# and outbox relay every 2 s (production: 300 s, 60 s and 30 s; README.md, Configuration).
SOAK_JOB_SETTINGS = {
    "MINSHENG_JOB_LEASE_SECONDS": "8",
    "MINSHENG_JOB_REAP_SECONDS": "2",
    "MINSHENG_OUTBOX_RELAY_SECONDS": "2",
    "MINSHENG_JOB_QUEUE_TIMEOUT_SECONDS": "20",
    "MINSHENG_JOB_MAX_ATTEMPTS": "4",
}


class Postgres:
    """A throwaway cluster (owned by `postgres` when run as root) that can be restarted."""

    def __init__(self, folder: Path) -> None:
        self.bindir = pg_bin()
        self.data = Path(tempfile.mkdtemp(prefix="minsheng-soak-pg."))
        self.owner: list[str] = []
        if os.geteuid() == 0:
            self.owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.data, "postgres")
        self.data.chmod(0o700)
        self.port = free_port()
        self.url = f"postgresql+psycopg://minsheng@127.0.0.1:{self.port}/soak"

    def run(self, *cmd: str) -> None:
        subprocess.run([*self.owner, *cmd], check=True, stdout=subprocess.DEVNULL)

    def pg_ctl(self, *args: str) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def init(self) -> None:
        self.run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "minsheng", "--auth=trust",
            "-E", "UTF8",
        )  # fmt: skip
        self.start()
        self.run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "minsheng", "soak",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data}"
        self.pg_ctl(
            "-l", str(self.data / "log"), "-w", "-o", options + " -c max_connections=200", "start"
        )

    def stop(self, mode: str) -> None:
        self.pg_ctl("-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("fast")
        shutil.rmtree(self.data, ignore_errors=True)


class Redis:
    """redis-server with `appendonly yes` in a folder of its own; restartable on its port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "redis"
        self.folder.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--appendonly",
             "yes", "--dir", str(self.folder), "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
                ).stdout.strip()
                == b"PONG"
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis fsyncs its append-only file and exits
            self.process.wait(timeout=30)


class Web:
    """gunicorn with the shipped config on a fixed port, in its own process group."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env, self.workers = env, workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "python:minsheng.gunicorn_config", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--access-logfile",
             "/dev/null", "--log-level", "warning", "minsheng.wsgi:app"],
            env=self.env, cwd=ROOT, start_new_session=True,
        )  # fmt: skip

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def kill_node(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


@dataclass
class Tally:
    """What the clients saw: acknowledged ids, the times of successful answers, failures."""

    acknowledged: list[str] = field(default_factory=list)
    successes: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def post(port: int, sid: str, answers: dict[str, Any]) -> int:
    body = json.dumps(
        {"answers": answers, "submission_id": sid, "started_at": datetime.now(UTC).isoformat()}
    ).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("POST", API_PATH, body=body, headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def client(port: int, until: float, seed: int, tally: Tally, retry_for: float) -> None:
    """Post new submissions until `until`; retry each one (same id) for up to `retry_for` s."""
    rng = random.Random(seed)
    while time.monotonic() < until:
        sid = f"soak-{uuid.uuid4().hex}"
        answers = valid_answers(rng)
        give_up = time.monotonic() + retry_for
        last = ""
        while True:
            try:
                status = post(port, sid, answers)
            except (OSError, http.client.HTTPException) as exc:
                status, last = 0, type(exc).__name__
            if status in (200, 201):
                with tally.lock:
                    tally.acknowledged.append(sid)
                    tally.successes.append(time.monotonic())
                break
            last = last if status == 0 else f"HTTP {status}"
            if time.monotonic() > give_up:
                with tally.lock:
                    tally.errors.append(f"{sid}: {last}")
                break
            time.sleep(0.1)


def outage(successes: list[float], since: float, done: float, until: float) -> float:
    """The longest stretch without a successful answer from the fault (`since`) until the first
    success after the fault's injection finished (`done`), bounded by `until`."""
    times = sorted(t for t in successes if t >= since)
    recovered = next((t for t in times if t >= done), until)
    marks = [since, *(t for t in times if t < recovered), recovered]
    return max(b - a for a, b in itertools.pairwise(marks))


def until_healthy(port: int, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {limit:.0f} s")


class CeleryWorker:
    """`celery worker` on every queue with two pool processes, in a process group of its own, so
    a SIGKILL takes the pool with it as the kernel's OOM killer or a lost machine would. It runs
    supervised as production runs it (docker/compose.yaml `restart: unless-stopped`, systemd
    `Restart=always`): whenever it exits, killed by a fault or by an error of its own (Celery can
    exit with "Unrecoverable error" when its broker goes away under a task in flight), it is
    started again after `RESTART_DELAY` seconds. `crashes` counts the exits no fault caused."""

    RESTART_DELAY = 0.5

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.kills = 0
        self.crashes = 0
        self.supervisor = threading.Thread(target=self.supervise, daemon=True)

    def start(self) -> None:
        with self.lock:
            self._spawn()
        if not self.supervisor.is_alive():
            self.supervisor.start()

    def _spawn(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "celery"), "-A", "minsheng.worker", "worker", "--concurrency",
                 "2", "--queues", "default,invitations,analysis,reports", "--loglevel",
                 "INFO", "--without-gossip", "--without-mingle"],
                env=self.env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def supervise(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                process = self.process
            assert process is not None
            process.wait()
            if self.stopping.wait(self.RESTART_DELAY):
                return
            with self.lock:
                if self.process is process:  # not already started again by `kill`
                    self.crashes += 1
                    self._spawn()

    def kill(self) -> None:
        """SIGKILL the worker and its pool, then start it again at once."""
        with self.lock:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.kills += 1
            self._spawn()

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def celery(env: dict[str, str], logs: Path) -> Iterator[CeleryWorker]:
    """The Celery worker and beat (which runs the outbox relay and the lease reaper), stopped
    on exit."""
    worker = CeleryWorker(env, logs / "worker.log")
    worker.start()
    with (logs / "beat.log").open("wb") as beat_log:
        beat = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "minsheng.worker", "beat", "--loglevel", "WARNING",
             "--schedule", str(logs / "beat-schedule")],
            env=env, cwd=ROOT, stdout=beat_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield worker
    finally:
        worker.stop()
        beat.terminate()
        try:
            beat.wait(timeout=30)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()


class MailSink:
    """The SMTP server of the soak (aiosmtpd on loopback): counts what each recipient got."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.update(envelope.rcpt_tos)
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


class Database:
    """The soak's own look at the database, riding out the restarts it causes."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_pre_ping=True)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        deadline = time.monotonic() + 60
        while True:
            try:
                with self.engine.connect() as conn:
                    return list(conn.execute(text(sql), params).all())
            except DBAPIError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def job(self, job_id: int) -> tuple[str, float]:
        ((state, progress),) = self.rows(
            "SELECT state, progress FROM jobs WHERE id = :id", id=job_id
        )
        return str(state), float(progress)

    def open_jobs(self) -> int:
        return int(
            self.rows("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")[0][0]
        )


def wait_for(condition: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def invite(app: Any, count: int) -> list[str]:
    """Contacts with an e-mail address and an invitation each to the soak's campaign, which
    sends `SEND_RATE` e-mails per second; returns their addresses."""
    from sqlalchemy import select

    from campaigns.models import Campaign
    from contacts.lists import get_or_create_list, import_contacts
    from contacts.models import Contact
    from invitations.tokens import create_invitations
    from minsheng.db import get_session

    addresses = [f"resident{i}@soak.example" for i in range(count)]
    rows = ["姓名,邮箱,district"] + [f"居民{i},{a},d{i % 5}" for i, a in enumerate(addresses)]
    with app.app_context():
        session = get_session()
        campaign = session.scalars(select(Campaign).where(Campaign.slug == SLUG)).one()
        campaign.settings = {
            **campaign.settings,
            "sending": {"rate_per_second": {"email": SEND_RATE}},
        }
        people = get_or_create_list(session, "soak")
        import_contacts(session, people, "\n".join(rows).encode(), "soak.csv")
        ids = list(session.scalars(select(Contact.id).where(Contact.list_id == people.id)))
        create_invitations(session, campaign, ids)
        session.commit()
        session.close()
    return addresses


def start_job(app: Any, kind: str) -> int:
    """Ask for a report, a summary or the invitation run the way the pages do (a job, its task
    through the outbox, one commit); returns the job's id."""
    from sqlalchemy import select

    from analysis.tasks import request_summary
    from campaigns.models import Campaign
    from exporters.reports import request_report
    from exporters.tasks import queue_report
    from invitations.send_runs import plan_send_run
    from invitations.tasks import queue_send_run
    from minsheng.db import get_session

    with app.app_context():
        session = get_session()
        campaign = session.scalars(select(Campaign).where(Campaign.slug == SLUG)).one()
        if kind == "report":
            report = request_report(session, campaign)
            queue_report(session, report)
            job_id = report.job_id
        elif kind == "summary":
            job_id = request_summary(session, campaign, ["district"]).id
        else:
            run = queue_send_run(session, plan_send_run(session, campaign, "invitation", "email"))
            assert run is not None, "nobody to invite"
            job_id = run.id
        session.commit()
        session.close()
    assert job_id is not None
    return job_id


@dataclass
class JobFault:
    """What a fault aimed at a job hit: the job, whether it was at work when the fault came."""

    job_id: int
    at_work: bool


def faults(
    web: Web,
    pg: Postgres,
    redis: Redis,
    worker: CeleryWorker,
    jobs: Callable[[str], int],
    db: Database,
    sink: MailSink,
    hits: dict[str, JobFault],
) -> list[tuple[str, Callable[[], None]]]:
    def kill_worker() -> None:
        os.kill(random.choice(web.worker_pids()), signal.SIGKILL)

    def restart_master() -> None:
        web.kill_node()
        web.start()

    def restart_pg(mode: str) -> Callable[[], None]:
        def restart() -> None:
            pg.stop(mode)
            pg.start()

        return restart

    def restart_redis() -> None:
        redis.stop()
        redis.start()

    def kill_celery_during(
        name: str, kind: str, at_work: Callable[[int], bool]
    ) -> Callable[[], None]:
        def inject() -> None:
            job_id = jobs(kind)
            hits[name] = JobFault(job_id, wait_for(lambda: at_work(job_id), 60))
            worker.kill()

        return inject

    def stop_pg_during_summary() -> None:
        job_id = jobs("summary")
        hits["PostgreSQL stopped 10 s (summary)"] = JobFault(
            job_id, wait_for(lambda: db.job(job_id)[0] == "running", 30)
        )
        pg.stop("fast")
        time.sleep(10)
        pg.start()

    def rendering(job_id: int) -> bool:
        state, progress = db.job(job_id)
        return state == "running" and progress > 0.05

    def sending(_job_id: int) -> bool:
        return sink.total() >= INVITED // 4

    # The web restarts come first, on a machine not yet busy restarting a Celery worker or
    # rendering a report; the job faults next, so their recovery overlaps the rest of the load.
    return [
        (WEB_FAULTS[0], kill_worker),
        (WEB_FAULTS[1], restart_master),
        ("PostgreSQL stopped 10 s (summary)", stop_pg_during_summary),
        (REPORT_KILL, kill_celery_during(REPORT_KILL, "report", rendering)),
        (SEND_KILL, kill_celery_during(SEND_KILL, "send", sending)),
        ("PostgreSQL restart (fast)", restart_pg("fast")),
        ("PostgreSQL restart (immediate)", restart_pg("immediate")),
        ("Redis restart", restart_redis),
    ]


def stored(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT submission_id FROM responses")).scalars().all()
    engine.dispose()
    return [str(r) for r in rows]


def final_jobs(db: Database) -> list[dict[str, Any]]:
    """Every job with its final state, attempts and message (why it failed)."""
    rows = db.rows("SELECT id, kind, state, attempts, message FROM jobs ORDER BY id")
    return [
        {"id": i, "kind": k, "state": st, "attempts": a, "message": m} for i, k, st, a, m in rows
    ]


def stuck(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs neither finished nor failed with a reason."""
    return [
        j
        for j in jobs
        if j["state"] not in ("done", "failed") or (j["state"] == "failed" and not j["message"])
    ]


def soak(duration: float, clients: int, workers: int, logs: Path | None = None) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    from contacts.pii import generate_key
    from minsheng.app import create_app
    from minsheng.db import get_database
    from minsheng.dbtool import upgrade

    folder = Path(tempfile.mkdtemp(prefix="minsheng-soak-"))
    pg, redis = Postgres(folder), Redis(folder)
    sink = MailSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        pg.init()
        redis.start()
        upgrade(pg.url)
        settings = {
            "MINSHENG_DATABASE_URL": pg.url,
            "MINSHENG_BROKER_URL": redis.url,
            "MINSHENG_RESULT_BACKEND": redis.url,
            "MINSHENG_SECRET_KEY": secrets.token_urlsafe(48),
            "MINSHENG_PII_KEY": generate_key(),
            "MINSHENG_INSTANCE_PATH": str(folder / "instance"),
            "MINSHENG_LOG_LEVEL": "WARNING",
            "MINSHENG_SMTP_HOST": "127.0.0.1",
            "MINSHENG_SMTP_PORT": str(smtp.port),
            # The clients are a few scripted addresses posting as fast as they can: the public
            # rate limits (minsheng/throttle.py) would answer them 429, which is not a fault.
            "MINSHENG_RATE_LIMIT_ENABLED": "false",
            **SOAK_JOB_SETTINGS,
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "FLASK_"))}
        env |= settings | {"PYTHONPATH": str(ROOT)}
        prepare_minsheng(pg.url, env)
        # This process asks for reports, summaries and sending as the pages do.
        app = create_app({k.removeprefix("MINSHENG_"): v for k, v in settings.items()})
        addresses = invite(app, INVITED)
        db = Database(pg.url)
        web = Web(env, workers)
        web.start()
        until_healthy(web.port)
        tally = Tally()
        hits: dict[str, JobFault] = {}
        with celery(env, folder) as worker:
            start = time.monotonic()
            until = start + duration
            threads = [
                threading.Thread(target=client, args=(web.port, until, i, tally, 60.0))
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            plan = faults(web, pg, redis, worker, lambda kind: start_job(app, kind), db, sink, hits)
            gap = duration / (len(plan) + 1)
            injected: list[tuple[str, float, float, datetime]] = []
            for index, (name, inject) in enumerate(plan, start=1):
                time.sleep(max(0.0, start + index * gap - time.monotonic()))
                at, wall = time.monotonic(), datetime.now(UTC)
                inject()
                injected.append((name, at, time.monotonic(), wall))
            for thread in threads:
                thread.join()
            end = time.monotonic()
            # Beat takes back what the faults left: wait until every job has finished, within a
            # bound (what is still open then is stuck). A finished send job has handed all its mail
            # to the sink; waiting for INVITED messages would wait out the bound whenever a step is
            # `uncertain` (its message may never have left).
            wait_for(lambda: db.open_jobs() == 0, 90)
            time.sleep(2 * int(SOAK_JOB_SETTINGS["MINSHENG_JOB_REAP_SECONDS"]))  # any late resend
            settled = time.monotonic() - end
            crashes = worker.crashes
            web.stop()
        ids = stored(pg.url)
        jobs = final_jobs(db)
        finished = dict(db.rows("SELECT id, finished_at FROM jobs"))
        deliveries = dict(db.rows("SELECT state, count(*) FROM deliveries GROUP BY state"))
        db.engine.dispose()
        get_database(app).engine.dispose()
    finally:
        smtp.stop()
        redis.stop()
        pg.remove()
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            for log in ("worker.log", "beat.log"):
                if (folder / log).exists():
                    shutil.copy(folder / log, logs / log)
        shutil.rmtree(folder, ignore_errors=True)
    acknowledged = set(tally.acknowledged)
    outages = {name: outage(tally.successes, at, done, end) for name, at, done, _ in injected}
    when = {name: wall for name, _, _, wall in injected}
    recoveries = {
        name: {
            "job": hit.job_id,
            "at_work": hit.at_work,
            "finished_after": (finished[hit.job_id] - when[name]).total_seconds()
            if finished.get(hit.job_id) is not None
            else None,
        }
        for name, hit in hits.items()
    }
    per_person = Counter(sink.received.get(address, 0) for address in addresses)
    return {
        "duration": duration,
        "acknowledged": len(acknowledged),
        "stored": len(ids),
        "missing": len(acknowledged - set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "client_errors": tally.errors,
        "outages": outages,
        "job_faults": recoveries,
        "jobs": jobs,
        "stuck": stuck(jobs),
        "settled_seconds": settled,
        "worker_crashes": crashes,
        "invited": len(addresses),
        "messages_per_person": dict(sorted(per_person.items())),
        "strangers": sum(n for a, n in sink.received.items() if a not in set(addresses)),
        "deliveries": {str(k): int(v) for k, v in deliveries.items()},
    }


def goals_met(result: dict[str, Any]) -> bool:
    return bool(
        result["missing"] == 0
        and result["duplicated"] == 0
        and not result["stuck"]
        and not result["client_errors"]
        and result["messages_per_person"] == {1: result["invited"]}
        and result["strangers"] == 0
        and all(result["outages"][name] <= WEB_OUTAGE_GOAL for name in WEB_FAULTS)
    )


def report(result: dict[str, Any]) -> None:
    load = os.getloadavg()
    print(f"# bench/soak.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {result['duration']:.0f} s")
    print(
        f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for key in ("acknowledged", "stored", "missing", "duplicated"):
        print(f"{key:<40} {result[key]:>8}")
    print(f"{'client errors after retries':<40} {len(result['client_errors']):>8}")
    for error in result["client_errors"][:10]:
        print(f"  {error}")
    for name, seconds in result["outages"].items():
        print(f"outage: {name:<32} {seconds:>8.2f} s")
    for name, hit in result["job_faults"].items():
        after = hit["finished_after"]
        print(
            f"job fault: {name:<29} job {hit['job']}"
            f"{'' if hit['at_work'] else ' (NOT at work when hit)'}, finished "
            + ("never" if after is None else f"{after:.1f} s after the fault")
        )
    print(f"{'jobs settled after the load ended in':<40} {result['settled_seconds']:>8.1f} s")
    print(f"{'worker exits no fault caused (restarted)':<40} {result['worker_crashes']:>8}")
    print("jobs, final state:")
    for job in result["jobs"]:
        print(
            f"  {job['id']:>4} {job['kind']:<30} {job['state']:<7} attempts {job['attempts']}"
            + (f"  {job['message'][:110]}" if job["message"] else "")
        )
    print(
        f"{'stuck jobs (not finished, or failed without a reason)':<40} {len(result['stuck']):>4}"
    )
    per_person = ", ".join(f"{n} message(s): {k}" for n, k in result["messages_per_person"].items())
    print(f"messages per invited person ({result['invited']})       {per_person}")
    print(f"{'messages to anyone not invited':<40} {result['strangers']:>8}")
    print(f"{'deliveries by state':<40} {json.dumps(result['deliveries'], sort_keys=True)}")
    print("goals met" if goals_met(result) else "GOALS MISSED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (<= 3600)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (<= 64)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--logs", type=Path, help="keep the Celery worker's and beat's logs here")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    result = soak(
        max(30.0, min(args.duration, 3600.0)),
        max(1, min(args.clients, 64)),
        args.workers,
        args.logs,
    )
    report(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, default=str, ensure_ascii=False, indent=1))
    return 0 if goals_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
