"""CSV and XLSX outputs never run a resident's text as a formula: `= + - @`, a leading tab or a
carriage return, in headers and values alike (issue 11, point 9)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from contacts.rows import RowProblem, error_report_csv
from forms.xlsform import read_xlsform, write_xlsform
from questionnaire.schema import parse_form

HOSTILE = ["=cmd|'/C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_contact_error_report_neutralises_formulas_in_every_column(value):
    report = error_report_csv([RowProblem(2, value, value, value)])
    row = next(iter(csv.reader(io.StringIO(report[report.index("\r\n") + 2 :]))))
    assert row[1:] == ["'" + value] * 3


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil.example","x")', "@SUM(A1)"])
def test_an_exported_xlsform_keeps_a_formula_like_label_as_text(tmp_path, value):
    form = parse_form({"survey": [{"type": "text", "name": "t", "label": {"zh": value}}]})
    path = tmp_path / "form.xlsx"
    write_xlsform(form, path)
    sheet = openpyxl.load_workbook(path)["survey"]
    label = next(c for c in sheet[2] if c.value == value)
    assert label.data_type == "s"
    assert read_xlsform(path).form.question("t").label == {"zh": value}
