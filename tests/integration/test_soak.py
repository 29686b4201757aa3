"""The soak (`bench/soak.py`) for 60 s: responses posted through web, PostgreSQL and Redis faults
are all stored exactly once, no job is left queued or running, and a web restart costs at most
5 s. It brings its own servers, so it needs only what the other integration tests need."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_soak_loses_and_duplicates_nothing_through_faults(server_url: str, broker_url: str):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    sys.path.insert(0, str(BENCH))
    from soak import WEB_FAULTS, WEB_OUTAGE_GOAL, soak

    result = soak(60.0, clients=4, workers=2)

    assert result["acknowledged"] > 100, result
    assert result["stored"] == result["acknowledged"]
    assert result["missing"] == 0 and result["duplicated"] == 0
    assert result["client_errors"] == []
    assert result["stuck"] == 0, result["jobs"]
    for name in WEB_FAULTS:
        assert result["outages"][name] <= WEB_OUTAGE_GOAL, result["outages"]
