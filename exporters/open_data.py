"""The anonymised open-data package of a campaign: a zip of `responses.csv` and a Frictionless
Tabular Data Package descriptor (`datapackage.json`, https://specs.frictionlessdata.io/), the
only export a department may have.

What it leaves out or coarsens, so that no resident is picked out: no response id (rows are
numbered), no free text at all (masked or not), no duration, the submission date without the
time. Then suppression (local suppression of rare categories): in every coded column, a value
given by fewer than `SUPPRESSION_THRESHOLD` respondents is blanked, so no one-way cell smaller
than the threshold is published; the descriptor says how many cells were blanked per column.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

import pandas as pd
from flask import current_app

from campaigns.models import Campaign
from exporters.exports import Export, Progress, report_progress
from exporters.variables import Variable
from minsheng.workbooks import csv_cell
from questionnaire.schema import text_in

RESOURCE = "responses.csv"
# Kinds whose values are categories counted for suppression.
CODED_KINDS = frozenset({"choice", "option", "flag"})
CODED_META = frozenset({"channel", "collection_point", "target_group", "language"})
LEFT_OUT = frozenset({"response_id", "duration"})
_TYPES = {"0/1": "integer", "decimal": "number", "integer": "number", "range": "number"}


def published(columns: list[Variable]) -> list[Variable]:
    """The columns an open-data file keeps: no identifiers, no free text, no duration."""
    return [v for v in columns if v.kind != "text" and v.name not in LEFT_OUT]


def _coded(v: Variable) -> bool:
    return v.kind in CODED_KINDS or v.name in CODED_META


def _cell(v: Variable, value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if v.kind == "time":
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and v.kind != "weight":
        return int(value)
    return value


def _rows(export: Export, columns: list[Variable]) -> Iterator[list[Any]]:
    index = {v.name: i for i, v in enumerate(export.columns)}
    positions = [index[v.name] for v in columns]
    for frame in export.frames():
        for row in frame.itertuples(index=False, name=None):
            yield [_cell(v, row[p]) for v, p in zip(columns, positions, strict=True)]


def category_counts(export: Export, columns: list[Variable]) -> dict[str, Counter[Any]]:
    """How many respondents gave each value of every coded column (a first pass)."""
    counts: dict[str, Counter[Any]] = {v.name: Counter() for v in columns if _coded(v)}
    coded = [(i, v.name) for i, v in enumerate(columns) if _coded(v)]
    for row in _rows(export, columns):
        for i, name in coded:
            if row[i] is not None:
                counts[name][row[i]] += 1
    return counts


def _field(v: Variable, suppressed: int) -> dict[str, Any]:
    field: dict[str, Any] = {"name": v.name, "title": v.label}
    if v.kind == "time":
        field["type"] = "date"
        field["description"] = "Submission date (local)"
    elif v.kind == "weight":
        field["type"] = "number"
    else:
        field["type"] = _TYPES.get(v.type, "string")
    if v.values:
        field["description"] = "; ".join(f"{code} = {label}" for code, label in v.values)
        if field["type"] == "integer":
            field["constraints"] = {"enum": [int(code) for code, _ in v.values]}
        else:
            field["constraints"] = {"enum": [code for code, _ in v.values]}
    if suppressed:
        field["x-suppressed-cells"] = suppressed
    return field


def descriptor(
    campaign: Campaign,
    columns: list[Variable],
    suppressed: dict[str, int],
    threshold: int,
    rows: int,
) -> dict[str, Any]:
    """The `datapackage.json` of the package (Tabular Data Package, Table Schema v1)."""
    title = text_in(campaign.title, "zh", campaign.slug)
    return {
        "profile": "tabular-data-package",
        "name": campaign.slug.lower(),
        "title": title,
        "description": (
            f"Anonymised responses of {title}: no identifiers, no free text; values given by "
            f"fewer than {threshold} respondents are suppressed (left empty)."
        ),
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": "responses",
                "path": RESOURCE,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [_field(v, suppressed.get(v.name, 0)) for v in columns],
                    "missingValues": [""],
                },
                "x-rows": rows,
                "x-suppression-threshold": threshold,
            }
        ],
    }


def write_datapackage(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """Write the zipped package at the app's `SUPPRESSION_THRESHOLD`, in two streaming passes
    (count the categories, then write the rows; memory stays that of one chunk). Free text never
    enters it, whatever the export's options."""
    threshold = int(current_app.config["SUPPRESSION_THRESHOLD"])
    columns = published(export.columns)
    counts = category_counts(export, columns)
    rare = {name: {value for value, n in c.items() if n < threshold} for name, c in counts.items()}
    suppressed = {name: sum(counts[name][v] for v in values) for name, values in rare.items()}
    coded = [(i, rare[v.name]) for i, v in enumerate(columns) if _coded(v) and rare[v.name]]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(RESOURCE, "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow([v.name for v in columns])
            for done, row in enumerate(_rows(export, columns), start=1):
                for i, values in coded:
                    if row[i] in values:
                        row[i] = None
                writer.writerow([csv_cell(c) for c in row])
                if done % 10_000 == 0:
                    report_progress(progress, done, export.rows)
            text.flush()
            text.detach()
        meta = descriptor(export.campaign, columns, suppressed, threshold, export.rows)
        archive.writestr("datapackage.json", json.dumps(meta, ensure_ascii=False, indent=2))
