"""Every question type a questionnaire may have, answered well, exported in every format and read
back with an independent reader: a type a writer does not expect fails the export, as a range
(NPS) question once failed the Parquet one."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
from openpyxl import load_workbook

from exporters.cli import EXPORT_FORMATS
from exporters.formats import FORMATS
from forms.ingest import Submission, submit_response
from forms.publishing import current_version
from tests.exporters.conftest import DAY_IN_CAMPAIGN

SLUG = "all-types-2026"
pytestmark = pytest.mark.campaign_file(Path(__file__).parent / "all_types.yaml")


def _answers(i: int) -> dict[str, Any]:
    return {
        "district": ["jinjiang", "wuhou"][i % 2],
        "mode": "metro" if i % 3 else "other",
        "mode_other": "骑行" if i % 3 == 0 else None,
        "modes": ["metro", "bus"][: 1 + i % 2],
        "ranked": ["bus", "metro", "car"],
        "sat_bus": str(1 + i % 5),
        "sat_metro": str(1 + (i + 2) % 5),
        "nps": i % 11,
        "age": 20 + i,
        "km": 0.5 + i,
        "moved_in": "2020-05-01",
        "consent": "OK",
        "suggestion": f"建议 {i}",
    }


@pytest.fixture()
def answered(session, campaign):
    version = current_version(session, campaign)
    for i in range(12):
        answers = {k: v for k, v in _answers(i).items() if v is not None}
        submit_response(
            session,
            campaign,
            version,
            answers,
            Submission(
                submission_id=f"all-types-{i:03d}",
                started_at=datetime.now(UTC) - timedelta(seconds=60 + i),
            ),
            today=DAY_IN_CAMPAIGN,
        )
    session.commit()


def _exported(runner, tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / f"export-{fmt}.{FORMATS[fmt].suffix}"
    result = runner.invoke(args=["export", SLUG, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_exports_every_question_type(runner, answered, tmp_path, fmt):
    out = _exported(runner, tmp_path, fmt)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        assert len(rows) == 12 and rows[3]["nps"] == "3" and rows[3]["km"] == "3.5"
    elif fmt == "xlsx":
        sheet = load_workbook(out)["responses"]
        header, *values = list(sheet.values)
        assert len(values) == 12 and values[3][header.index("nps")] == 3
    elif fmt == "parquet":
        table = pq.read_table(out)
        assert table.num_rows == 12 and table.schema.field("nps").type == pa.float64()
        assert table["nps"].to_pylist()[3] == 3.0 and table["ranked/car"].to_pylist()[0] == 3.0
    elif fmt in ("sav", "dta"):
        read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        frame, _ = read(str(out))
        assert len(frame) == 12 and frame["nps"].tolist()[3] == 3
    elif fmt == "codebook":
        names = [r[0] for r in load_workbook(out)["codebook"].values]
        assert {"nps", "age", "km", "moved_in", "consent", "modes/bus"} <= set(names)
    elif fmt == "codebook-pdf":
        assert out.read_bytes().startswith(b"%PDF")
    else:
        with zipfile.ZipFile(out) as archive:
            text = archive.read("responses.csv").decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 12 and "suggestion" not in rows[0]
