"""Invitations at scale: create N invitations (random tokens, sha256 hashes, rows) with
`invitations.tokens.create_invitations`, then send M e-mails to a local SMTP sink through Celery
workers on Redis, on SQLite and on PostgreSQL, next to the raw ceilings measured in the same run.

    .venv/bin/python bench/invitations.py [--invitations 1000000] [--emails 10000] [--rounds 5]
        [--databases sqlite,postgresql] [--workers 2] [--batch-size 500]

Ceilings: for creation, a bare COPY (PostgreSQL) or executemany (SQLite) of the same rows with
tokens already hashed into a table with the same columns and indexes; for sending, one bare
smtplib connection pushing messages to the same sink, run before the first round of sending,
between rounds and after the last, in the same process (a round's ratio is to the mean of the
ceilings on either side of it; the median over the rounds is the figure). PostgreSQL and Redis
come from `scripts/services.sh` in a folder of their own, with PostgreSQL's durability turned
back on (fsync, synchronous_commit, full_page_writes) so the figures are those of a real server.
Prints throughput and peak memory (RSS of this process while creating, of the workers while
sending) and writes them to bench/out/invitations.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import platform
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from statistics import median
from typing import Any

import psutil
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contacts.lists import get_or_create_list, import_contacts  # noqa: E402
from contacts.models import Contact  # noqa: E402
from contacts.pii import generate_key  # noqa: E402
from forms.publishing import load_campaign_file  # noqa: E402
from invitations.models import Delivery  # noqa: E402
from invitations.sending import plan_first_messages  # noqa: E402
from invitations.tasks import send_batch_task  # noqa: E402
from invitations.tokens import create_invitations, new_tokens, token_hash  # noqa: E402
from minsheng.app import create_app  # noqa: E402
from minsheng.db import get_database, get_session  # noqa: E402
from minsheng.dbtool import upgrade  # noqa: E402

EXAMPLE = ROOT / "examples" / "transport.yaml"
SECRET = "bench-secret-key-" + "x" * 32


class PeakRss:
    """Samples the RSS of some processes every 50 ms; `peak` is the largest sum seen."""

    def __init__(self, processes: Callable[[], list[psutil.Process]]) -> None:
        self.processes = processes
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for proc in self.processes():
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class CountingSink:
    """An SMTP server that only counts what it accepts (and who, to spot duplicates)."""

    def __init__(self) -> None:
        self.count = 0
        self.recipients: set[str] = set()
        self.duplicates = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                if rcpt in self.recipients:
                    self.duplicates += 1
                self.recipients.add(rcpt)
            self.count += 1
        return "250 OK"


@contextmanager
def services() -> Iterator[tuple[str, str]]:
    """PostgreSQL and Redis from scripts/services.sh in a folder of their own."""
    state = tempfile.mkdtemp(prefix="minsheng-bench-inv.")
    env = {**os.environ, "MINSHENG_SERVICES_DIR": state}
    script = str(ROOT / "scripts" / "services.sh")
    out = subprocess.run([script, "start"], env=env, check=True, capture_output=True, text=True)
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in out.stdout.splitlines()
        if "=" in line
    )
    try:
        yield values["MINSHENG_TEST_DATABASE_URL"], values["MINSHENG_TEST_BROKER_URL"]
    finally:
        subprocess.run([script, "stop"], env=env, check=False, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def durable(server_url: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.exec_driver_sql(f"ALTER SYSTEM SET {setting} = on")
        conn.exec_driver_sql("SELECT pg_reload_conf()")
    engine.dispose()


def database_url(kind: str, server_url: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite'}"
    name = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def people_csv(count: int, start: int = 0) -> bytes:
    """`count` people numbered from `start`: each round invites people of its own, so a
    recipient the sink sees twice is a message sent twice."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "手机号", "邮箱", "district"])
    for i in range(start, start + count):
        writer.writerow([f"居民{i}", f"139{i:08d}", f"p{i}@bench.example", f"区{i % 20}"])
    return out.getvalue().encode("utf-8")


def create_phase(app: Any, count: int) -> dict[str, Any]:
    """create_invitations(count=N) for a fresh campaign, timed and with the process peak RSS."""
    me = psutil.Process()
    with app.app_context():
        session = get_session()
        campaign, _ = load_campaign_file(session, str(EXAMPLE))
        session.commit()
        base = me.memory_info().rss
        with PeakRss(lambda: [me]) as rss:
            started = time.perf_counter()
            create_invitations(session, campaign, None, count=count)
            session.commit()
            seconds = time.perf_counter() - started
        stored = session.scalar(text("SELECT count(*) FROM invitations"))
    return {
        "rows": int(stored or 0),
        "seconds": seconds,
        "per_second": count / seconds,
        "peak_rss_mb": rss.peak / 2**20,
        "rss_growth_mb": (rss.peak - base) / 2**20,
    }


def ceiling_phase(url: str, count: int) -> dict[str, Any]:
    """The same rows (tokens already hashed) written bare into a copy of the table."""
    now = datetime.now(UTC)
    rows = [(1, token_hash(t), "created", now) for t in new_tokens(count)]
    engine = create_engine(url)
    with engine.begin() as conn:
        if url.startswith("sqlite"):
            conn.exec_driver_sql(
                "CREATE TABLE ceiling (id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL, "
                "contact_id INTEGER, sample_id INTEGER, token_hash BLOB NOT NULL UNIQUE, "
                "status VARCHAR(20) NOT NULL, channel VARCHAR(20), stratum VARCHAR(500), "
                "expires_at DATETIME, created_at DATETIME NOT NULL, started_at DATETIME, "
                "completed_at DATETIME)"
            )
            conn.exec_driver_sql("CREATE INDEX ix_c1 ON ceiling (campaign_id)")
            conn.exec_driver_sql("CREATE INDEX ix_c2 ON ceiling (campaign_id, status)")
        else:
            conn.exec_driver_sql(
                "CREATE TABLE ceiling (LIKE invitations INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        if url.startswith("sqlite"):
            iso = [(c, h, s, t.isoformat()) for c, h, s, t in rows]
            cursor.executemany(
                "INSERT INTO ceiling (campaign_id, token_hash, status, created_at) "
                "VALUES (?, ?, ?, ?)",
                iso,
            )
        else:
            with cursor.copy(  # type: ignore[attr-defined]
                "COPY ceiling (campaign_id, token_hash, status, created_at) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
    return {"rows": count, "seconds": seconds, "per_second": count / seconds}


def start_workers(settings: dict[str, str], count: int, log: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    env.update({f"MINSHENG_{k}": v for k, v in settings.items()})
    workers = []
    with log.open("ab") as sink:
        for n in range(count):
            command = [
                sys.executable, "-m", "celery", "-A", "minsheng.worker", "worker",
                "-Q", "invitations", "--pool=solo", "--loglevel=WARNING",
                "-n", f"bench{n}-{uuid.uuid4().hex[:6]}@localhost",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            workers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink))
    return workers


def prepare_round(app: Any, emails: int, batch: int, start: int) -> tuple[list[list[int]], float]:
    """Import `emails` contacts, invite them and plan their first messages (not timed)."""
    with app.app_context():
        session = get_session()
        campaign, _ = load_campaign_file(session, str(EXAMPLE))
        campaign.settings = {**campaign.settings, "sending": {"rate_per_second": {"email": 1e6}}}
        contact_list = get_or_create_list(session, f"bench-{uuid.uuid4().hex[:6]}")
        started = time.perf_counter()
        import_contacts(session, contact_list, people_csv(emails, start), "bench.csv")
        ids = list(session.scalars(select(Contact.id).where(Contact.list_id == contact_list.id)))
        create_invitations(session, campaign, ids)
        session.commit()
        prepare = time.perf_counter() - started
        # Earlier rounds' invitations have their step 0 already: only this round's are planned.
        return plan_first_messages(session, campaign, "email", batch_size=batch), prepare


def send_round(sink: CountingSink, batches: list[list[int]], emails: int) -> dict[str, Any]:
    """Queue every batch of a round and time the (already running) workers until the sink has
    every message."""
    before = sink.count
    started = time.perf_counter()
    for ids_batch in batches:
        send_batch_task.delay(ids_batch, 0, "email")
    last, last_change = sink.count, time.perf_counter()
    while sink.count - before < emails:
        time.sleep(0.05)
        if sink.count != last:
            last, last_change = sink.count, time.perf_counter()
        elif time.perf_counter() - last_change > 120:
            break
    seconds = time.perf_counter() - started
    sent = sink.count - before
    return {"emails": sent, "seconds": seconds, "per_second": sent / seconds}


def send_phase(
    app: Any,
    settings: dict[str, str],
    sink: CountingSink,
    port: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """`args.rounds` rounds of `args.emails` messages through the workers, each between two runs
    of the bare ceiling in the same process: B E B E ... E B. A round's ratio is its workers'
    rate over the mean of the ceilings right before and right after it, so both sides of one
    ratio see the same machine; the figure to compare is the median of the rounds' ratios."""
    log = Path(settings["INSTANCE_PATH"]) / "workers.log"
    procs = start_workers(settings, args.workers, log)
    children = [psutil.Process(p.pid) for p in procs]
    ceiling_count = max(2000, args.emails // 5)
    rounds: list[dict[str, Any]] = []
    try:
        time.sleep(3)  # let the workers connect before the first round
        with PeakRss(lambda: children) as rss:
            ceiling = smtp_ceiling(port, ceiling_count)
            for n in range(args.rounds):
                batches, prepare = prepare_round(app, args.emails, args.batch, n * args.emails)
                sent = send_round(sink, batches, args.emails)
                after = smtp_ceiling(port, ceiling_count)
                pair = (ceiling["per_second"] + after["per_second"]) / 2
                rounds.append(
                    {
                        **sent,
                        "prepare_seconds": prepare,
                        "ceiling_before": ceiling["per_second"],
                        "ceiling_after": after["per_second"],
                        "ratio": sent["per_second"] / pair,
                        "load_average": os.getloadavg()[0],
                    }
                )
                print(
                    f"  round {n + 1}: {sent['per_second']:,.0f}/s, ceiling "
                    f"{ceiling['per_second']:,.0f} / {after['per_second']:,.0f}/s, "
                    f"{rounds[-1]['ratio']:.0%}",
                    flush=True,
                )
                ceiling = after
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    with app.app_context():
        states = dict(
            get_session()
            .execute(select(Delivery.state, func.count()).group_by(Delivery.state))
            .all()
        )
    return {
        "rounds": rounds,
        "emails": sum(r["emails"] for r in rounds),
        "per_second": median(r["per_second"] for r in rounds),
        "ceiling_per_second": median(
            (r["ceiling_before"] + r["ceiling_after"]) / 2 for r in rounds
        ),
        "ratio": median(r["ratio"] for r in rounds),
        "workers_peak_rss_mb": rss.peak / 2**20,
        "duplicates": sink.duplicates,
        "delivery_states": states,
    }


def smtp_ceiling(port: int, count: int) -> dict[str, Any]:
    """One bare smtplib connection, one small message after another."""
    run = uuid.uuid4().hex[:8]  # recipients of its own, apart from the duplicates count
    smtp = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for n in range(count):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "b@bench", f"c{n}-{run}@ceiling.example", "x"
        mail.set_content("ceiling")
        smtp.send_message(mail)
    seconds = time.perf_counter() - started
    smtp.quit()
    return {"emails": count, "seconds": seconds, "per_second": count / seconds}


def run(kind: str, args: argparse.Namespace, server_url: str, broker: str) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"minsheng-bench-{kind}."))
    url = database_url(kind, server_url, folder)
    upgrade(url)
    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = {
        "DATABASE_URL": url,
        "BROKER_URL": broker,
        "RESULT_BACKEND": broker,
        "SECRET_KEY": SECRET,
        "PII_KEY": generate_key(),
        "INSTANCE_PATH": str(folder),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    app = create_app({**settings, "SMTP_PORT": port})
    try:
        print(f"[{kind}] creating {args.invitations:,} invitations", flush=True)
        result: dict[str, Any] = {"create": create_phase(app, args.invitations)}
        print(f"[{kind}] ceiling: bare insert of the same rows", flush=True)
        result["create_ceiling"] = ceiling_phase(url, args.invitations)
        print(
            f"[{kind}] sending {args.rounds} x {args.emails:,} e-mails with {args.workers} "
            "workers, each round between two bare ceilings",
            flush=True,
        )
        result["send"] = send_phase(app, settings, sink, port, args)
    finally:
        get_database(app).engine.dispose()
        controller.stop()
    return result


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; Python {platform.python_version()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"{args.invitations:,} invitations; {args.rounds} rounds of {args.emails:,} e-mails, "
        f"{args.workers} workers, batches of {args.batch}",
        "",
        "| database | create invitations | bare insert (ceiling) | peak RSS creating (growth) "
        "| send via Celery (median) | bare SMTP (median) | ratio per round | median ratio "
        "| workers' peak RSS | duplicates |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, r in results.items():
        c, cc, s = r["create"], r["create_ceiling"], r["send"]
        per_round = " ".join(f"{x['ratio']:.0%}" for x in s["rounds"])
        lines.append(
            f"| {kind} | {c['per_second']:,.0f}/s ({c['seconds']:.1f} s) "
            f"| {cc['per_second']:,.0f}/s ({cc['seconds']:.1f} s) "
            f"| {c['peak_rss_mb']:.0f} MB (+{c['rss_growth_mb']:.0f}) "
            f"| {s['per_second']:,.0f}/s | {s['ceiling_per_second']:,.0f}/s | {per_round} "
            f"| {s['ratio']:.0%} | {s['workers_peak_rss_mb']:.0f} MB | {s['duplicates']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=10_000, help="e-mails per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of sending")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", "--batch-size", type=int, default=500)
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    # aiosmtpd logs every SMTP command at INFO; that alone would make the sink the bottleneck.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    unknown = set(kinds) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"--databases: unknown {sorted(unknown)}; expected sqlite and/or postgresql")
    results: dict[str, dict[str, Any]] = {}
    with services() as (server_url, broker):
        durable(server_url)
        for kind in kinds:
            results[kind] = run(kind, args, server_url, broker)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "invitations.json").write_text(json.dumps(results, indent=2, default=str))
    print(report(results, args))


if __name__ == "__main__":
    main()
