"""Spreadsheets in and out. In: before openpyxl reads a workbook someone uploaded (a contact
list, an XLSForm), its size unzipped is counted and any XML part declaring a DTD is refused
(issue 11: a 208 KB XLSX held a 200 MB name, an 890 KB one kept a worker busy for minutes, one
with a DTD gave a 500). Out: every CSV and XLSX cell minsheng writes goes through
`csv_cell`, `xlsx_cell` or `text_cell`, so a value typed by a resident never runs as a formula,
and a control character in it does not make the whole workbook fail.

openpyxl parses through defusedxml when it is installed (a dependency of minsheng), which
refuses entity expansion; the DTD check here answers with a clear problem instead.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import Any

from minsheng.errors import byte_size
from minsheng.problems import InputError, Problem, TooLargeError
from minsheng.text import xml_safe

XLSX_MAGIC = b"PK\x03\x04"
# A real contact list or XLSForm unzips to a few MB; these bound the work one upload can cause.
MAX_UNZIPPED_BYTES = 100 << 20
MAX_MEMBERS = 2000
# A DTD comes before the root element, so in the first bytes of an XML part.
_HEAD = 4096
_CHUNK = 1 << 16


# What Excel, WPS and LibreOffice start a formula with (OWASP "CSV injection"); a leading tab or
# carriage return is stripped by some of them, leaving the formula behind it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# C0 controls but tab, line feed and carriage return: no XLSX cell (an XML text) can hold them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_cell(value: object) -> object:
    """A CSV or XLSX cell (header or value) no spreadsheet runs as a formula: text starting with
    `FORMULA_STARTS` gets a leading apostrophe, which spreadsheets show as text; numbers are
    left as they are (a negative number is not text). A control character, which no workbook
    can hold (text stored past the checks), is shown as U+FFFD."""
    if isinstance(value, str):
        value = _XML_ILLEGAL.sub("\ufffd", value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


def xlsx_cell(value: object) -> object:
    """`csv_cell` for a workbook: text also gets U+FFFD for each character no XLSX can hold.
    An answer may hold a control character, and openpyxl refuses the whole workbook for one."""
    value = csv_cell(value)
    return xml_safe(value) if isinstance(value, str) else value


def text_cell(cell: Any, value: object) -> None:
    """Put `value` in an openpyxl cell as what it is: openpyxl stores any text starting with
    `=` as a formula, so text is marked a string explicitly and kept unchanged."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def check_workbook(data: bytes, name: str, max_unzipped: int = MAX_UNZIPPED_BYTES) -> None:
    """Refuse `data` (an XLSX) when it unzips past `max_unzipped` bytes (`TooLargeError`, 413)
    or has an XML part with a DTD or entity declarations (`InputError`), naming `name`.

    The bytes are counted while decompressing, so a zip whose headers under-declare its sizes
    (a zip bomb) is stopped at the limit, not after it has filled the memory.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        # NotImplementedError: a zip version or compression Python does not read.
        raise InputError([Problem(name, f"not a readable XLSX workbook ({exc})")]) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise TooLargeError(
                [Problem(name, f"the workbook has {len(members)} parts; at most {MAX_MEMBERS}")]
            )
        total = 0
        for member in members:
            try:
                total, head = _unzipped(archive, member, total, max_unzipped, name)
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
                NotImplementedError,
                RuntimeError,  # an encrypted part: no spreadsheet program writes one
                UnicodeDecodeError,  # a part name flagged UTF-8 that is not
                zlib.error,
            ) as exc:
                raise InputError([Problem(name, f"not a readable XLSX workbook ({exc})")]) from exc
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise InputError(
                    [
                        Problem(
                            f"{name}: {member.filename}",
                            "declares a DTD (<!DOCTYPE or <!ENTITY), which no spreadsheet "
                            "program writes; save the workbook again from Excel or WPS",
                        )
                    ]
                )


def _unzipped(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, total: int, limit: int, name: str
) -> tuple[int, bytes]:
    """The running total of unzipped bytes after `member`, and its first bytes."""
    head = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            if len(head) < _HEAD:
                head += chunk[: _HEAD - len(head)]
            total += len(chunk)
            if total > limit:
                raise TooLargeError(
                    [
                        Problem(
                            name,
                            f"unzips to more than {byte_size(limit)}; a workbook of this size "
                            "is not a contact list or a questionnaire (split it, or save it "
                            "again without images and unused sheets)",
                        )
                    ]
                )
    return total, head.upper()
