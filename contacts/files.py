"""Reading contact files as rows of text: CSV in UTF-8 (with or without BOM), UTF-16 (Excel's
"Unicode text") or GB18030 (what Chinese Excel writes as "CSV"), and XLSX via openpyxl.

Row numbers are the ones a person sees in Excel: the header is row 1, data starts at row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from minsheng.errors import InputError, Problem

XLSX_MAGIC = b"PK\x03\x04"
CSV_DELIMITERS = ",\t;"


@dataclass(frozen=True)
class ContactTable:
    """The header (stripped) and the data rows of a contact file, each with its row number."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str


def read_contact_file(data: bytes, filename: str) -> ContactTable:
    """Parse `data` as XLSX (by content, whatever the name says) or as delimited text.

    Raises InputError naming the file when it is empty, has no header, or is not a table.
    """
    if data.startswith(XLSX_MAGIC):
        table = _read_xlsx(data, filename)
    else:
        text, encoding = decode_text(data)
        table = _read_delimited(text, encoding, filename)
    if not any(table.header):
        raise InputError([Problem(filename, "the first row must name the columns; it is empty")])
    return table


def decode_text(data: bytes) -> tuple[str, str]:
    """Text of `data` and the encoding used: a BOM decides; otherwise strict UTF-8, and GB18030
    when that fails (every byte string that is not UTF-8 but came from Chinese Excel is)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # GB18030 is a superset of GBK and GB2312, and maps every byte sequence.
        return data.decode("gb18030", errors="replace"), "gb18030"


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
        rows = [(reader.line_num, [cell.strip() for cell in row]) for row in reader if any(row)]
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
        rows = [(number, row) for number, row in cells if any(row)]
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
