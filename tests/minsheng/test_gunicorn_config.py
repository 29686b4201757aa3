"""gunicorn with `minsheng/gunicorn_config.py`, run for real on a loopback port: it serves the app
and its access log shows routes, never the invitation tokens, signed references, resume codes or
referers that would let a reader of the log answer as someone else."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("Tok3nOfAnInvitation", "R3sumeC0de", "S1gnedOptOutRef")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


def _serve_until_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            if _get(port, "/healthz") == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("gunicorn did not answer /healthz within 60 s")


def test_gunicorn_serves_the_app_and_its_access_log_keeps_no_tokens_or_codes(
    database_url, tmp_path
):
    port, log = _free_port(), tmp_path / "access.log"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")},
        "PYTHONPATH": str(ROOT),
        "MINSHENG_DATABASE_URL": database_url,
        "MINSHENG_INSTANCE_PATH": str(tmp_path / "instance"),
        "MINSHENG_DEVELOPMENT": "true",  # throwaway keys: this server serves nobody
    }
    command = ["-m", "gunicorn", "-c", "python:minsheng.gunicorn_config"]
    server = subprocess.Popen(
        [sys.executable, *command, "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "minsheng.wsgi:app"],
        env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _serve_until_healthy(port, server)
        assert _get(port, f"/i/{SECRETS[0]}?code={SECRETS[1]}") == 404
        assert _get(port, f"/o/{SECRETS[2]}") == 404
        assert _get(port, "/s/no-such-campaign") == 404
        referer = {"Referer": f"http://127.0.0.1:{port}/i/{SECRETS[0]}"}
        assert _get(port, "/healthz?from=probe", headers=referer) == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    text = log.read_text(encoding="utf-8")
    assert '"GET /i/<token>?… HTTP/1.1" 404' in text
    assert '"GET /o/<ref> HTTP/1.1" 404' in text
    assert '"GET /s/no-such-campaign HTTP/1.1" 404' in text  # other variables are kept
    assert '"GET /healthz?… HTTP/1.1" 200' in text
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"the access log shows {leaked}:\n{text}"
