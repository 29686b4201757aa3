"""The open-data package through `minsheng export --format datapackage`: a valid Frictionless
Tabular Data Package (checked by the `frictionless` library), with no identifiers, no free text
and no value given by fewer respondents than the suppression threshold."""

from __future__ import annotations

import csv
import json
import zipfile
from collections import Counter
from pathlib import Path

from frictionless import Package, validate

from exporters.cli import EXPORT_FORMATS
from exporters.formats import FORMATS


def _package(runner, tmp_path: Path) -> Path:
    out = tmp_path / "open.zip"
    result = runner.invoke(
        args=["export", "transport-2026", "--format", "datapackage", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "open"
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["datapackage.json", "responses.csv"]
        archive.extractall(folder)
    return folder


def test_package_is_valid_and_holds_every_response(runner, campaign, add_responses, tmp_path):
    answers = add_responses(60)
    folder = _package(runner, tmp_path)
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = Package(str(folder / "datapackage.json")).get_resource("responses").read_rows()
    assert len(rows) == 60
    # Common districts pass unchanged (threshold 5 in the test settings).
    given = Counter(a["district"] for a in answers)
    kept = Counter(r["district"] for r in rows if r["district"] is not None)
    assert {d: n for d, n in given.items() if n >= 5} == dict(kept)


def test_no_identifier_no_text_and_rare_values_suppressed(
    runner, app, campaign, add_responses, tmp_path
):
    answers = add_responses(40)
    threshold = int(app.config["SUPPRESSION_THRESHOLD"])
    folder = _package(runner, tmp_path)
    with (folder / "responses.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert not {"response_id", "suggestion", "commute_mode_other", "duration"} & set(rows[0])
    assert all(len(r["submitted_at"]) == 10 for r in rows)  # a date, no time of day
    for column in ("district", "commute_mode", "age_group", "channel", "problems/safety"):
        counts = Counter(r[column] for r in rows if r[column] != "")
        assert all(n >= threshold for n in counts.values()), (column, counts)
    modes = Counter(a["commute_mode"] for a in answers)
    rare = sum(n for n in modes.values() if n < threshold)
    meta = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in meta["resources"][0]["schema"]["fields"]}
    assert rare > 0 and fields["commute_mode"]["x-suppressed-cells"] == rare
    assert sum(1 for r in rows if r["commute_mode"] == "") == rare


def test_the_command_offers_every_format():
    assert set(EXPORT_FORMATS) == set(FORMATS)


def test_every_format_exports_a_campaign_without_responses(runner, campaign, tmp_path):
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"empty.{FORMATS[fmt].suffix}"
        result = runner.invoke(args=["export", "transport-2026", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, (fmt, result.output)
        assert out.stat().st_size > 0, fmt
