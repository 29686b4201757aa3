"""Start-up: how long a CLI call, an app import and a web node take to be ready, next to Flask.

    .venv/bin/python bench/startup.py [--repeat 7] [--baseline-source DIR]

Measured in fresh processes, `--repeat` times each, interleaved so that a busy moment of a shared
machine hits every subject alike; medians are printed with the min-max range:
- `minsheng --help` next to `flask --help` (no app), wall time and peak memory;
- `import minsheng.wsgi` (what a gunicorn master does) next to building a one-route Flask app;
- a fresh node: gunicorn started with `minsheng/gunicorn_config.py` until its first 200 on
  `/healthz`, next to gunicorn serving the one-route Flask app;
- a replaced worker: one worker killed with SIGKILL until the master's new one answers;
- a killed node: the master killed with SIGKILL (its worker orphaned), a new master started on
  the same port, until the first 200.
`--baseline-source DIR` also measures another checkout (e.g. `git archive` of an older commit)
in the same run, so a before/after comparison shares the machine's conditions.

Modules are byte-compiled once before timing (into a temporary `PYTHONPYCACHEPREFIX`), as they
are in an installed package; the database is a throwaway SQLite file.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
BARE_APP = '''"""One route, for the baseline."""
from flask import Flask

app = Flask("bare")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
'''


@dataclass
class Figures:
    """Repeated measurements of one subject."""

    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    def line(self, label: str, against: Figures | None = None) -> str:
        median = statistics.median(self.seconds)
        text = f"{label:<44} {median:7.3f} s  ({min(self.seconds):.3f}-{max(self.seconds):.3f})"
        if self.peak_mb:
            text += f"  {statistics.median(self.peak_mb):6.0f} MB"
        if against is not None:
            text += f"  x{median / statistics.median(against.seconds):.1f}"
        return text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed_run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one process run to completion."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:  # run it again to show why
        subprocess.run(command, env=env, cwd=cwd, check=True)
    return elapsed, usage.ru_maxrss / 1024


def answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def until_served(port: int, since: float, limit: float = 60.0) -> float:
    """Seconds from `since` until `/healthz` answers 200 (polled every 10 ms)."""
    while not answers(port):
        if time.perf_counter() - since > limit:
            raise SystemExit(f"nothing answered on port {port} within {limit:.0f} s")
        time.sleep(0.01)
    return time.perf_counter() - since


def gunicorn(
    app: str, port: int, env: dict[str, str], cwd: Path, config: bool
) -> subprocess.Popen[bytes]:
    command = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    if config:
        command += ["-c", "python:minsheng.gunicorn_config"]
    return subprocess.Popen(
        [*command, "--access-logfile", "/dev/null", app],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, killed as one like a container
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def worker_pid(master: int) -> int:
    """The pid of the (one) worker of gunicorn master `master`."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def node_start(app: str, env: dict[str, str], cwd: Path, config: bool) -> float:
    port = free_port()
    start = time.perf_counter()
    process = gunicorn(app, port, env, cwd, config)
    try:
        return until_served(port, start)
    finally:
        stop(process)


def worker_replaced(env: dict[str, str], cwd: Path, config: bool) -> float:
    port = free_port()
    process = gunicorn("minsheng.wsgi:app", port, env, cwd, config)
    try:
        until_served(port, time.perf_counter())
        start = time.perf_counter()
        os.kill(worker_pid(process.pid), signal.SIGKILL)
        return until_served(port, start)
    finally:
        stop(process)


def master_killed(env: dict[str, str], cwd: Path, config: bool) -> float:
    """SIGKILL the master and its worker (as when a container or a systemd unit is killed),
    start a new master on the same port: seconds from the kill until it answers."""
    port = free_port()
    first = gunicorn("minsheng.wsgi:app", port, env, cwd, config)
    until_served(port, time.perf_counter())
    start = time.perf_counter()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    if answers(port):
        raise SystemExit(f"port {port} still answers after the kill")
    second = gunicorn("minsheng.wsgi:app", port, env, cwd, config)
    try:
        return until_served(port, start)
    finally:
        stop(second)


def environment(source: Path, work: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "FLASK_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPATH=f"{source}{os.pathsep}{work}",
        PYTHONPYCACHEPREFIX=str(work / f"pycache-{name}"),
        MINSHENG_INSTANCE_PATH=str(work / f"instance-{name}"),
        MINSHENG_DATABASE_URL=f"sqlite:///{work / f'{name}.sqlite'}",
        MINSHENG_DEVELOPMENT="true",  # throwaway keys: this app serves nobody
    )
    return env


def subjects(source: Path, work: Path, name: str) -> dict[str, Callable[[], tuple[float, float]]]:
    env = environment(source, work, name)
    python = str(VENV_BIN / "python")
    # An older checkout without the config file runs gunicorn as it did then.
    config = (source / "minsheng" / "gunicorn_config.py").exists()
    return {
        f"{name}: minsheng --help": lambda: timed_run(
            [str(VENV_BIN / "minsheng"), "--help"], env, work
        ),
        f"{name}: import minsheng.wsgi": lambda: timed_run(
            [python, "-c", "import minsheng.wsgi"], env, work
        ),
        f"{name}: gunicorn node, first 200": lambda: (
            node_start("minsheng.wsgi:app", env, work, config),
            0.0,
        ),
        f"{name}: worker killed, next 200": lambda: (worker_replaced(env, work, config), 0.0),
        f"{name}: master kill -9 + restart, first 200": lambda: (
            master_killed(env, work, config),
            0.0,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs of each subject (default 7)")
    parser.add_argument(
        "--baseline-source", type=Path, default=None, help="another checkout to measure too"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="minsheng-startup-") as folder:
        work = Path(folder)
        (work / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
        flask_env = environment(ROOT, work, "flask")
        flask = str(VENV_BIN / "flask")
        python = str(VENV_BIN / "python")
        runs: dict[str, Callable[[], tuple[float, float]]] = {
            "flask --help (no app)": lambda: timed_run([flask, "--help"], flask_env, work),
            "build a one-route Flask app": lambda: timed_run(
                [python, "-c", "import bare_app"], flask_env, work
            ),
            "gunicorn one-route Flask app, first 200": lambda: (
                node_start("bare_app:app", flask_env, work, False),
                0.0,
            ),
        }
        runs |= subjects(ROOT, work, "minsheng")
        if args.baseline_source is not None:
            runs |= subjects(args.baseline_source.resolve(), work, "baseline")
        for run in runs.values():  # byte-compile, fill caches; not timed
            run()
        figures = {name: Figures() for name in runs}
        for _ in range(args.repeat):
            for name, run in runs.items():
                seconds, peak = run()
                figures[name].seconds.append(seconds)
                if peak:
                    figures[name].peak_mb.append(peak)

    print(f"# bench/startup.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.repeat} runs each")
    load = os.getloadavg()
    print(
        f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print("# median (min-max), peak RSS, ratio to the Flask baseline on the line above it")
    flask_help = figures["flask --help (no app)"]
    bare_import = figures["build a one-route Flask app"]
    bare_node = figures["gunicorn one-route Flask app, first 200"]
    against = {"--help": flask_help, "import": bare_import, "node, first": bare_node}
    for name, result in figures.items():
        baseline = next((b for key, b in against.items() if key in name and b is not result), None)
        print(result.line(name, baseline))


if __name__ == "__main__":
    main()
