"""Data exports at scale: `minsheng export` of N responses to every format, next to the raw
writers on the same responses already in one pandas frame, in the same run.

    MINSHENG_DEVELOPMENT=true .venv/bin/python bench/exports.py [--rows 200000] [--million]
        [--formats csv,xlsx,...] [--keep]

1. Builds (or reuses with --keep) ``bench/out/exports-<rows>.sqlite``: the demo campaign
   (`examples/transport.yaml`) migrated and loaded through the CLI, and N synthetic responses
   inserted in bulk (answers shaped as `forms.ingest` stores them; 1 in 3 with a suggestion).
2. For each format, a fresh child process runs the export exactly as `minsheng export` does
   (`exporters.formats.write_export`: the quality screen pass, then the responses in chunks
   from the database) and reports its wall time and peak resident memory.
3. A child per raw writer builds the whole export as one frame first (not timed), then times
   the library alone writing it: pandas `to_csv`, `to_excel` (openpyxl), `to_parquet`,
   pyreadstat `write_sav` / `write_dta`. Its peak memory includes the frame.

Prints a table (time, peak MB, ratio to the raw writer) and writes ``bench/out/exports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SLUG = "transport-2026"
DISTRICTS = ["jinjiang", "qingyang", "jinniu", "wuhou", "chenghua", "longquanyi", "wenjiang"]
MODES = ["metro", "bus", "car", "ebike", "bike", "walk", "taxi", "other"]
PROBLEMS = ["congestion", "parking", "bus_frequency", "metro_crowding", "last_mile", "safety"]
SUGGESTIONS = [
    "建议增加早高峰公交班次，地铁站周边增设非机动车停放区。",
    "小区门口停车难，希望规划更多公共停车位，电话13812345678。",
    "过街天桥太少，老人过马路不安全。",
]
RAW = {
    "csv": "to_csv",
    "xlsx": "to_excel",
    "parquet": "to_parquet",
    "sav": "pyreadstat",
    "dta": "pyreadstat",
}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def environment(database: Path, instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MINSHENG_DEVELOPMENT": "true",
        "MINSHENG_DATABASE_URL": f"sqlite:///{database}",
        "MINSHENG_INSTANCE_PATH": str(instance),
        "MINSHENG_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def answers(rng: random.Random) -> dict[str, Any]:
    mode = rng.choice(MODES)
    out: dict[str, Any] = {
        "district": rng.choice(DISTRICTS),
        "age_group": rng.choice(["a18_29", "a30_44", "a45_59", "a60_plus"]),
        "commute_mode": mode,
        "commute_time": rng.choice(["lt15", "m15_30", "m30_60", "gt60"]),
        "problems": rng.sample(PROBLEMS, rng.randint(1, 3)),
        "sat_bus": str(rng.randint(1, 5)),
        "sat_metro": str(rng.randint(1, 5)),
        "sat_parking": str(rng.randint(1, 5)),
    }
    if mode == "other":
        out["commute_mode_other"] = "共享汽车"
    if rng.random() < 1 / 3:
        out["suggestion"] = rng.choice(SUGGESTIONS)
    return out


def build(database: Path, instance: Path, rows: int) -> None:
    """Migrate, load the demo campaign through the CLI, insert `rows` responses in bulk."""
    database.unlink(missing_ok=True)
    env = environment(database, instance)
    python = sys.executable
    subprocess.run([python, "-m", "minsheng", "db", "upgrade"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [python, "-m", "minsheng", "campaign", "load", str(ROOT / "examples" / "transport.yaml")],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as db:
        campaign_id, version_id = db.execute(
            sa.text(
                "SELECT c.id, v.id FROM campaigns c JOIN questionnaires q ON q.campaign_id = c.id "
                "JOIN questionnaire_versions v ON v.questionnaire_id = q.id "
                "WHERE c.slug = :slug ORDER BY v.id DESC LIMIT 1"
            ),
            {"slug": SLUG},
        ).one()
    rng = random.Random(12)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    batch: list[dict[str, Any]] = []
    insert = sa.text(
        "INSERT INTO responses (campaign_id, version_id, submission_id, channel, language, "
        "submitted_at, duration_seconds, answers) VALUES (:campaign_id, :version_id, :sid, "
        ":channel, 'zh_CN', :at, :duration, :answers)"
    )
    with engine.begin() as db:
        for i in range(rows):
            batch.append(
                {
                    "campaign_id": campaign_id,
                    "version_id": version_id,
                    "sid": f"bench-{i:08d}",
                    "channel": rng.choice(["web", "qr", "import"]),
                    "at": (start + timedelta(seconds=20 * i)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "duration": round(rng.uniform(40, 900), 1),
                    "answers": json.dumps(answers(rng), ensure_ascii=False),
                }
            )
            if len(batch) == 20_000:
                db.execute(insert, batch)
                batch = []
        if batch:
            db.execute(insert, batch)


def run_export(fmt: str, target: Path) -> dict[str, Any]:
    """Child: the export as the command runs it."""
    from campaigns.store import require_campaign
    from exporters.formats import write_export
    from minsheng.app import create_app
    from minsheng.db import get_session

    app = create_app()
    with app.app_context():
        session = get_session()
        campaign = require_campaign(session, SLUG)
        started = time.perf_counter()
        with target.open("wb") as out:
            write_export(session, campaign, fmt, out)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "bytes": target.stat().st_size}


def run_raw(fmt: str, target: Path) -> dict[str, Any]:
    """Child: the whole export as one frame (not timed), then the library writer alone."""
    import pandas as pd

    from campaigns.store import require_campaign
    from exporters.exports import export_frames
    from exporters.statistical import program_names, statistical_frame, value_labels
    from minsheng.app import create_app
    from minsheng.db import get_session

    app = create_app()
    with app.app_context():
        session = get_session()
        export = export_frames(session, require_campaign(session, SLUG))
        frame = pd.concat(list(export.frames()), ignore_index=True)
        if fmt in ("sav", "dta"):
            names = program_names(export.columns)
            frame = statistical_frame(export, frame, names)
            for name, column in frame.items():
                if column.dtype == object:
                    frame[name] = column.fillna("").astype(str)
            labels = value_labels(export.columns, names)
        elif fmt in ("csv", "xlsx"):
            time_column = frame["submitted_at"]
            frame["submitted_at"] = time_column.dt.strftime("%Y-%m-%d %H:%M:%S")
        started = time.perf_counter()
        if fmt == "csv":
            frame.to_csv(target, index=False, encoding="utf-8-sig")
        elif fmt == "xlsx":
            frame.to_excel(target, index=False, engine="openpyxl")
        elif fmt == "parquet":
            frame.to_parquet(target, index=False)
        else:
            import pyreadstat

            write = pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta
            write(frame, str(target), variable_value_labels=labels)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "bytes": target.stat().st_size}


def child(kind: str, fmt: str, database: Path, instance: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as folder:
        target = Path(folder) / f"out.{fmt}"
        result = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--format", fmt, "--target", str(target)],
            env=environment(database, instance),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise SystemExit(f"{kind} {fmt} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--million", action="store_true", help="1,000,000 responses")
    parser.add_argument("--formats", default="csv,xlsx,sav,dta,parquet,datapackage")
    parser.add_argument("--keep", action="store_true", help="reuse the database if it exists")
    parser.add_argument("--child", choices=("export", "raw"))
    parser.add_argument("--format", dest="fmt")
    parser.add_argument("--target", type=Path)
    args = parser.parse_args()
    # bench/analysis.py would shadow the analysis package: import the project from its root.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(ROOT))
    if args.child:
        run = run_export if args.child == "export" else run_raw
        print(json.dumps(run(args.fmt, args.target)))
        return
    rows = 1_000_000 if args.million else args.rows
    OUT.mkdir(exist_ok=True)
    database = OUT / f"exports-{rows}.sqlite"
    instance = OUT / "exports-instance"
    instance.mkdir(exist_ok=True)
    if not (args.keep and database.exists()):
        started = time.perf_counter()
        build(database, instance, rows)
        print(f"built {rows:,} responses in {time.perf_counter() - started:.0f} s", flush=True)
    results: dict[str, Any] = {"rows": rows, "formats": {}}
    print(f"{'format':<12} {'export s':>9} {'peak MB':>8} {'raw s':>7} {'raw MB':>7} {'ratio':>6}")
    for fmt in args.formats.split(","):
        exported = child("export", fmt, database, instance)
        raw = child("raw", fmt, database, instance) if fmt in RAW else None
        ratio = exported["seconds"] / raw["seconds"] if raw else None
        results["formats"][fmt] = {"export": exported, "raw": raw, "ratio": ratio}
        print(
            f"{fmt:<12} {exported['seconds']:>9.1f} {exported['peak_mb']:>8.0f} "
            + (
                f"{raw['seconds']:>7.1f} {raw['peak_mb']:>7.0f} {ratio:>6.1f}"
                if raw
                else f"{'-':>7} {'-':>7} {'-':>6}"
            ),
            flush=True,
        )
    (OUT / "exports.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
