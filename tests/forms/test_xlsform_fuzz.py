"""Fuzzing the XLSForm importer: any workbook, CSV or markdown file is either a form that
round-trips through `write_xlsform`, or an `InputError` whose every problem names the file
(and, for a cell, its sheet and row); nothing else (issue 11)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from forms.xlsform import read_xlsform, write_xlsform
from minsheng.errors import InputError
from questionnaire.schema import parse_form
from tests.mutations import EXAMPLE_CAMPAIGN, NASTY_TEXT, mutated

WORDS = st.sampled_from(
    [
        "begin group",
        "end group",
        "begin repeat",
        "end_repeat",
        "select_one",
        "select_one mode",
        "select_multiple problem or_other",
        "integer",
        "calculate",
        "geopoint",
        "rank mode",
        "survey",
        "choices",
        "settings",
        "type",
        "name",
        "label",
        "label::English (en)",
        "relevant",
        "constraint",
        "${age} > 1",
        "list_name",
        "choice_filter",
        "required",
        "yes",
    ]
)
CELL = st.one_of(
    st.none(),
    WORDS,
    NASTY_TEXT,
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)


def _sheets_of(form_data) -> dict[str, list[list[object]]]:
    """The example questionnaire as the rows of each sheet of its XLSForm workbook."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.xlsx"
        write_xlsform(parse_form(form_data), path)
        book = load_workbook(path)
        return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in book}


SHEETS = _sheets_of(EXAMPLE_CAMPAIGN["questionnaire"])


def _xlsx(sheets: object, path: Path) -> bool:
    """Write `sheets` ({title: rows}) as a workbook; False when openpyxl can not hold them."""
    book = Workbook()
    book.remove(book.active)
    items = sheets.items() if isinstance(sheets, dict) else [("survey", sheets)]
    try:
        for title, rows in items:
            sheet = book.create_sheet(str(title)[:31] or "sheet")
            for row in rows if isinstance(rows, list) else [[rows]]:
                sheet.append(row if isinstance(row, list) else [row])
        book.save(path)
    except (IllegalCharacterError, ValueError, TypeError):
        return False
    return True


def _text_table(sheets: object, markdown: bool) -> str:
    """pyxform's text layout: the sheet name in the first column, then its rows."""
    lines = []
    for title, rows in sheets.items() if isinstance(sheets, dict) else []:
        lines.append([str(title)])
        for row in rows if isinstance(rows, list) else []:
            cells = row if isinstance(row, list) else [row]
            lines.append(["", *("" if c is None else str(c) for c in cells)])
    if markdown:
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)
    return "\n".join(",".join(line) for line in lines)


@given(
    sheets=st.one_of(mutated(SHEETS, CELL), mutated(SHEETS, st.lists(CELL, max_size=4))),
    suffix=st.sampled_from([".xlsx", ".xlsx", ".csv", ".md"]),
)
@example(
    sheets={"survey": [["type", "name"]] + [["begin group", f"g{i}"] for i in range(300)]},
    suffix=".xlsx",
)
@example(sheets={"survey": [["type", "name"], ["text", "\ud800"]]}, suffix=".csv")
def test_any_xlsform_is_a_form_or_an_input_error_naming_the_file(sheets, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"form{suffix}"
        if suffix == ".xlsx":
            if not _xlsx(sheets, path):
                return
        else:
            text = _text_table(sheets, markdown=suffix == ".md")
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            imported = read_xlsform(path)
        except InputError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.location.startswith(path.name), problem
                assert problem.message, problem
            return
        again = Path(folder) / "again.xlsx"
        write_xlsform(imported.form, again)
        assert read_xlsform(again).form == imported.form


@given(data=st.binary(max_size=400), at=st.integers(0, 1 << 20))
def test_a_workbook_with_broken_bytes_is_an_input_error_naming_the_file(data, at):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.xlsx"
        assert _xlsx(SHEETS, path)
        workbook = path.read_bytes()
        at %= len(workbook)
        path.write_bytes(workbook[:at] + data + workbook[at + len(data) :])
        try:
            read_xlsform(path)
        except InputError as exc:
            assert all(p.location.startswith("form.xlsx") for p in exc.problems)


def test_a_control_character_in_a_cell_is_refused_naming_its_sheet_row_and_column(tmp_path):
    # A CSV or markdown form can hold one; no XLSX can, so the form could never be exported.
    path = tmp_path / "form.csv"
    path.write_text("survey,,\n,type,name,label\n,text,why,Why\x1b?\n", encoding="utf-8")
    try:
        read_xlsform(path)
    except InputError as exc:
        assert [str(p) for p in exc.problems] == [
            "form.csv: sheet `survey`, row 2, column `label`: "
            "contains the control character U+001B at character 4"
        ]
    else:
        raise AssertionError("a control character was accepted")
