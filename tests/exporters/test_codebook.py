"""The codebook through `minsheng export --format codebook|codebook-pdf`, read back with openpyxl
and pdftotext, and skip logic put in words from a questionnaire with relevance."""

from __future__ import annotations

import subprocess
from pathlib import Path

from openpyxl import load_workbook

from exporters.codebook import codebook_entries
from exporters.variables import variables
from questionnaire.schema import parse_form

FORM = {
    "settings": {"form_id": "t", "default_language": "zh"},
    "choices": {
        "mode": [
            {"name": "bus", "label": {"zh": "公交"}},
            {"name": "car", "label": {"zh": "小汽车"}},
        ],
        "problem": [{"name": "parking", "label": {"zh": "停车难"}}],
    },
    "survey": [
        {"type": "select_one mode", "name": "mode", "label": {"zh": "出行方式"}},
        {"type": "select_multiple problem", "name": "problems", "label": {"zh": "问题"}},
        {
            "type": "begin group",
            "name": "drivers",
            "relevant": "${mode} = 'car'",
            "questions": [
                {
                    "type": "integer",
                    "name": "minutes",
                    "label": {"zh": "找车位分钟数"},
                    "relevant": "selected(${problems}, 'parking') and ${mode} != 'bus'",
                }
            ],
        },
    ],
}


def _export(runner, tmp_path: Path, fmt: str, suffix: str) -> Path:
    out = tmp_path / f"codebook.{suffix}"
    result = runner.invoke(args=["export", "transport-2026", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_skip_logic_of_groups_and_questions_is_in_words():
    form = parse_form(FORM)
    entries = {e.variable.name: e for e in codebook_entries(form, variables(form))}
    assert entries["mode"].asked_when == "always"
    assert entries["minutes"].asked_when == (
        "only if mode is car (小汽车) and problems includes parking (停车难) and "
        "mode is not bus (公交)"
    )
    assert entries["problems/parking"].program_name == "problems_parking"


def test_codebook_workbook_lists_every_exported_variable(runner, campaign, tmp_path):
    book = load_workbook(_export(runner, tmp_path, "codebook", "xlsx"))
    rows = list(book["codebook"].values)
    assert rows[0][:3] == ("variable", "SPSS/Stata name", "label")
    by_name = {r[0]: r for r in rows[1:]}
    assert {"response_id", "submitted_at", "flag_speeder", "district", "problems/parking"} <= set(
        by_name
    )
    assert "jinjiang = 锦江区" in by_name["district"][4]
    assert by_name["submitted_at"][2] == "Submission time (Asia/Shanghai)"


def test_codebook_pdf_has_the_labels_in_chinese(runner, campaign, tmp_path):
    pdf = _export(runner, tmp_path, "codebook-pdf", "pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Narrow cells wrap long names and sentences: compare without the line breaks.
    text = "".join(text.split())
    assert "交通出行专项征集" in text
    assert "锦江区" in text and "problems_parking" in text
    assert "onlyifcommute_modeisother(其他)" in text
