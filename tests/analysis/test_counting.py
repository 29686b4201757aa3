"""The count path (`summarize_table` and `summarize_parquet`: count tables gathered a record
batch at a time, straight from Arrow or a Parquet snapshot) against the pandas path
(`summarize_frame`, row by row) on the same responses: every number equal."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.arrow import decode, encode_table, read_table, row_groups, use_memory_pool
from analysis.counting import Tally, tally_table
from analysis.crosstabs import crosstab, crosstab_from_counts
from analysis.frames import answers_frame, hash_code
from analysis.quality import quality_check
from analysis.screening import quality_flags
from analysis.summary import summarize, summarize_frame, summarize_parquet, summarize_table
from analysis.weighting import raked_cell_weights, raked_weights
from forms.fingerprints import answers_fingerprint
from questionnaire.schema import parse_form

from .conftest import add_responses, random_answers

SCALE = ["1", "2", "3", "4", "5"]
DISTRICTS = ["jinjiang", "qingyang", "wuhou", "pidu"]
MODES = ["metro", "bus", "car", "walk"]
PROBLEMS = ["congestion", "parking", "safety", "noise"]
TEXTS = ["建议增加地铁末班车班次", "公交站台增加遮阳棚", "小区周边停车位太少", "  ", "夜间路灯太暗"]


def _choices(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": n, "label": {"zh": n, "en": n}} for n in names]


FORM = parse_form(
    {
        "settings": {"form_id": "counting", "default_language": "zh", "form_title": "t"},
        "choices": {
            "district": _choices(DISTRICTS),
            "mode": _choices(MODES),
            "problem": _choices(PROBLEMS),
            "scale": _choices(SCALE),
        },
        "survey": [
            {"type": "select_one district", "name": "district", "label": {"zh": "区"}},
            {"type": "select_one mode or_other", "name": "mode", "label": {"zh": "方式"}},
            {"type": "select_multiple problem", "name": "problems", "label": {"zh": "问题"}},
            {"type": "rank problem", "name": "urgent", "label": {"zh": "排序"}},
            {
                "type": "group",
                "name": "ratings",
                "questions": [
                    {"type": "select_one scale", "name": f"sat_{i}", "label": {"zh": f"满意{i}"}}
                    for i in range(4)
                ],
            },
            {
                "type": "range",
                "name": "recommend",
                "label": {"zh": "推荐"},
                "parameters": {"start": "0", "end": "10"},
            },
            {"type": "integer", "name": "minutes", "label": {"zh": "分钟"}},
            {"type": "decimal", "name": "spend", "label": {"zh": "花费"}},
            {"type": "date", "name": "since", "label": {"zh": "日期"}},
            {"type": "acknowledge", "name": "consent", "label": {"zh": "同意"}},
            {"type": "text", "name": "suggestion", "label": {"zh": "建议"}},
        ],
    },
    source="test",
)


def _answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if rng.random() > 0.03:
        answers["district"] = rng.choice(DISTRICTS)
    if rng.random() > 0.05:
        answers["mode"] = rng.choice([*MODES, "other"])
    if rng.random() > 0.1:
        answers["problems"] = rng.sample(PROBLEMS, rng.randint(1, 3))
    if rng.random() > 0.5:
        answers["urgent"] = rng.sample(PROBLEMS, rng.randint(1, 4))
    straight = rng.random() < 0.05
    level = rng.randint(1, 5)
    for i in range(4):
        if rng.random() > 0.04:
            answers[f"sat_{i}"] = str(level if straight else rng.randint(1, 5))
    if rng.random() > 0.05:
        answers["recommend"] = str(rng.randint(0, 10))
    if rng.random() > 0.05:
        answers["minutes"] = str(rng.randint(1, 90))
    if rng.random() > 0.2:
        answers["spend"] = f"{rng.uniform(0, 50):.2f}"
    if rng.random() > 0.5:
        answers["since"] = f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    if rng.random() > 0.3:
        answers["consent"] = "OK"
    if rng.random() < 0.3:
        answers["suggestion"] = rng.choice(TEXTS)
    return answers


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = random.Random(6)
    answers = [_answers(rng) for _ in range(3000)]
    answers += [dict(a) for a in answers[:40]]  # resubmissions: duplicates when they have text
    # Resubmissions with the text re-spaced, from the same address: near-duplicates when they
    # come within the window (the first 30), not when a day later (the other 30).
    again = [{**a, "suggestion": f" {a['suggestion']}。"} for a in answers if a.get("suggestion")]
    answers += again[:60]
    frame = answers_frame(answers, FORM)
    durations = np.random.default_rng(6).lognormal(np.log(300), 0.4, len(frame))
    durations[::37] = 30.0  # speeders
    durations[::101] = np.nan  # unknown completion time
    frame["duration"] = durations
    channels = np.random.default_rng(7).choice(
        ["web", "qr", "import"], len(frame), p=[6, 3, 1] / np.float64(10)
    )
    frame["channel"] = pd.Categorical(channels, categories=["web", "qr", "import", "api"])
    frame["honeypot"] = np.arange(len(frame)) % 53 == 7
    addresses = [rng.randrange(400) if i % 11 else None for i in range(3040)]
    origin = {id(a): i for i, a in enumerate(answers[:3000])}
    texts = [a for a in answers[:3000] if a.get("suggestion")][:60]
    addresses += [addresses[origin[id(a)]] or 401 for a in texts]
    frame["address"] = pd.array(addresses, dtype="Int64")
    fingerprints = [hash_code(answers_fingerprint(a)) for a in answers]
    frame["fingerprint"] = pd.array(fingerprints, dtype="Int64")
    start = pd.Timestamp("2026-06-01", tz="UTC")
    minutes = [pd.Timedelta(minutes=i) for i in range(3040)]
    minutes += [pd.Timedelta(minutes=i + 10) for i in range(30)]
    minutes += [pd.Timedelta(days=2, minutes=i) for i in range(30)]
    frame["submitted_at"] = pd.DatetimeIndex([start + m for m in minutes]).as_unit("us")
    return frame


def assert_same(ours: Any, theirs: Any, where: str = "summary") -> None:
    """Equal plain structures; floats to 1e-9 (relative or absolute)."""
    if isinstance(ours, dict):
        assert set(ours) == set(theirs), where
        for key in ours:
            assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(ours, list):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(ours, float) and isinstance(theirs, float | int):
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), (where, ours, theirs)
    else:
        assert ours == theirs, (where, ours, theirs)


def test_arrow_summary_equals_the_pandas_summary_through_a_parquet_file(frame, tmp_path):
    path = tmp_path / "responses.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=700)
    segments = ("district", "mode")
    expected = summarize_frame(frame, FORM, segments=segments).to_dict()
    ours = summarize_table(read_table(path), FORM, segments=segments).to_dict()
    assert_same(ours, expected)
    flags = {f["flag"]: f["count"] for f in expected["quality"]["flags"]}
    # The comparison covers every rule and every kind of question.
    assert min(flags.values()) > 0
    kinds = {q["kind"] for q in expected["questions"]}
    assert kinds == {
        "single",
        "multiple",
        "ranking",
        "rating",
        "nps",
        "numeric",
        "date",
        "acknowledge",
        "text",
    }


def test_responses_by_channel_count_only_the_responses_kept_by_the_quality_screen(frame):
    check = quality_check(frame, FORM)
    kept = frame.loc[check.keep, "channel"].value_counts()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for summary in (summarize_frame(frame, FORM), summarize_table(table, FORM)):
        by_channel = summary.responses_by["channel"]
        assert by_channel == {c: int(n) for c, n in kept.items() if n}
        assert sum(by_channel.values()) == summary.n_responses < len(frame)
        assert "api" not in by_channel


def test_arrow_summary_equals_the_pandas_summary_keeping_everyone(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    expected = summarize_frame(frame, FORM, exclude=(), text_analysis=False).to_dict()
    ours = summarize_table(table, FORM, exclude=(), text_analysis=False).to_dict()
    assert_same(ours, expected)


def test_arrow_quality_flags_are_those_of_the_frame(frame):
    check = quality_check(frame, FORM)
    flags = quality_flags(pa.Table.from_pandas(frame, preserve_index=False), FORM)
    assert np.array_equal(flags.keep, check.keep)
    assert_same(flags.report.to_dict(), check.report.to_dict())


def test_crosstab_from_arrow_counts_equals_the_row_crosstab(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    counted, _ = tally_table(table, FORM, exclude=(), cells=[("district", "mode")])
    cells, missing = counted.cross_counts("mode", "district", [*MODES, "other"], DISTRICTS)
    ours = crosstab_from_counts(
        cells, "mode", "district", [*MODES, "other"], DISTRICTS, n_missing=missing
    )
    assert_same(ours.to_dict(), crosstab(frame, "mode", "district").to_dict())


def test_raking_on_cell_counts_equals_raking_the_rows(frame):
    margins = {
        "district": {"jinjiang": 300.0, "qingyang": 200.0, "wuhou": 350.0, "pidu": 150.0},
        "mode": {m: 200.0 for m in [*MODES, "other"]},
    }
    rows = frame.dropna(subset=["district", "mode"])
    expected = raked_weights(rows, margins, bounds=(0.5, 2.0))
    table = pa.Table.from_pandas(rows, preserve_index=False)
    counted, _ = tally_table(table, FORM, exclude=(), cells=[("district", "mode")])
    cells, counts = counted.cells(["district", "mode"], [DISTRICTS, [*MODES, "other"]])
    ours = raked_cell_weights(cells, counts, margins, bounds=(0.5, 2.0))
    assert_same(ours.to_dict(), expected.to_dict())
    # Every respondent of a cell carries the weight the row raking gives them.
    looked_up = cells.assign(weight=ours.weights.to_numpy()).merge(rows, on=["district", "mode"])
    assert int(counts.sum()) == len(rows)
    by_row = rows.assign(weight=expected.weights.to_numpy())
    merged = by_row.groupby(["district", "mode"], observed=True)["weight"].agg(["min", "max"])
    for (district, mode), row in merged.iterrows():
        weight = looked_up.loc[
            (looked_up.district == district) & (looked_up["mode"] == mode), "weight"
        ].iloc[0]
        assert row["min"] == pytest.approx(weight, rel=1e-12)
        assert row["max"] == pytest.approx(weight, rel=1e-12)


def test_campaign_summary_from_its_snapshot_equals_the_database_summary(
    session, campaign, tmp_path
):
    rng = random.Random(3)
    answers = [random_answers(rng) for _ in range(60)]
    add_responses(session, campaign, answers)
    from_database = summarize(session, campaign, segments=("district",))
    from_snapshot = summarize(session, campaign, segments=("district",), snapshot_root=tmp_path)
    assert_same(from_snapshot.to_dict(), from_database.to_dict())


def _parts(frame: pd.DataFrame, tmp_path: Any) -> list[Any]:
    """The frame in three Parquet files of small row groups, as snapshot parts are written,
    except that the last is in Arrow's plain layout with the district categories in another
    order: every row group must be read, in order, and mapped onto the same categories."""
    cuts = [0, 1100, 2300, len(frame)]
    paths = []
    for i, (start, stop) in enumerate(itertools.pairwise(cuts)):
        part = frame.iloc[start:stop]
        path = tmp_path / f"part-{i}.parquet"
        if i < 2:
            table = encode_table(pa.Table.from_pandas(part, preserve_index=False))
        else:
            part = part.assign(district=part["district"].cat.reorder_categories(DISTRICTS[::-1]))
            table = pa.Table.from_pandas(part, preserve_index=False)
        pq.write_table(table, path, row_group_size=400)
        paths.append(path)
    return paths


def test_parquet_summary_counted_row_group_by_row_group_equals_the_pandas_summary(frame, tmp_path):
    paths = _parts(frame, tmp_path)
    segments = ("district", "mode")
    expected = summarize_frame(frame, FORM, segments=segments).to_dict()
    ours = summarize_parquet(paths, FORM, segments=segments).to_dict()
    assert_same(ours, expected)
    # The resubmissions (the last rows) are duplicates of rows two files earlier.
    flags = {f["flag"]: f["count"] for f in ours["quality"]["flags"]}
    assert flags["duplicate"] > 0


def test_parquet_summary_keeping_everyone_equals_the_pandas_summary(frame, tmp_path):
    paths = _parts(frame, tmp_path)
    expected = summarize_frame(frame, FORM, exclude=("speeder",), text_analysis=False)
    ours = summarize_parquet(paths, FORM, exclude=("speeder",), text_analysis=False)
    assert_same(ours.to_dict(), expected.to_dict())


def test_row_groups_yield_every_row_in_file_order(frame, tmp_path):
    paths = _parts(frame, tmp_path)
    batches = list(row_groups(paths, ["district", "minutes", "suggestion"]))
    assert [b.num_rows for b in batches] == [400, 400, 300, 400, 400, 400, 400, 400]

    def values(name: str) -> list[Any]:
        return [v for b in batches for v in b.column(name).to_pylist()]

    def expected(name: str) -> list[Any]:
        column = frame[name].astype(object)
        return column.where(frame[name].notna(), None).tolist()

    for name in ("district", "minutes", "suggestion"):
        assert values(name) == expected(name)


def test_stored_layout_round_trips_the_response_frame(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    stored = encode_table(table)
    assert stored.schema.field("district").type == pa.int8()
    assert stored.schema.field("problems/parking").type == pa.int8()
    assert stored.schema.field("minutes").type == table.schema.field("minutes").type
    decoded = decode(stored)
    assert decoded.schema == table.schema
    assert decoded.equals(table)
    pd.testing.assert_frame_equal(decoded.to_pandas(), frame)


def test_uncounting_a_batch_leaves_the_counts_of_the_other_rows(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    cells = [("district", "mode")]
    everyone, rest = Tally(FORM, cells), Tally(FORM, cells)
    for batch in table.to_batches(max_chunksize=500):
        everyone.add(batch)
    everyone.add(table.slice(0, 700).to_batches()[0], -1)
    for batch in table.slice(700).to_batches(max_chunksize=500):
        rest.add(batch)
    assert everyone.n_rows == rest.n_rows == len(frame) - 700
    assert everyone.categories("district") == rest.categories("district")
    for name, names in (("district", DISTRICTS), ("mode", [*MODES, "other"])):
        assert np.array_equal(
            everyone.category_counts(name, names)[0], rest.category_counts(name, names)[0]
        )
    for name in ("minutes", "spend", "urgent/noise"):
        values, counts = everyone.number_counts(name)
        theirs = rest.number_counts(name)
        assert np.array_equal(values, theirs[0]) and np.array_equal(counts, theirs[1])
    assert everyone.text_counts("suggestion") == rest.text_counts("suggestion")
    columns = [f"problems/{p}" for p in PROBLEMS]
    assert np.array_equal(everyone.option_counts(columns)[0], rest.option_counts(columns)[0])
    assert everyone.option_counts(columns)[1] == rest.option_counts(columns)[1]
    mine = everyone.cross_counts("mode", "district", [*MODES, "other"], DISTRICTS)
    theirs = rest.cross_counts("mode", "district", [*MODES, "other"], DISTRICTS)
    assert np.array_equal(mine[0], theirs[0]) and mine[1] == theirs[1]
    with pytest.raises(KeyError, match="pass them as `cells`"):
        everyone.cross_counts("mode", "since", [], [])


def test_the_app_gives_arrow_the_configured_memory_pool(app):
    assert pa.default_memory_pool().backend_name == app.config["ARROW_MEMORY_POOL"] == "jemalloc"
    try:
        assert use_memory_pool("system") == "system"
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        use_memory_pool(app.config["ARROW_MEMORY_POOL"])
