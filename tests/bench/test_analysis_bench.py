"""`bench/analysis.py` keeps running: a small run of every side, whose answers must agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_small_analysis_benchmark_runs_and_both_paths_agree(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "analysis.py"),
            "--rows",
            "30000",
            "--rounds",
            "1",
            "--frame",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "median ratio (wall)" in run.stdout
    report = json.loads((tmp_path / "analysis.json").read_text(encoding="utf-8"))
    (round_,) = report["rounds"]
    counted, frame = round_["summary"], report["frame_summary"]
    assert counted["rows"] == 30000 and counted["questions"] == frame["questions"] == 22
    for field in ("n_analysed", "quality", "raking_iterations", "satisfaction_bus"):
        assert counted[field] == frame[field], field
    for ours, theirs in zip(counted["crosstab_p_values"], frame["crosstab_p_values"], strict=True):
        assert abs(ours - theirs) < 1e-9
    assert round_["duckdb_stored"]["queries"] == round_["duckdb_plain"]["queries"]
    assert not list(tmp_path.glob("*.parquet")), "the data is removed without --keep"
