"""Fuzzing the contact importers: any bytes are a table whose every row is either good (holding
only storable text) or reported with its row number and column, or the file is refused with an
`InputError` naming it; nothing else (issue 11)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from contacts.files import read_contact_file
from contacts.pii import PIIKeys
from contacts.rows import column_layout, error_report_csv, parse_row
from minsheng.errors import InputError
from minsheng.text import unsafe_character
from tests.invitations.builders import csv_bytes, people, xlsx_bytes

KEYS = PIIKeys.from_master(b"k" * 32)
TITLES = st.sampled_from(
    ["姓名", "name", "手机号", "phone", "邮箱", "email", "district", "", "=cmd", "手机号", "a" * 50]
)
CELL_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["13912345678", "+86 139-1234-5678", "1.39123E+10", "li@example.com"]),
    st.sampled_from(["a@b", "\x00", "\ud800", "=HYPERLINK()", "  ", "居民", "\udcff"]),
)
CELL = st.one_of(
    CELL_TEXT,
    st.none(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)
ROWS = st.lists(st.lists(CELL_TEXT, max_size=6), max_size=8)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])


def _encoded(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    try:
        return out.getvalue().encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-16 or GB18030 form: its (invalid) UTF-8 bytes instead.
        return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def _csv(draw) -> bytes:
    header = draw(st.lists(TITLES, min_size=1, max_size=6))
    text_rows = [header, *draw(ROWS)]
    data = _encoded(text_rows, draw(ENCODINGS))
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.binary(max_size=4)) + data[at:]


@st.composite
def _xlsx(draw) -> bytes:
    header = draw(st.lists(TITLES, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELL, max_size=6), max_size=6))
    try:
        data = xlsx_bytes([header, *rows])
    except IllegalCharacterError:
        # openpyxl writes no control character; a hostile file holds them (`_sheet_changed`).
        data = xlsx_bytes(people(2))
    if draw(st.booleans()):
        return data
    # Flip bytes inside a part: a broken zip, a broken XML sheet, or a changed value.
    # Drawn independently of the length: a workbook's size varies with the time it was saved.
    at = draw(st.integers(0, 1 << 20)) % len(data)
    return data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at + 1 :]


def _sheet_changed(text: bytes) -> bytes:
    """A valid workbook whose first sheet's XML holds `text` where a name was."""
    source = xlsx_bytes(people(2))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/sharedStrings.xml" or info.filename.endswith("sheet1.xml"):
                data = data.replace("居民0".encode(), text)
            zout.writestr(info.filename, data)
    return out.getvalue()


def _read_cells(cells: list[str], layout) -> list[str]:
    """The cells of a row that the layout reads (untitled columns are ignored)."""
    indices = {layout.name, layout.phone, layout.email, *layout.attributes.values()}
    return [cell for i, cell in enumerate(cells) if i in indices]


FILES = st.one_of(_csv(), _xlsx(), st.binary(max_size=300))


@given(data=FILES, required=st.lists(st.sampled_from(["district", "age_group"]), max_size=1))
@example(data=csv_bytes(people(3)).replace("居民1".encode(), b"\xff\xfe"), required=[])
@example(data=_sheet_changed(b"&#0;"), required=[])
@example(data=_sheet_changed(b"\xff"), required=[])
def test_any_contact_file_gives_good_rows_or_row_problems_or_a_file_error(data, required):
    try:
        table = read_contact_file(data, "people.csv")
        layout = column_layout(table, required, "people.csv")
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.location.startswith("people.csv"), problem
            assert problem.message
        return
    problems = []
    for number, cells in table.rows:
        row = parse_row(number, cells, layout, KEYS)
        for problem in row.problems:
            assert problem.row == number and problem.column and problem.reason
            assert unsafe_character(problem.value) is None
        problems += row.problems
        if not row.problems:
            stored = [row.values["name"] or "", *row.values["attributes"].values()]
            assert not any(unsafe_character(text) for text in stored), stored
            assert row.values["phone"] or row.values["email"]
        elif any("\udc80" <= ch <= "\udcff" for ch in "".join(_read_cells(cells, layout))):
            assert any("is not text in the file's encoding" in p.reason for p in row.problems)
    error_report_csv(problems).encode("utf-8")
