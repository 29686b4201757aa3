"""Response ingest under load: minsheng's respondent page and JSON API against a bare Flask +
WTForms + single INSERT endpoint, all under gunicorn on the same throwaway PostgreSQL cluster.

    .venv/bin/python bench/ingest.py [--clients 32] [--seconds 20] [--workers 4]

Each client thread sends a mix of valid submissions (75 %), invalid ones (15 %: an age out of
range or a required answer missing) and retries of a submission it already sent (10 %, which
must not store a second row) of the 20-question questionnaire in `bench/ingest_campaign.yaml`.
It prints accepted responses per second, p50/p95/p99 latency over all requests, errors (any
unexpected status), and checks afterwards that every accepted submission is in the database
exactly once. The cluster runs with PostgreSQL's default durability (fsync and synchronous
commit on), since "stored before thanks" is the promise being measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median, quantiles
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
SLUG = "bench-ingest"


# --- the throwaway cluster -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        sys.exit("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    return candidates[-1].parent


@contextmanager
def postgres() -> Iterator[str]:
    """initdb + start a cluster on a free port (as user `postgres` when run as root); yields
    its URL and removes everything afterwards."""
    bindir = pg_bin()
    data = Path(tempfile.mkdtemp(prefix="minsheng-bench-pg."))
    owner: list[str] = []
    if os.geteuid() == 0:
        owner = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data, "postgres")
    data.chmod(0o700)
    port = free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*owner, *cmd], check=True, stdout=subprocess.DEVNULL)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "minsheng", "--auth=trust", "-E", "UTF8")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=300"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(data / "log"),
        "-w",
        "-o",
        options,
        "start",
    )
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "minsheng", "bench")
        yield f"postgresql+psycopg://minsheng@127.0.0.1:{port}/bench"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], workers: int, path: str, pythonpath: Path = ROOT
) -> Iterator[str]:
    """Serve `app` with `workers` sync workers on a free port; yields the base URL once `path`
    answers."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            str(pythonpath),
            "--log-level",
            "warning",
            app,
        ],
        env={**os.environ, **env},
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{app} did not start on port {port}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


# --- submissions ---------------------------------------------------------------------------


def valid_answers(rng: random.Random) -> dict[str, Any]:
    owns_car = rng.choice(["yes", "no"])
    answers: dict[str, Any] = {
        "district": rng.choice(["jinjiang", "qingyang", "jinniu", "wuhou", "chenghua"]),
        "age": str(rng.randint(16, 90)),
        "mode": rng.choice(["metro", "bus", "car", "ebike", "bike", "walk", "taxi"]),
        "minutes": str(rng.randint(5, 120)),
        "problems": rng.sample(
            ["congestion", "parking", "bus_frequency", "last_mile", "safety"], 2
        ),
        "nps": str(rng.randint(0, 10)),
        "owns_car": owns_car,
        "last_trip": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "title": "公交线路优化",
        "suggestion": "建议增加早高峰地铁班次，并在地铁站周边增加非机动车停放区。" * 2,
        "contact_ok": rng.choice(["yes", "no"]),
    }
    for name in ("bus", "metro", "parking", "walk", "bike", "taxi", "roads", "info"):
        answers[f"sat_{name}"] = str(rng.randint(1, 5))
    if owns_car == "yes":
        answers["spend"] = str(rng.randint(0, 800))
    return answers


def invalid_answers(rng: random.Random) -> dict[str, Any]:
    answers = valid_answers(rng)
    if rng.random() < 0.5:
        answers["age"] = "200"
    else:
        del answers["district"]
    return answers


@dataclass
class Target:
    """How one endpoint is driven: its form page (for the CSRF token) and its POST."""

    name: str
    kind: str  # "page", "api" or "bare"
    path: str
    accepted: int  # status of a new valid submission
    repeated: int  # status of a retry


TARGETS = {
    "bare": Target("bare Flask + WTForms + INSERT", "bare", "/bare", 302, 302),
    "page": Target("minsheng respondent page", "page", f"/s/{SLUG}", 302, 302),
    "api": Target("minsheng JSON API", "api", f"/api/v1/campaigns/{SLUG}/responses", 201, 200),
}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


class Client:
    """One respondent device: a cookie jar and a CSRF token, one connection per request (gunicorn
    sync workers close each connection)."""

    def __init__(self, host: str, target: Target) -> None:
        self.host, self.target = host, target
        self.cookie = ""
        self.token = ""
        if target.kind != "api":
            status, headers, body = self.request("GET", target.path, None, {})
            assert status == 200, status
            self.cookie = "; ".join(
                v.split(";")[0] for k, v in headers if k.lower() == "set-cookie"
            )
            match = re.search(
                r'name="csrf_token" type="hidden" value="([^"]+)"', body
            ) or re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', body)
            self.token = match.group(1) if match else ""

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], str]:
        conn = http.client.HTTPConnection(*self.host.split(":"), timeout=30)
        if self.cookie:
            headers = {**headers, "Cookie": self.cookie}
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        data = reply.read().decode("utf-8", "replace")
        conn.close()
        return reply.status, reply.getheaders(), data

    def submit(self, sid: str, answers: dict[str, Any]) -> int:
        if self.target.kind == "api":
            payload = {
                "answers": answers,
                "submission_id": sid,
                "started_at": datetime.now(UTC).isoformat(),
            }
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"}
        else:
            fields: list[tuple[str, str]] = [("csrf_token", self.token), ("submission_id", sid)]
            if self.target.kind == "page":
                fields += [("page", "0"), ("nav", "submit")]
                fields.append(("started_at", datetime.now(UTC).isoformat()))
            for name, value in answers.items():
                values = value if isinstance(value, list) else [value]
                fields += [(name, v) for v in values]
            body = urllib.parse.urlencode(fields).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", self.target.path, body, headers)[0]


def drive(host: str, target_key: str, threads: int, seconds: float, seed: int) -> Tally:
    """Run `threads` clients for `seconds` in this process; return what they saw."""
    target = TARGETS[target_key]
    tally = Tally()
    lock = threading.Lock()
    start_line = threading.Barrier(threads)

    prefix = target.kind[0]  # "p"age, "a"pi, "b"are: stored rows are told apart by it

    def one(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = Client(host, target)
        sent: list[str] = []
        start_line.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.10 and sent:
                kind, sid, answers = "retry", rng.choice(sent), valid_answers(rng)
            elif roll < 0.25:
                kind, sid, answers = "invalid", prefix + uuid.uuid4().hex, invalid_answers(rng)
            else:
                kind, sid, answers = "valid", prefix + uuid.uuid4().hex, valid_answers(rng)
            began = time.perf_counter()
            try:
                status = client.submit(sid, answers)
            except OSError as exc:
                status, problem = 0, f"{type(exc).__name__}: {exc}"
            latency = time.perf_counter() - began
            expected = {"valid": target.accepted, "retry": target.repeated, "invalid": 422}[kind]
            with lock:
                tally.requests += 1
                tally.latencies.append(latency)
                if status == expected and kind == "valid":
                    tally.accepted.append(sid)
                    sent.append(sid)
                elif status != expected:
                    tally.errors.append(problem if status == 0 else f"{kind}: HTTP {status}")

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return tally


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from the rounds of one endpoint (latency percentiles over all requests)."""
    latencies = sorted(x for p in parts for x in p["latencies"])
    cuts = quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "target": parts[0]["target"],
        "seconds": sum(p["seconds"] for p in parts),
        "requests": sum(p["requests"] for p in parts),
        "accepted": [sid for p in parts for sid in p["accepted"]],
        "errors": [e for p in parts for e in p["errors"]],
        "p50": cuts[49] * 1000,
        "p95": cuts[94] * 1000,
        "p99": cuts[98] * 1000,
    }


def measure(host: str, target_key: str, clients: int, seconds: float, procs: int) -> dict[str, Any]:
    per_proc = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    with ProcessPoolExecutor(procs) as pool:
        tallies = list(
            pool.map(
                drive,
                [host] * procs,
                [target_key] * procs,
                per_proc,
                [seconds] * procs,
                range(procs),
            )
        )
    return {
        "target": TARGETS[target_key].name,
        # Clients send for exactly `seconds` once all have their form page (process start-up
        # and that first GET are not counted).
        "seconds": seconds,
        "requests": sum(t.requests for t in tallies),
        "accepted": [sid for t in tallies for sid in t.accepted],
        "errors": [e for t in tallies for e in t.errors],
        "latencies": [x for t in tallies for x in t.latencies],
    }


# --- checking what is stored ---------------------------------------------------------------


def stored_ids(url: str, table: str, where: str = "") -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT submission_id FROM {table} {where}")).scalars().all()
    engine.dispose()
    return list(rows)


def check(result: dict[str, Any], stored: list[str]) -> dict[str, Any]:
    accepted = set(result["accepted"])
    result["stored"] = len(stored)
    result["missing"] = len(accepted - set(stored))
    result["duplicates"] = len(stored) - len(set(stored))
    result["rate"] = len(result["accepted"]) / result["seconds"]
    return result


def prepare_minsheng(url: str, env: dict[str, str]) -> None:
    """Migrate the database and load the benchmark campaign through the CLI."""
    subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "minsheng",
            "campaign",
            "load",
            str(BENCH / "ingest_campaign.yaml"),
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (<= 256)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per endpoint (<= 300)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--procs", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--rounds", type=int, default=4, help="turns each endpoint takes")
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, 256))
    seconds = max(1.0, min(args.seconds, 300.0))
    procs = max(1, min(args.procs, clients))
    args.rounds = max(1, min(args.rounds, 20))

    from contacts.pii import generate_key
    from minsheng.dbtool import upgrade

    with postgres() as url, tempfile.TemporaryDirectory() as instance:
        upgrade(url)
        env = {
            "MINSHENG_DATABASE_URL": url,
            "MINSHENG_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "MINSHENG_PII_KEY": generate_key(),
            "MINSHENG_INSTANCE_PATH": instance,
            "MINSHENG_LOG_LEVEL": "WARNING",
            "BARE_DATABASE_URL": url,
            # The 32 clients post from one address as fast as they can: the public doors' limits
            # (minsheng/throttle.py) would answer them 429. The limiter stays on, counting every
            # request as it does in production (in each process's memory, as without Redis),
            # with limits the run cannot reach.
            "MINSHENG_RATE_LIMIT_PER_ADDRESS": "100000000 per minute",
            "MINSHENG_RATE_LIMIT_PER_LINK": "100000000 per minute",
        }
        prepare_minsheng(url, env)
        sys.path.insert(0, str(BENCH))
        from bare_ingest import create_table

        create_table(url)
        # Both servers run side by side and the endpoints take turns in short rounds, so a
        # change in the machine's load during the run affects all three alike.
        rounds: dict[str, list[dict[str, Any]]] = {key: [] for key in TARGETS}
        slice_seconds = seconds / args.rounds
        with (
            gunicorn("bare_ingest:create_app()", env, args.workers, "/bare", BENCH) as bare_host,
            gunicorn("minsheng.app:create_app()", env, args.workers, f"/s/{SLUG}") as host,
        ):
            for turn in range(args.rounds):
                # Every other round runs the endpoints in the opposite order, so neither side
                # always follows the other (a warmed cache, a checkpoint just written).
                order = list(TARGETS) if turn % 2 == 0 else list(reversed(TARGETS))
                for key in order:
                    server = bare_host if key == "bare" else host
                    rounds[key].append(measure(server, key, clients, slice_seconds, procs))
        minsheng_ids = stored_ids(url, "responses")
        results = [
            check(merge(rounds["bare"]), stored_ids(url, "bare_responses")),
            check(merge(rounds["page"]), [s for s in minsheng_ids if s.startswith("p")]),
            check(merge(rounds["api"]), [s for s in minsheng_ids if s.startswith("a")]),
        ]
    ratios = round_ratios(rounds)
    report(results, clients, seconds, args.workers, ratios)
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    (out / "ingest.json").write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(),
                "load_average": os.getloadavg(),
                "rounds": {
                    key: [round(len(r["accepted"]) / r["seconds"], 1) for r in parts]
                    for key, parts in rounds.items()
                },
                "ratios": ratios,
            },
            indent=2,
        )
    )
    return 0 if all(r["missing"] == 0 and r["duplicates"] == 0 for r in results) else 1


def round_ratios(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, list[float]]:
    """Each endpoint's accepted/s over the bare endpoint's in the same round: the machine's load
    moves both sides of one round alike, so the median of these is the figure to compare."""
    bare = [len(r["accepted"]) / r["seconds"] for r in rounds["bare"]]
    return {
        key: [len(r["accepted"]) / r["seconds"] / b for r, b in zip(parts, bare, strict=True)]
        for key, parts in rounds.items()
        if key != "bare"
    }


def report(
    results: list[dict[str, Any]],
    clients: int,
    seconds: float,
    workers: int,
    ratios: dict[str, list[float]],
) -> None:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    print(f"# ingest benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{clients} clients, {seconds:.0f} s per endpoint, gunicorn {workers} sync workers"
    )
    header = (
        f"{'endpoint':32} {'accepted/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'requests':>8} {'errors':>6} {'stored':>7} {'missing':>7} {'dupes':>5}"
    )
    print(header)
    for r in results:
        print(
            f"{r['target']:32} {r['rate']:10.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
            f"{r['requests']:8d} {len(r['errors']):6d} {r['stored']:7d} {r['missing']:7d} "
            f"{r['duplicates']:5d}"
        )
    bare = results[0]["rate"]
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for (key, per_round), r in zip(ratios.items(), results[1:], strict=True):
        shown = " ".join(f"{x:.0%}" for x in per_round)
        print(
            f"{r['target']}: {100 * r['rate'] / bare:.0f}% of the bare endpoint's throughput "
            f"over the run; per round {shown}; median {median(per_round):.0%} ({key})"
        )
    for r in results:
        if r["errors"]:
            print(f"{r['target']} errors (first 5): {r['errors'][:5]}")


if __name__ == "__main__":
    sys.exit(main())
