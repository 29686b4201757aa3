"""Statistical analysis at city scale: the full summary of 10,000,000 responses next to DuckDB
computing the plain counts of the same responses, in the same run.

    .venv/bin/python bench/analysis.py [--rows 10000000] [--seed 6] [--rounds 3] [--keep] [--frame]

1. Generates (or reuses) ``bench/out/analysis-<rows>-<seed>-layout<N>.parquet``: 20 questions
   (10 five-point ratings in one battery, 4 single choices, 2 multiple choices with 6 options
   each, a 0-10 recommendation score, commute minutes, an open-text suggestion of short Chinese
   phrases in 5 % of rows), 3 demographic columns (district, age group, gender) and the
   completion time, stored as a campaign's snapshot stores responses (`analysis.snapshots`:
   categorical answers and option ticks as integer codes), and the same responses in Arrow's
   plain layout of a pandas frame (``-plain.parquet``: dictionary-encoded strings, booleans).
2. In a fresh child process, times the full summary as a campaign summary computes it from its
   snapshot: one pass over the row groups (`analysis.counting.tally_parquet`: the data-quality
   flags, every count of the summary, the cells of 3 crosstabs and of the raking), then
   `analysis.summary.summarize_tally` (every question with Wilson intervals, means, top-2-box,
   NPS, quartiles, open-text keywords/themes/duplicates), the 3 crosstabs with their tests
   (`analysis.crosstabs.crosstab_from_counts`) and raking to district and age-group margins on
   the table of cell counts (`analysis.weighting.raked_cell_weights`). Peak memory is the
   child's maximum resident set size.
3. In two more child processes, DuckDB computes the plain counts of every column (one GROUP BY
   per question, counts of the option columns, count and mean of the numbers) on each layout.
   Steps 2 and 3 take turns ``--rounds`` times; the ratio is to the faster DuckDB of each round.
4. With ``--frame``, a last child times the same work on a pandas response frame
   (`analysis.snapshots.read_parquet_frame`, `summarize_frame`, `crosstab`, `raked_weights`):
   the notebook path, which builds a row-level frame first.

Prints the figures and the ratios, and writes them to ``bench/out/analysis.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
CHUNK = 1_000_000

SCALE = [str(i) for i in range(1, 6)]
RATINGS = [
    f"sat_{n}"
    for n in (
        "bus",
        "metro",
        "parking",
        "walk",
        "bike",
        "taxi",
        "roads",
        "info",
        "safety",
        "overall",
    )
]
DEMOGRAPHICS = {
    "district": [
        "jinjiang",
        "qingyang",
        "jinniu",
        "wuhou",
        "chenghua",
        "longquanyi",
        "wenjiang",
        "pidu",
        "shuangliu",
        "xindu",
    ],
    "age_group": ["a18_29", "a30_44", "a45_59", "a60_plus"],
    "gender": ["female", "male"],
}
SINGLES = {
    "commute_mode": ["metro", "bus", "car", "ebike", "bike", "walk", "taxi"],
    "commute_time": ["lt15", "m15_30", "m30_60", "gt60"],
    "trips_per_week": ["t0_2", "t3_5", "t6_10", "t10_plus"],
    "heard_of_campaign": ["yes", "no", "not_sure"],
}
MULTIPLES = {
    "problems": ["congestion", "parking", "bus_frequency", "metro_crowding", "last_mile", "safety"],
    "priorities": [
        "more_buses",
        "bike_lanes",
        "parking_lots",
        "sidewalks",
        "signals",
        "information",
    ],
}
PHRASES = [
    "建议增加地铁末班车班次",
    "公交站台增加遮阳棚",
    "小区周边停车位太少",
    "学校门口接送拥堵",
    "人行道被电动车占用",
    "路口红绿灯时间太短",
    "希望开通社区巴士",
    "共享单车乱停放",
    "地铁站出口缺少指示牌",
    "早晚高峰公交太挤",
    "非机动车道被占",
    "希望建设立体停车场",
    "老旧小区加装电梯",
    "公交线路绕路太多",
    "夜间路灯太暗",
    "过街天桥没有无障碍通道",
]
# "Statistical yearbook" populations (persons) for raking; the sample over-represents Wuhou.
DISTRICT_POPULATION = [620, 780, 1120, 1210, 1380, 1340, 960, 1390, 1740, 1560]
AGE_POPULATION = [0.22, 0.30, 0.27, 0.21]


def form_definition() -> dict[str, Any]:
    """The benchmark questionnaire in minsheng's schema (the demographics come first)."""

    def choices(names: list[str]) -> list[dict[str, Any]]:
        return [{"name": n, "label": {"zh": n, "en": n}} for n in names]

    lists = {**DEMOGRAPHICS, **SINGLES, **MULTIPLES, "scale": SCALE}
    survey: list[dict[str, Any]] = [
        {"type": f"select_one {name}", "name": name, "label": {"zh": name}}
        for name in [*DEMOGRAPHICS, *SINGLES]
    ]
    survey += [
        {"type": f"select_multiple {name}", "name": name, "label": {"zh": name}}
        for name in MULTIPLES
    ]
    survey.append(
        {
            "type": "group",
            "name": "ratings",
            "questions": [
                {"type": "select_one scale", "name": r, "label": {"zh": r}, "appearance": "likert"}
                for r in RATINGS
            ],
        }
    )
    survey += [
        {
            "type": "range",
            "name": "recommend",
            "label": {"zh": "推荐"},
            "parameters": {"start": "0", "end": "10"},
        },
        {"type": "integer", "name": "minutes", "label": {"zh": "分钟"}},
        {"type": "text", "name": "suggestion", "label": {"zh": "建议"}},
    ]
    return {
        "settings": {"form_id": "bench", "default_language": "zh", "form_title": "bench"},
        "choices": {k: choices(v) for k, v in lists.items()},
        "survey": survey,
    }


def _choice(
    rng: np.random.Generator, names: list[str], n: int, p: np.ndarray, missing: float = 0.0
) -> pd.Categorical[str]:
    codes = np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right")
    codes = np.minimum(codes, len(names) - 1).astype(np.int8)
    if missing:
        codes[rng.random(n) < missing] = -1
    return pd.Categorical.from_codes(codes, categories=pd.Index(names))


def generate_chunk(rng: np.random.Generator, n: int, first_id: int) -> pd.DataFrame:
    """``n`` synthetic responses shaped like a city transport survey."""
    columns: dict[str, Any] = {"response_id": np.arange(first_id, first_id + n, dtype=np.int64)}
    district_p = np.array([5, 6, 8, 14, 9, 9, 7, 10, 12, 11], dtype=float)
    columns["district"] = _choice(rng, DEMOGRAPHICS["district"], n, district_p)
    columns["age_group"] = _choice(rng, DEMOGRAPHICS["age_group"], n, np.array([3, 4, 2.5, 1.5]))
    columns["gender"] = _choice(rng, DEMOGRAPHICS["gender"], n, np.array([1.05, 1.0]))
    for name, names in SINGLES.items():
        weights = rng.dirichlet(np.full(len(names), 3.0))
        columns[name] = _choice(rng, names, n, weights, missing=0.02)
    for name, options in MULTIPLES.items():
        answered = rng.random(n) > 0.03
        for i, option in enumerate(options):
            chosen = rng.random(n) < 0.15 + 0.08 * i
            values = pd.array(chosen, dtype="boolean")
            values[~answered] = pd.NA
            columns[f"{name}/{option}"] = values
    # Ratings share a latent satisfaction, so the battery looks like real answers; 1 % of rows
    # straight-line it.
    latent = rng.normal(0.3, 1.0, n)
    straight = rng.random(n) < 0.01
    for item in RATINGS:
        score = latent + rng.normal(0, 0.9, n) + rng.normal(0, 0.3)
        codes = np.digitize(score, [-1.3, -0.4, 0.5, 1.4]).astype(np.int8)
        codes[straight] = 3
        codes[rng.random(n) < 0.02] = -1
        columns[item] = pd.Categorical.from_codes(codes, categories=pd.Index(SCALE))
    recommend = np.clip(np.round(7 + 2 * latent + rng.normal(0, 1.5, n)), 0, 10)
    recommend[rng.random(n) < 0.03] = np.nan
    columns["recommend"] = recommend
    minutes = np.round(rng.lognormal(3.3, 0.5, n))
    minutes[rng.random(n) < 0.03] = np.nan
    columns["minutes"] = minutes
    texts = np.full(n, None, dtype=object)
    with_text = np.flatnonzero(rng.random(n) < 0.05)
    first = rng.integers(0, len(PHRASES), with_text.size)
    second = rng.integers(0, len(PHRASES), with_text.size)
    joined = rng.random(with_text.size) < 0.3
    texts[with_text] = [
        PHRASES[a] + ("，" + PHRASES[b] if j else "")
        for a, b, j in zip(first, second, joined, strict=True)
    ]
    columns["suggestion"] = pd.array(texts, dtype="str")
    duration = rng.lognormal(np.log(300), 0.4, n)
    speeders = rng.random(n) < 0.02
    duration[speeders] = rng.uniform(20, 80, int(speeders.sum()))
    columns["duration"] = duration
    return pd.DataFrame(columns)


def generate(stored: Path, plain: Path, rows: int, seed: int) -> None:
    """Write the responses twice: as a campaign's snapshot stores them (`analysis.snapshots`:
    categorical answers and option ticks as integer codes, `analysis.arrow.encode_table`) and
    in Arrow's plain layout of a pandas frame (dictionary-encoded strings, booleans)."""
    from analysis.arrow import encode_table

    rng = np.random.default_rng(seed)
    writers: dict[Path, Any] = {}
    try:
        for start in range(0, rows, CHUNK):
            chunk = generate_chunk(rng, min(CHUNK, rows - start), start + 1)
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            for path, layout in ((stored, encode_table(table)), (plain, table)):
                if path not in writers:
                    writers[path] = pq.ParquetWriter(path.with_suffix(".tmp"), layout.schema)
                writers[path].write_table(layout, row_group_size=CHUNK)
    finally:
        for writer in writers.values():
            writer.close()
    for path in (stored, plain):
        os.replace(path.with_suffix(".tmp"), path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads (steadier than wall time on a busy
    machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Stages:
    """Wall and CPU seconds per named stage, and since the first stage began."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.started, self.cpu_started = time.perf_counter(), cpu_seconds()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), cpu_seconds()
        yield
        self.wall[name] = time.perf_counter() - wall
        self.cpu[name] = cpu_seconds() - cpu

    def totals(self) -> dict[str, Any]:
        return {
            "seconds": time.perf_counter() - self.started,
            "cpu_seconds": cpu_seconds() - self.cpu_started,
            "parts": self.wall,
            "cpu_parts": self.cpu,
        }


def _margins() -> dict[str | tuple[str, ...], Mapping[Any, float]]:
    total = 1_000_000
    districts = dict(zip(DEMOGRAPHICS["district"], DISTRICT_POPULATION, strict=True))
    scale = total / sum(DISTRICT_POPULATION)
    return {
        "district": {k: v * scale for k, v in districts.items()},
        "age_group": {
            k: p * total for k, p in zip(DEMOGRAPHICS["age_group"], AGE_POPULATION, strict=True)
        },
    }


CROSSTABS = [("sat_bus", "district"), ("commute_mode", "age_group"), ("sat_metro", "gender")]
RAKING = ["district", "age_group"]


def run_summary(path: Path) -> dict[str, Any]:
    """The child process of step 2 (imports happen before the clock starts)."""
    from analysis.arrow import use_memory_pool
    from analysis.counting import tally_parquet
    from analysis.crosstabs import crosstab_from_counts
    from analysis.summary import summarize_tally
    from analysis.text import tokenizer
    from analysis.weighting import raked_cell_weights
    from minsheng.config import BY_NAME
    from questionnaire.schema import parse_form

    form = parse_form(form_definition(), source="bench")
    lists = {**DEMOGRAPHICS, **SINGLES, **{r: SCALE for r in RATINGS}}
    use_memory_pool(BY_NAME["ARROW_MEMORY_POOL"].default)  # as analysis.init_app does
    tokenizer()  # jieba's dictionary is loaded once per process, not per summary
    stages = Stages()
    # The summary reads what it uses: answers, demographics and completion times, not the ids.
    wanted = [name for name in pq.read_schema(path).names if name != "response_id"]
    with stages.stage("count"):
        # One pass over the row groups: quality flags, every count of the summary, and the
        # cells of the crosstabs and of the raking.
        tally, quality = tally_parquet(
            path, form, columns=wanted, cells=[*CROSSTABS, tuple(RAKING)]
        )
    with stages.stage("summarize"):
        summary = summarize_tally(tally, quality, form)
    with stages.stage("crosstabs"):
        tables = []
        for row, column in CROSSTABS:
            cells, missing = tally.cross_counts(row, column, lists[row], lists[column])
            tables.append(
                crosstab_from_counts(
                    cells, row, column, lists[row], lists[column], n_missing=missing
                )
            )
    with stages.stage("raking"):
        cell_table, cell_counts = tally.cells(RAKING, [lists[v] for v in RAKING])
        weighting = raked_cell_weights(cell_table, cell_counts, _margins())
    return {
        **stages.totals(),
        "peak_rss_mb": peak_rss_mb(),
        "rows": quality.n_received,
        "questions": len(summary.questions),
        "n_analysed": summary.n_responses,
        "quality": {f.flag: f.count for f in summary.quality.flags},
        "crosstab_p_values": [t.test.p_value for t in tables],
        "raking_converged": weighting.report.converged,
        "raking_iterations": weighting.report.iterations,
        "design_effect": weighting.report.weights.to_dict(),
        "satisfaction_bus": summary.question("sat_bus").to_dict()["top_box"],
    }


def run_frame_summary(path: Path) -> dict[str, Any]:
    """The child process of step 4: the same work on a pandas response frame."""
    from analysis.arrow import use_memory_pool
    from analysis.crosstabs import crosstab
    from analysis.quality import quality_check
    from analysis.snapshots import read_parquet_frame
    from analysis.summary import summarize_frame
    from analysis.text import tokenizer
    from analysis.weighting import raked_weights
    from minsheng.config import BY_NAME
    from questionnaire.schema import parse_form

    form = parse_form(form_definition(), source="bench")
    use_memory_pool(BY_NAME["ARROW_MEMORY_POOL"].default)
    tokenizer()  # jieba's dictionary is loaded once per process, not per summary
    stages = Stages()
    # The summary reads what it uses: answers, demographics and completion times, not the ids.
    wanted = [name for name in pq.read_schema(path).names if name != "response_id"]
    with stages.stage("read_parquet"):
        frame = read_parquet_frame(path, columns=wanted)
    with stages.stage("summarize"):
        summary = summarize_frame(frame, form)
    with stages.stage("quality"):
        # As in the summary (and the count path), crosstabs and raking use the kept responses.
        kept = frame.loc[quality_check(frame, form).keep]
    with stages.stage("crosstabs"):
        tables = [crosstab(kept, row, column) for row, column in CROSSTABS]
    with stages.stage("raking"):
        weighting = raked_weights(kept, _margins())
    return {
        **stages.totals(),
        "peak_rss_mb": peak_rss_mb(),
        "rows": len(frame),
        "questions": len(summary.questions),
        "n_analysed": summary.n_responses,
        "quality": {f.flag: f.count for f in summary.quality.flags},
        "crosstab_p_values": [t.test.p_value for t in tables],
        "raking_converged": weighting.report.converged,
        "raking_iterations": weighting.report.iterations,
        "design_effect": weighting.report.weights.to_dict(),
        "satisfaction_bus": summary.question("sat_bus").to_dict()["top_box"],
    }


def run_duckdb(path: Path) -> dict[str, Any]:
    """The child process of step 3: plain counts of every question with DuckDB."""
    import duckdb

    connection = duckdb.connect()
    categorical = [*DEMOGRAPHICS, *SINGLES, *RATINGS, "recommend"]
    options = [f"{q}/{o}" for q, names in MULTIPLES.items() for o in names]
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    source = f"read_parquet('{path}')"
    results: dict[str, Any] = {}
    for column in categorical:
        results[column] = connection.execute(
            f'SELECT "{column}", count(*) FROM {source} GROUP BY 1 ORDER BY 1'
        ).fetchall()
    # Option columns are booleans in the plain layout, 0/1 codes in the stored one.
    ticked = {True: '"{}"', False: '"{}" = 1'}[
        pq.read_schema(path).field(options[0]).type == pa.bool_()
    ]
    ticks = ", ".join(f"count(*) FILTER (WHERE {ticked.format(o)})" for o in options)
    answered = " OR ".join(f'"{o}" IS NOT NULL' for o in options[:6])
    results["options"] = connection.execute(
        f"SELECT {ticks}, count(*) FILTER (WHERE {answered}) FROM {source}"
    ).fetchall()
    results["numbers"] = connection.execute(
        f"SELECT count(minutes), avg(minutes), count(suggestion) FROM {source}"
    ).fetchall()
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds() - cpu_started,
        "peak_rss_mb": peak_rss_mb(),
        "queries": len(categorical) + 2,
    }


PHASES = {"summary": run_summary, "duckdb": run_duckdb, "frame": run_frame_summary}


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(total_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
    }


def child(phase: str, path: Path) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--parquet", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        sys.stderr.write(run.stderr)
        raise SystemExit(f"{phase} failed with exit code {run.returncode}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the Parquet files afterwards")
    parser.add_argument("--rounds", type=int, default=3, help="times to run each side")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for the data and analysis.json"
    )
    parser.add_argument(
        "--frame", action="store_true", help="also time the summary on a pandas frame"
    )
    parser.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.phase:
        result = PHASES[args.phase](args.parquet)
        print(json.dumps(result, default=str))
        return
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    from analysis.snapshots import LAYOUT_VERSION

    stored = out / f"analysis-{args.rows}-{args.seed}-layout{LAYOUT_VERSION}.parquet"
    plain = out / f"analysis-{args.rows}-{args.seed}-plain.parquet"
    if not (stored.exists() and plain.exists()):
        started = time.perf_counter()
        generate(stored, plain, args.rows, args.seed)
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s: {stored} "
            f"({stored.stat().st_size / 1e6:.0f} MB) and {plain.name} "
            f"({plain.stat().st_size / 1e6:.0f} MB)",
            flush=True,
        )
    load_before = os.getloadavg()
    rounds = []
    for _ in range(args.rounds):
        # The three take turns, so that a change in the machine's load hits all of them.
        summary = child("summary", stored)
        duck = {"stored": child("duckdb", stored), "plain": child("duckdb", plain)}
        fastest = min(duck.values(), key=lambda d: float(d["seconds"]))
        rounds.append(
            {
                "summary": summary,
                "duckdb_stored": duck["stored"],
                "duckdb_plain": duck["plain"],
                "ratio": summary["seconds"] / fastest["seconds"],
                "cpu_ratio": summary["cpu_seconds"] / fastest["cpu_seconds"],
            }
        )
    frame = child("frame", stored) if args.frame else None
    load_after = os.getloadavg()
    ratios = sorted(r["ratio"] for r in rounds)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "rows": args.rows,
        "parquet_mb": {
            "stored": round(stored.stat().st_size / 1e6),
            "plain": round(plain.stat().st_size / 1e6),
        },
        "rounds": rounds,
        "median_ratio": ratios[len(ratios) // 2],
        "frame_summary": frame,
        "load_average_before_after": [load_before, load_after],
    }
    (out / "analysis.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print(f"rows: {args.rows:,}  machine: {report['machine']}")
    for i, r in enumerate(rounds, start=1):
        summary = r["summary"]
        parts = ", ".join(
            f"{k} {v:.2f} s ({summary['cpu_parts'][k]:.2f} s CPU)"
            for k, v in summary["parts"].items()
        )
        print(
            f"round {i}: minsheng full summary {summary['seconds']:.2f} s wall, "
            f"{summary['cpu_seconds']:.2f} s CPU ({parts}); peak RSS "
            f"{summary['peak_rss_mb']:.0f} MB"
        )
        for layout in ("stored", "plain"):
            d = r[f"duckdb_{layout}"]
            print(
                f"         DuckDB plain counts, {layout} layout: {d['seconds']:.2f} s wall, "
                f"{d['cpu_seconds']:.2f} s CPU; peak RSS {d['peak_rss_mb']:.0f} MB"
            )
        print(
            f"         ratio to the faster DuckDB: {r['ratio']:.2f} wall, {r['cpu_ratio']:.2f} CPU"
        )
    print(f"median ratio (wall): {report['median_ratio']:.2f}")
    if frame is not None:
        fastest_duck = min(
            float(d["seconds"]) for r in rounds for d in (r["duckdb_stored"], r["duckdb_plain"])
        )
        print(
            f"pandas frame summary:  {frame['seconds']:.2f} s wall, "
            f"{frame['cpu_seconds']:.2f} s CPU; peak RSS {frame['peak_rss_mb']:.0f} MB "
            f"({frame['seconds'] / fastest_duck:.2f} x the fastest DuckDB wall)"
        )
    print(f"load average before / after: {load_before} / {load_after}")
    if not args.keep:
        stored.unlink()
        plain.unlink()


if __name__ == "__main__":
    main()
