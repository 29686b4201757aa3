"""The shared rate limit of a send run on a real redis-server: a Redis restart in the middle of a
run slows the run down instead of failing its batch with a claimed step in doubt."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from invitations.ratelimits import rate_limiter

from .local_servers import free_port


def _redis_server(port: int, folder: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True)
        if ping.stdout.strip() == b"PONG":
            return server
        time.sleep(0.05)
    server.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on PATH")
def test_the_shared_bucket_waits_for_redis_to_come_back(tmp_path: Path) -> None:
    port = free_port()
    server = _redis_server(port, tmp_path)
    restarted: list[subprocess.Popen[bytes]] = []
    timer = threading.Timer(1.0, lambda: restarted.append(_redis_server(port, tmp_path)))
    try:
        # 10 per second takes one token per round trip, so every wait asks Redis.
        bucket = rate_limiter(f"redis://127.0.0.1:{port}/0", "email", 10.0)
        bucket.wait()
        server.terminate()
        server.wait(timeout=10)
        timer.start()
        down_at = time.monotonic()
        bucket.wait()  # refused connections for a second, then the restarted server answers
        assert time.monotonic() - down_at >= 0.9
        timer.join()
        bucket.wait()
    finally:
        timer.cancel()
        if timer.is_alive():
            timer.join()
        for process in [server, *restarted]:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
