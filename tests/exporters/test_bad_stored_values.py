"""Every class of bad value written straight into the responses table, past every door's checks
(an old row, a manual fix, another tool): the results page, the summary API, the expert queue,
each export format and the PDF report still work, and the summary counts what it could not read
(issue 11)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from exporters.pdf_report import render_campaign_report
from forms.ingest import Submission, submit_response
from forms.models import Response
from forms.publishing import current_version
from reviews.assignment import assign_reviews
from reviews.experts import assign_expert, start_review_round

HERE = Path(__file__).parent
SLUG = "every-type-2026"
pytestmark = pytest.mark.campaign_file(HERE / "every_type.yaml")

GOOD = {
    "district": "wuhou",
    "mode": "metro",
    "modes": ["metro", "bus"],
    "ranked": ["bus", "metro", "car"],
    "sat_bus": "4",
    "sat_metro": "2",
    "nps": 9,
    "age": 40,
    "km": 7.5,
    "moved_in": "2020-05-01",
    "consent": "OK",
    "suggestion": "地铁站增设非机动车停放区，电话 13812345678",
}
# The answers column as JSON text, written as it is: bad values of every kind for every type.
BAD_ANSWERS = {
    "lone surrogate": '{"suggestion": "bad \\ud800 text", "mode_other": "\\udcff", '
    '"district": "wuhou"}',
    "NUL": '{"suggestion": "a\\u0000b", "mode_other": "x\\u0000", "district": "a\\u0000"}',
    "control character": '{"suggestion": "esc \\u001b here \\u0007", "mode_other": "\\u000b"}',
    "100 KB text": json.dumps({"suggestion": "长" * 100_000, "mode_other": "x" * 100_000}),
    "object for text": '{"suggestion": {"a": 1}, "mode_other": {"b": [2]}, "district": {"x": 1}}',
    "list for text": '{"suggestion": ["a", "b"], "moved_in": ["2020-01-01"]}',
    "number for text": '{"suggestion": 42, "mode_other": 1.5, "district": 3}',
    "NaN": '{"age": NaN, "km": NaN, "nps": NaN, "sat_bus": NaN, "suggestion": NaN}',
    "Infinity": '{"age": Infinity, "km": -Infinity, "nps": Infinity, "sat_metro": -Infinity}',
    "string for a multiple choice": '{"modes": "metro bus", "ranked": "bus metro"}',
    "null": '{"district": null, "modes": null, "ranked": null, "age": null, "suggestion": null}',
    "out-of-range numbers": '{"age": 100000000000000000000000000000, "km": 1e308, '
    '"nps": -5, "sat_bus": "9", "consent": 2}',
    "unknown option codes": '{"district": "atlantis", "mode": "teleport", "modes": ["metro", '
    '"teleport"], "ranked": ["teleport", "metro"], "sat_metro": "7"}',
    "wrong types": '{"age": "abc", "km": [1], "nps": {"v": 1}, "moved_in": "2026-02-30", '
    '"consent": "maybe", "sat_bus": true, "modes": [1, null, true]}',
    "booleans for numbers": '{"age": true, "km": false, "nps": true, "district": false}',
    "nested lists": '{"modes": [["metro"]], "ranked": [{"a": 1}], "suggestion": [[[["x"]]]]}',
    "huge nesting": '{"suggestion": ' + "[" * 5000 + "]" * 5000 + "}",
    "unknown questions": '{"nope": 1, "\\ud800": "key", "": "", "district": "wuhou"}',
    "answers a list": "[1, 2, 3]",
    "answers a string": '"answers"',
    "answers a number": "42",
    "answers null": "null",
}


@pytest.fixture()
def stored(session, campaign):
    """Twenty good responses, then one row per class of bad value, written as JSON text with
    SQL (a class the database itself refuses, such as NaN on PostgreSQL, is left out)."""
    version = current_version(session, campaign)
    for i in range(20):
        submit_response(
            session,
            campaign,
            version,
            {**GOOD, "age": 20 + i, "sat_bus": str(1 + i % 5)},
            Submission(submission_id=f"good-{i:04d}"),
        )
    session.commit()
    written = []
    for i, (name, answers) in enumerate(BAD_ANSWERS.items()):
        row = Response(
            campaign_id=campaign.id,
            version_id=version.id,
            submission_id=f"bad-{i:04d}",
            answers={},
        )
        session.add(row)
        session.flush()
        try:
            with session.begin_nested():
                session.execute(
                    text("UPDATE responses SET answers = :a WHERE id = :id"),
                    {"a": answers, "id": row.id},
                )
        except DBAPIError:
            session.delete(row)
            continue
        written.append(name)
    session.commit()
    session.expire_all()
    return written


def test_every_bad_class_is_stored_on_sqlite(session, stored):
    if session.get_bind().dialect.name == "sqlite":
        assert stored == list(BAD_ANSWERS)


def test_the_summary_api_and_the_results_page_work_and_count_what_they_skipped(
    client, login, stored
):
    login("admin")
    reply = client.get(f"/api/v1/campaigns/{SLUG}/summary")
    assert reply.status_code == 200, reply.text
    summary = reply.json
    assert summary["quality"]["n_received"] == 20 + len(stored)
    by_name = {q["name"]: q for q in summary["questions"]}
    # The good answers are all counted; a bad one is skipped, never counted as an answer: the
    # question's base is the twenty good ages (20-39), and the rest are counted as missing.
    age = by_name["age"]
    assert age["n_base"] == 20
    assert age["numeric"]["maximum"] == 39
    assert age["n_base"] + age["n_missing"] == summary["n_responses"]
    district = {row["name"]: row["count"] for row in by_name["district"]["rows"]}
    assert district["wuhou"] >= 20 and "atlantis" not in district
    page = client.get(f"/campaigns/{SLUG}/results")
    assert page.status_code == 200, page.text


def test_the_expert_queue_works(client, login, session, campaign, stored):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    # Starting the round reads every stored answer, the bad ones too, into records.
    start_review_round(session, campaign)
    assign_reviews(session, campaign)
    session.commit()
    page = client.get(f"/campaigns/{SLUG}/reviews/queue")
    assert page.status_code == 200, page.text
    assert "138****5678" in page.text


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_every_export_format_writes_one_row_per_response(runner, stored, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    result = runner.invoke(args=["export", SLUG, "--format", fmt, "-o", str(path)])
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        count = len(rows) - 1
    elif fmt == "xlsx":
        book = load_workbook(path, read_only=True)
        count = sum(1 for _ in book.worksheets[0].iter_rows()) - 1
        book.close()  # read-only workbooks keep the file open
    else:
        import pyarrow.parquet as pq

        count = pq.read_table(path).num_rows
    assert count == 20 + len(stored)


def test_the_pdf_report_renders(session, campaign, stored, tmp_path):
    path = render_campaign_report(session, campaign, tmp_path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "题型齐全问卷" in text


def test_the_stored_bad_rows_are_still_there(session, campaign, stored):
    count = session.scalars(select(Response.id).where(Response.campaign_id == campaign.id)).all()
    assert len(count) == 20 + len(stored)
