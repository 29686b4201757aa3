"""Soak: responses posted to the JSON API through faults of every server, nothing lost.

    .venv/bin/python bench/soak.py [--duration 300] [--clients 4]

On loopback: gunicorn (`minsheng/gunicorn_config.py`), a PostgreSQL cluster of its own with the
default durability, Redis with append-only persistence, a Celery worker and beat. Client threads
post responses for `--duration` seconds, each retrying the same `submission_id` until it gets an
answer (the API is idempotent by it), while faults are injected in turn: a web worker killed
(SIGKILL), the gunicorn master killed with its workers and started again, PostgreSQL restarted
in fast and in immediate shutdown mode, Redis restarted. It prints acknowledged, stored, missing
and duplicated submissions, client errors left after retries, the outage of each fault (the
longest stretch without a successful response that starts at the fault), every background job's
final state once beat has had time to reap, and returns 1 when a goal is missed: 0 missing,
0 duplicated, 0 stuck jobs, at most 5 s outage per web restart.
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


@contextmanager
def celery(env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A Celery worker (all queues) and beat, stopped on exit."""
    celery_bin = str(VENV_BIN / "celery")
    worker_log, beat_log = (logs / "worker.log").open("wb"), (logs / "beat.log").open("wb")
    procs = [
        subprocess.Popen(
            [celery_bin, "-A", "minsheng.worker", "worker", "--concurrency", "1",
             "--queues", "default,invitations,analysis,reports", "--loglevel", "WARNING"],
            env=env, cwd=ROOT, stdout=worker_log, stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [celery_bin, "-A", "minsheng.worker", "beat", "--loglevel", "WARNING",
             "--schedule", str(logs / "beat-schedule")],
            env=env, cwd=ROOT, stdout=beat_log, stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        worker_log.close()
        beat_log.close()


def faults(web: Web, pg: Postgres, redis: Redis) -> list[tuple[str, Callable[[], None]]]:
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

    return [
        (WEB_FAULTS[0], kill_worker),
        (WEB_FAULTS[1], restart_master),
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


def job_states(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT state, count(*) FROM jobs GROUP BY state")).all()
    engine.dispose()
    return {str(state): int(n) for state, n in rows}


def soak(duration: float, clients: int, workers: int) -> dict[str, Any]:
    from contacts.pii import generate_key
    from minsheng.dbtool import upgrade

    folder = Path(tempfile.mkdtemp(prefix="minsheng-soak-"))
    pg, redis = Postgres(folder), Redis(folder)
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
            # The clients are a few scripted addresses posting as fast as they can: the public
            # rate limits (minsheng/throttle.py) would answer them 429, which is not a fault.
            "MINSHENG_RATE_LIMIT_ENABLED": "false",
            # Quick recovery: short leases and queue timeout, so beat reaps within the soak.
            "MINSHENG_JOB_LEASE_SECONDS": "20",
            "MINSHENG_JOB_QUEUE_TIMEOUT_SECONDS": "30",
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "FLASK_"))}
        env |= settings | {"PYTHONPATH": str(ROOT)}
        prepare_minsheng(pg.url, env)
        web = Web(env, workers)
        web.start()
        until_healthy(web.port)
        tally = Tally()
        with celery(env, folder):
            start = time.monotonic()
            until = start + duration
            threads = [
                threading.Thread(target=client, args=(web.port, until, i, tally, 60.0))
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            plan = faults(web, pg, redis)
            gap = duration / (len(plan) + 1)
            injected: list[tuple[str, float, float]] = []
            for index, (name, inject) in enumerate(plan, start=1):
                time.sleep(max(0.0, start + index * gap - time.monotonic()))
                at = time.monotonic()
                inject()
                injected.append((name, at, time.monotonic()))
            for thread in threads:
                thread.join()
            end = time.monotonic()
            time.sleep(5)  # let beat run its relay and reaper once more
            web.stop()
        ids = stored(pg.url)
        jobs = job_states(pg.url)
    finally:
        redis.stop()
        pg.remove()
        shutil.rmtree(folder, ignore_errors=True)
    acknowledged = set(tally.acknowledged)
    outages = {name: outage(tally.successes, at, done, end) for name, at, done in injected}
    return {
        "duration": duration,
        "acknowledged": len(acknowledged),
        "stored": len(ids),
        "missing": len(acknowledged - set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "client_errors": tally.errors,
        "outages": outages,
        "jobs": jobs,
        "stuck": jobs.get("queued", 0) + jobs.get("running", 0),
    }


def goals_met(result: dict[str, Any]) -> bool:
    return bool(
        result["missing"] == 0
        and result["duplicated"] == 0
        and result["stuck"] == 0
        and not result["client_errors"]
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
    print(f"{'jobs by final state':<40} {json.dumps(result['jobs'], sort_keys=True)}")
    print(f"{'stuck jobs (queued or running)':<40} {result['stuck']:>8}")
    print("goals met" if goals_met(result) else "GOALS MISSED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (<= 3600)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (<= 64)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    result = soak(
        max(30.0, min(args.duration, 3600.0)), max(1, min(args.clients, 64)), args.workers
    )
    report(result)
    return 0 if goals_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
