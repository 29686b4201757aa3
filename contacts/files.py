"""Reading contact files as rows of text: CSV in UTF-8 (with or without BOM), UTF-16 (Excel's
"Unicode text") or GB18030 (what Chinese Excel writes as "CSV"), and XLSX via openpyxl.

Row numbers are the ones a person sees in Excel: the header is row 1, data starts at row 2. A file
past its limits (bytes, rows, a cell's length, a workbook's unzipped size) is refused whole with
`TooLargeError` (413); bytes that decode to no character are kept as lone surrogates, which
`contacts.rows` reports per row and column instead of replacing them silently.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from minsheng.errors import InputError, Problem, TooLargeError, byte_size
from minsheng.workbooks import XLSX_MAGIC, check_workbook

CSV_DELIMITERS = ",\t;"
# A city's contact list is tens of thousands of rows of short cells (issue 11: a 208 KB XLSX put
# a 200 MB name into a list).
MAX_FILE_BYTES = 20 << 20
MAX_ROWS = 200_000
MAX_CELL_CHARS = 1000


@dataclass(frozen=True)
class ContactTable:
    """The header (stripped) and the data rows of a contact file, each with its row number."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str


def read_contact_file(data: bytes, filename: str) -> ContactTable:
    """Parse `data` as XLSX (by content, whatever the name says) or as delimited text.

    Raises InputError naming the file when it is empty, has no header, or is not a table, and
    `TooLargeError` past `MAX_FILE_BYTES`, `MAX_ROWS` or `MAX_CELL_CHARS`.
    """
    check_contact_file(data, filename)
    if data.startswith(XLSX_MAGIC):
        table = _read_xlsx(data, filename)
    else:
        text, encoding = decode_text(data, filename)
        table = _read_delimited(text, encoding, filename)
    if not any(table.header):
        raise InputError([Problem(filename, "the first row must name the columns; it is empty")])
    _check_table_size(table, filename)
    return table


def check_contact_file(data: bytes, filename: str) -> None:
    """What can be told before the rows are read: the size, and for XLSX its unzipped size and
    no DTD (`minsheng.workbooks`). The upload page calls it so a 413 comes at once."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLargeError(
            [
                Problem(
                    filename,
                    f"{byte_size(len(data))}; a contact file may hold at most "
                    f"{byte_size(MAX_FILE_BYTES)} (split it into several lists)",
                )
            ]
        )
    if data.startswith(XLSX_MAGIC):
        check_workbook(data, filename)


def _at_most_max_rows(
    rows: Iterator[tuple[int, list[str]]], filename: str
) -> list[tuple[int, list[str]]]:
    """The rows, read no further than one past `MAX_ROWS` (then `TooLargeError`)."""
    kept: list[tuple[int, list[str]]] = []
    for row in rows:
        if len(kept) == MAX_ROWS:
            raise TooLargeError(
                [
                    Problem(
                        filename, f"more than {MAX_ROWS:,} rows; import the list in several files"
                    )
                ]
            )
        kept.append(row)
    return kept


def _check_table_size(table: ContactTable, filename: str) -> None:
    long = [
        Problem(
            f"{filename}:{number}",
            f"column {_title(table.header, index)!r} holds {len(cell):,} characters; "
            f"a cell may hold at most {MAX_CELL_CHARS:,}",
        )
        for number, cells in [(1, table.header), *table.rows]
        for index, cell in enumerate(cells)
        if len(cell) > MAX_CELL_CHARS
    ]
    if long:
        raise TooLargeError(long[:20])


def _title(header: list[str], index: int) -> str:
    title = header[index] if index < len(header) else ""
    return title[:40] or f"#{index + 1}"


def decode_text(data: bytes, filename: str = "") -> tuple[str, str]:
    """Text of `data` and the encoding used: a BOM decides; otherwise UTF-8, or GB18030 (a
    superset of GBK and GB2312, what Chinese Excel writes as "CSV") when it decodes with fewer
    bad bytes. A byte that decodes to nothing becomes a lone surrogate (U+DC80-U+DCFF,
    "surrogateescape"): `contacts.rows` reports the row and column holding it."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "surrogateescape"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            # Two bytes a unit: a broken one can not be kept byte by byte, so the file is refused.
            raise InputError(
                [Problem(filename, f"not valid UTF-16 at byte {exc.start}: {exc.reason}")]
            ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    as_utf8 = data.decode("utf-8", "surrogateescape")
    as_gb = data.decode("gb18030", "surrogateescape")
    if _escaped(as_utf8) < _escaped(as_gb):
        return as_utf8, "utf-8"
    return as_gb, "gb18030"


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _escaped(text: str) -> int:
    return len(_ESCAPED_BYTE.findall(text))


def _read_delimited(text: str, encoding: str, filename: str) -> ContactTable:
    first_line = text.split("\n", 1)[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            first_line, delimiters=CSV_DELIMITERS
        )
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        rows = _at_most_max_rows(
            ((reader.line_num, [cell.strip() for cell in row]) for row in reader if any(row)),
            filename,
        )
    except csv.Error as exc:
        raise InputError([Problem(f"{filename}:{reader.line_num}", str(exc))]) from exc
    return ContactTable(header=header, rows=rows, encoding=encoding)


def _read_xlsx(data: bytes, filename: str) -> ContactTable:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError([Problem(filename, f"not a readable XLSX workbook ({exc})")]) from exc
    try:
        sheet = workbook.worksheets[0]
        cells = _sheet_rows(sheet.iter_rows(values_only=True))
        header = next(cells, (1, []))[1]
        rows = _at_most_max_rows(((n, row) for n, row in cells if any(row)), filename)
    except (KeyError, OSError, ValueError, SyntaxError) as exc:
        # defusedxml's refusals are ValueErrors; a malformed sheet is an XML SyntaxError.
        raise InputError([Problem(filename, f"not a readable XLSX workbook ({exc})")]) from exc
    finally:
        workbook.close()
    return ContactTable(header=header, rows=rows, encoding="xlsx")


def _sheet_rows(rows: Iterator[tuple[object, ...]]) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(rows, start=1):
        yield number, [cell_text(value) for value in row]


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees: a phone number typed as a number
    (13812345678, or 13812345678.0 after a round trip) stays all digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
