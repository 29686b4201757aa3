"""The soak (`bench/soak.py`) for 60 s: responses posted through web, PostgreSQL and Redis faults
are all stored exactly once, a web restart costs at most 5 s, and the jobs the faults hit (a
report and an invitation run whose worker is killed, a summary whose database stops for 10 s)
all finish, with every invited person getting exactly one message. It brings its own servers, so
it needs only what the other integration tests need."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_soak_loses_duplicates_and_leaves_stuck_nothing_through_faults(
    server_url: str, broker_url: str
):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    sys.path.insert(0, str(BENCH))
    from soak import WEB_FAULTS, WEB_OUTAGE_GOAL, soak

    result = soak(60.0, clients=4, workers=2)

    assert result["acknowledged"] > 100, result
    assert result["stored"] == result["acknowledged"]
    assert result["missing"] == 0 and result["duplicated"] == 0
    assert result["client_errors"] == []
    for name in WEB_FAULTS:
        assert result["outages"][name] <= WEB_OUTAGE_GOAL, result["outages"]
    assert result["stuck"] == [], result["jobs"]
    assert all(hit["at_work"] for hit in result["job_faults"].values()), result["job_faults"]
    assert {job["state"] for job in result["jobs"]} == {"done"}, result["jobs"]
    assert result["messages_per_person"] == {1: result["invited"]}, result["deliveries"]
    assert result["strangers"] == 0
