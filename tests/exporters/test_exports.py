"""Response exports read back with independent readers (csv, pandas, openpyxl, pyarrow)
through `minsheng export`: content, masking, formula neutralisation, BOM, codebook, metadata."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import event, select

from analysis.summary import summarize
from exporters.exports import ExportOptions, export_rows
from exporters.formats import write_export
from forms.ingest import Submission, submit_response
from forms.models import Response
from forms.publishing import current_version
from minsheng.audit import events_for
from tests.exporters.conftest import DAY_IN_CAMPAIGN, DISTRICTS, EXAMPLE

HOSTILE = {
    "district": "wuhou",
    "age_group": "a30_44",
    "commute_mode": "other",
    "commute_mode_other": '=HYPERLINK("http://x")',
    "commute_time": "m15_30",
    "problems": ["parking", "safety"],
    "sat_bus": "2",
    "sat_metro": "4",
    "sat_parking": "1",
    "suggestion": "请联系我 13812345678 或 zhang.san@example.com",
}


def _submit(session: Any, campaign: Any, answers: dict[str, Any], sid: str) -> None:
    version = current_version(session, campaign)
    submit_response(
        session,
        campaign,
        version,
        answers,
        Submission(submission_id=sid, channel="qr"),
        today=DAY_IN_CAMPAIGN,
    )
    session.commit()


def _export(runner: Any, tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"export.{fmt}"
    result = runner.invoke(
        args=["export", "transport-2026", "--format", fmt, "-o", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out.resolve())
    return out


def _choice_labels(list_name: str) -> dict[str, str]:
    """Choice name -> Chinese label, read from the campaign file itself."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return {c["name"]: c["label"]["zh"] for c in data["questionnaire"]["choices"][list_name]}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_csv_has_one_row_per_response_with_local_time_and_option_columns(
    runner, session, campaign, add_responses, tmp_path
):
    answers = add_responses(30)
    rows = _csv_rows(_export(runner, tmp_path, "csv"))
    assert len(rows) == 30
    for row, given in zip(rows, answers, strict=True):
        assert row["district"] == given["district"]
        for option in ("congestion", "parking", "safety"):
            assert row[f"problems/{option}"] == ("1" if option in given["problems"] else "0")
        assert row["flag_speeder"] in ("0", "1")
    stored = session.scalars(select(Response.submitted_at).order_by(Response.id)).all()
    shanghai = ZoneInfo("Asia/Shanghai")
    assert [r["submitted_at"] for r in rows] == [
        s.replace(tzinfo=s.tzinfo or UTC).astimezone(shanghai).strftime("%Y-%m-%d %H:%M:%S")
        for s in stored
    ]


def test_chunks_give_the_same_rows_as_one_read(session, campaign, add_responses):
    add_responses(23)
    _, whole = export_rows(session, campaign)
    _, chunked = export_rows(session, campaign, chunk_size=4)
    assert list(chunked) == list(whole)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "parquet", "datapackage"])
def test_an_export_reads_each_response_from_the_database_once(
    session, campaign, add_responses, fmt
):
    add_responses(25)
    reads: list[str] = []

    def seen(connection, cursor, statement, *rest):
        if "FROM responses" in statement and "answers" in statement:
            reads.append(statement)

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", seen)
    try:
        write_export(session, campaign, fmt, io.BytesIO(), ExportOptions(chunk_size=10))
    finally:
        event.remove(bind, "before_cursor_execute", seen)
    # Chunks of 10, 10 and 5: the writer's passes over the rows read them back from the spool.
    assert len(reads) == 3


def test_labels_replace_codes_of_single_choices(runner, session, campaign, add_responses, tmp_path):
    answers = add_responses(5)
    rows = _csv_rows(_export(runner, tmp_path, "csv", "--labels"))
    districts = {"wuhou": "武侯区", "jinjiang": "锦江区", "qingyang": "青羊区"}
    for row, given in zip(rows, answers, strict=True):
        if given["district"] in districts:
            assert row["district"] == districts[given["district"]]


def test_free_text_is_masked_and_formulas_neutralised(runner, session, campaign, tmp_path):
    _submit(session, campaign, HOSTILE, "hostile-1")
    raw = _export(runner, tmp_path, "csv").read_bytes().decode("utf-8-sig")
    assert "13812345678" not in raw and "zhang.san@example.com" not in raw
    (row,) = list(csv.DictReader(raw.splitlines()))
    assert row["commute_mode_other"].startswith("'=")
    assert "138" in row["suggestion"] and "5678" in row["suggestion"]


def test_xlsx_streams_responses_and_a_codebook(runner, session, campaign, add_responses, tmp_path):
    add_responses(12)
    _submit(session, campaign, HOSTILE, "hostile-2")
    book = load_workbook(_export(runner, tmp_path, "xlsx"))
    assert book.sheetnames == ["responses", "codebook"]
    data = list(book["responses"].values)
    assert len(data) == 1 + 13
    header = list(data[0])
    last = dict(zip(header, data[-1], strict=True))
    assert last["commute_mode_other"].startswith("'=")
    assert "13812345678" not in str(data)
    codebook = {r[0]: r for r in list(book["codebook"].values)[1:]}
    assert set(codebook) == set(header)
    assert "wuhou = 武侯区" in codebook["district"][4]
    name, label, kind = codebook["problems/parking"][1:4]
    assert (name, kind) == ("problems_parking", "0/1")
    assert label.endswith("（最多选3项）: 停车难")
    assert codebook["commute_mode_other"][6] == "only if commute_mode is other (其他)"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta", "parquet", "datapackage"])
def test_a_control_character_in_an_answer_does_not_break_an_export(
    runner, session, campaign, tmp_path, fmt
):
    # The doors take a vertical tab (what a word processor pastes) or an escape; no XLSX can hold
    # one, and openpyxl refused the whole workbook for it.
    _submit(session, campaign, {**HOSTILE, "suggestion": "bus\x0bstop \x1b[31m"}, "control-1")
    out = _export(runner, tmp_path, fmt)
    if fmt == "xlsx":
        data = list(load_workbook(out)["responses"].values)
        last = dict(zip(data[0], data[-1], strict=True))
        assert last["suggestion"] == "bus\ufffdstop \ufffd[31m"


def test_parquet_keeps_labels_in_its_metadata(runner, session, campaign, add_responses, tmp_path):
    answers = add_responses(8)
    table = pq.read_table(_export(runner, tmp_path, "parquet"))
    assert table.num_rows == 8
    assert table.column("district").to_pylist() == [a["district"] for a in answers]
    field = table.schema.field("district")
    assert json.loads(field.metadata[b"value_labels"])["wuhou"] == "武侯区"
    codebook = json.loads(table.schema.metadata[b"minsheng.codebook"])
    assert {c["variable"] for c in codebook} == set(table.column_names)


def test_no_contact_column_and_the_export_is_audited(
    runner, session, campaign, add_responses, tmp_path
):
    add_responses(3)
    rows = _csv_rows(_export(runner, tmp_path, "csv"))
    assert not {"phone", "email", "name", "contact_id"} & set(rows[0])
    events = events_for(session, "export", campaign.id)
    assert [e.action for e in events] == ["export.download"]


def test_spss_file_has_codes_variable_and_value_labels(
    runner, session, campaign, add_responses, tmp_path
):
    import pyreadstat

    answers = add_responses(20)
    _submit(session, campaign, HOSTILE, "hostile-sav")
    frame, meta = pyreadstat.read_sav(str(_export(runner, tmp_path, "sav")))
    assert len(frame) == 21
    districts = meta.variable_value_labels["district"]
    expected = _choice_labels("district")
    assert [districts[code] for code in frame["district"].iloc[:20]] == [
        expected[a["district"]] for a in answers
    ]
    # A 1-5 scale keeps its numbers; options are 0/1 under names SPSS accepts.
    assert list(frame["sat_bus"].iloc[:20].astype(int).astype(str)) == [
        a["sat_bus"] for a in answers
    ]
    assert list(frame["problems_parking"].iloc[:20]) == [
        1.0 if "parking" in a["problems"] else 0.0 for a in answers
    ]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["problems_parking"].endswith(": 停车难")
    assert "13812345678" not in frame["suggestion"].iloc[-1]
    assert districts[frame["district"].iloc[-1]] == "武侯区"
    assert meta.variable_value_labels["commute_mode"][frame["commute_mode"].iloc[-1]] == "其他"
    assert frame["submitted_at"].notna().all()


def test_stata_file_reads_back_with_labels(runner, session, campaign, add_responses, tmp_path):
    import pyreadstat

    answers = add_responses(15)
    frame, meta = pyreadstat.read_dta(str(_export(runner, tmp_path, "dta")))
    assert len(frame) == 15
    modes = meta.variable_value_labels["commute_mode"]
    expected = _choice_labels("mode")
    assert [modes[code] for code in frame["commute_mode"]] == [
        expected[a["commute_mode"]] for a in answers
    ]
    assert all(len(label) <= 80 for label in meta.column_labels)
    assert list(frame["response_id"]) == sorted(frame["response_id"])


def test_raking_weights_are_a_column_that_meets_the_margins(
    runner, session, campaign, add_responses, tmp_path
):
    add_responses(50)
    targets = {
        "jinjiang": 900,
        "qingyang": 950,
        "jinniu": 1200,
        "wuhou": 1210,
        "chenghua": 1380,
        "longquanyi": 1340,
        "wenjiang": 960,
    }
    campaign.settings = {**campaign.settings, "weighting": {"margins": {"district": targets}}}
    session.commit()
    rows = _csv_rows(_export(runner, tmp_path, "csv"))
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["district"]] = totals.get(row["district"], 0.0) + float(row["weight"])
    assert totals == pytest.approx({d: float(n) for d, n in targets.items() if d in totals})
    assert sum(totals.values()) == pytest.approx(sum(targets.values()))


def test_a_response_far_faster_than_the_median_is_flagged_a_speeder(
    runner, session, campaign, add_responses, tmp_path
):
    add_responses(12)
    ids = session.scalars(select(Response.id).order_by(Response.id)).all()
    for i, response in enumerate(session.scalars(select(Response).order_by(Response.id))):
        response.duration_seconds = 12.0 if i == 3 else 300.0 + i
    session.commit()
    rows = _csv_rows(_export(runner, tmp_path, "csv"))
    flagged = [int(r["response_id"]) for r in rows if r["flag_speeder"] == "1"]
    assert flagged == [ids[3]]
    assert rows[3]["duration"] == "12"


def test_quality_columns_mark_bots_and_resubmissions_from_one_address(
    runner, session, campaign, tmp_path
):
    version = current_version(session, campaign)
    again = {**HOSTILE, "suggestion": " " + HOSTILE["suggestion"] + "！"}
    for n, (answers, honeypot) in enumerate([(HOSTILE, False), (again, False), (HOSTILE, True)]):
        submit_response(
            session,
            campaign,
            version,
            answers,
            Submission(
                submission_id=f"origin-{n:04d}",
                address_hash="a" * 32 if n < 2 else None,
                honeypot=honeypot,
            ),
            today=DAY_IN_CAMPAIGN,
        )
    session.commit()

    rows = _csv_rows(_export(runner, tmp_path, "csv"))

    assert [r["flag_near_duplicate"] for r in rows] == ["0", "1", "0"]
    assert [r["flag_honeypot"] for r in rows] == ["0", "0", "1"]
    assert not any("address" in column for column in rows[0])


def test_weights_are_those_the_raked_summary_gives_the_responses_it_keeps(
    runner, session, campaign, add_responses, tmp_path
):
    add_responses(60)
    for i, response in enumerate(session.scalars(select(Response).order_by(Response.id))):
        response.duration_seconds = 10.0 if i % 6 == 0 else 300.0 + i  # ten speeders
    targets = {d: 1000 + 100 * i for i, d in enumerate(DISTRICTS)}
    campaign.settings = {**campaign.settings, "weighting": {"margins": {"district": targets}}}
    session.commit()
    rows = _csv_rows(_export(runner, tmp_path, "csv"))
    flagged = [r for r in rows if any(r[c] == "1" for c in r if c.startswith("flag_"))]
    assert len(flagged) >= 10
    assert all(r["weight"] == "" for r in flagged)  # left out of the summary, so unweighted
    kept = [r for r in rows if r not in flagged]
    summary = summarize(session, campaign, rake=True)
    assert summary.n_responses == len(kept)
    mode = next(q for q in summary.questions if q.name == "commute_mode")
    total = sum(float(r["weight"]) for r in kept)
    for choice in mode.rows:
        given = sum(float(r["weight"]) for r in kept if r["commute_mode"] == choice.name)
        assert choice.weighted_count == pytest.approx(given)
        assert choice.percent == pytest.approx(100 * given / total)
