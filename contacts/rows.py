"""Checking the rows of a contact file: which column holds the name, phone and e-mail, what
makes a row good, and the downloadable error report (masked values only)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from contacts.files import ContactTable
from contacts.pii import (
    PIIKeys,
    lookup_hash,
    mask_email,
    mask_phone,
    mask_text,
    normalize_email,
    normalize_phone,
)
from minsheng.errors import InputError, Problem
from minsheng.text import sanitised, unsafe_character
from minsheng.workbooks import csv_cell

# Header names recognised for the personal columns (lower-cased); every other column is an
# attribute kept under its own name.
NAME_COLUMNS = ("name", "姓名", "名字")
PHONE_COLUMNS = (
    "phone",
    "mobile",
    "mobile phone",
    "手机",
    "手机号",
    "手机号码",
    "电话",
    "联系电话",
)
EMAIL_COLUMNS = ("email", "e-mail", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件")
ERROR_REPORT_HEADER = ("row", "column", "value", "reason")


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was not imported; `value` is already masked."""

    row: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class Layout:
    name: int | None
    phone: int | None
    email: int | None
    attributes: dict[str, int]
    required: tuple[str, ...]
    titles: dict[str, str]


@dataclass
class ParsedRow:
    values: dict[str, Any]
    problems: list[RowProblem]


def column_layout(table: ContactTable, required: Sequence[str], filename: str) -> Layout:
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    for index, title in enumerate(table.header):
        if not title:
            continue
        reason = _undecodable(title)
        if reason:
            # A column name is stored with every problem of its column and in the attributes.
            problems.append(Problem(f"{filename}:1", f"column {index + 1}: {reason}"))
            continue
        if title in positions:
            problems.append(Problem(f"{filename}:1", f"column {title!r} appears twice"))
        positions[title] = index
    lowered = {title.lower(): index for title, index in positions.items()}

    def find(names: Iterable[str]) -> int | None:
        return next((lowered[n] for n in names if n in lowered), None)

    name, phone, email = find(NAME_COLUMNS), find(PHONE_COLUMNS), find(EMAIL_COLUMNS)
    if phone is None and email is None:
        problems.append(
            Problem(
                f"{filename}:1",
                f"no mobile phone or e-mail column among {', '.join(table.header)}; "
                "expected a column named e.g. phone / 手机号 or email / 邮箱",
            )
        )
    personal = {name, phone, email}
    attributes = {t: i for t, i in positions.items() if i not in personal}
    for wanted in required:
        if wanted not in attributes:
            problems.append(
                Problem(
                    f"{filename}:1",
                    f"required column {wanted!r} is missing; the file has "
                    f"{', '.join(t for t in table.header if t)}",
                )
            )
    if problems:
        raise InputError(problems)
    titles = {
        kind: table.header[index]
        for kind, index in (("name", name), ("phone", phone), ("email", email))
        if index is not None
    }
    return Layout(name, phone, email, attributes, tuple(required), titles)


# Excel shows a long number typed into a General cell as 1.38123E+10 and saves it so in CSV:
# the digits are gone and only the person who exported the file can bring them back.
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+\d+")


def _phone_reason(raw: str) -> str:
    if _SCIENTIFIC.fullmatch(raw.strip()):
        return (
            "the number was saved by Excel in scientific notation (like 1.38E+10) and its "
            "digits are lost; format the column as text in Excel and export the file again"
        )
    return (
        "invalid mainland mobile number; expected 11 digits 1[3-9]XXXXXXXXX, "
        "optionally with +86, spaces or dashes"
    )


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _undecodable(cell: str) -> str | None:
    """Why a cell can not be stored: a byte the file's encoding did not decode (kept by
    `contacts.files.decode_text` as U+DC80-U+DCFF), a NUL or another lone surrogate."""
    found = next((i for i, ch in enumerate(cell) if "\udc80" <= ch <= "\udcff"), None)
    if found is not None:
        byte = ord(cell[found]) - 0xDC00
        return (
            f"byte 0x{byte:02X} at character {found + 1} is not text in the file's encoding "
            "(UTF-8 or GB18030); save the file again as CSV UTF-8 or as XLSX"
        )
    return unsafe_character(cell)


def _text_problems(number: int, cells: list[str], layout: Layout) -> list[RowProblem]:
    columns = [
        (layout.titles.get(kind, kind), index)
        for kind, index in (("name", layout.name), ("phone", layout.phone), ("email", layout.email))
        if index is not None
    ] + list(layout.attributes.items())
    problems = []
    for title, index in columns:
        cell = _cell(cells, index)
        reason = _undecodable(cell)
        if reason:
            problems.append(RowProblem(number, title, mask_text(sanitised(cell)), reason))
    return problems


def parse_row(number: int, cells: list[str], layout: Layout, keys: PIIKeys) -> ParsedRow:
    """The row's values (phone and e-mail normalised and hashed), or every reason it can not be
    imported; a cell that is not text (undecodable bytes, NUL) is reported, never stored."""
    problems = _text_problems(number, cells, layout)
    if problems:
        return ParsedRow(values={}, problems=problems)
    raw_phone, raw_email = _cell(cells, layout.phone), _cell(cells, layout.email)
    phone = normalize_phone(raw_phone) if raw_phone else None
    email = normalize_email(raw_email) if raw_email else None
    if raw_phone and phone is None:
        problems.append(
            RowProblem(
                number,
                layout.titles["phone"],
                mask_text(raw_phone),
                _phone_reason(raw_phone),
            )
        )
    if raw_email and email is None:
        problems.append(
            RowProblem(
                number,
                layout.titles["email"],
                mask_email(raw_email),
                "malformed e-mail; expected name@domain",
            )
        )
    if not raw_phone and not raw_email:
        column = layout.titles.get("phone") or layout.titles["email"]
        problems.append(RowProblem(number, column, "", "no mobile phone and no e-mail"))
    attributes = {title: _cell(cells, index) for title, index in layout.attributes.items()}
    for wanted in layout.required:
        if not attributes.get(wanted):
            problems.append(RowProblem(number, wanted, "", f"required attribute {wanted!r} empty"))
    phone_hash = lookup_hash(keys, "phone", phone) if phone else None
    email_hash = lookup_hash(keys, "email", email) if email else None
    shown: dict[bytes, tuple[str, str]] = {}
    if phone_hash:
        shown[phone_hash] = (layout.titles["phone"], mask_phone(phone or ""))
    if email_hash:
        shown[email_hash] = (layout.titles["email"], mask_email(email or ""))
    values = {
        "_row": number,
        "_shown": shown,
        "name": _cell(cells, layout.name) or None,
        "phone": phone,
        "email": email,
        "phone_hash": phone_hash,
        "email_hash": email_hash,
        "attributes": attributes,
    }
    return ParsedRow(values=values, problems=problems)


def error_report_csv(problems: Iterable[RowProblem]) -> str:
    """The downloadable error file: one line per problem (row, column, masked value, reason).

    Cells that a spreadsheet would run as a formula are neutralised (`minsheng.workbooks`).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ERROR_REPORT_HEADER)
    for p in problems:
        writer.writerow([csv_cell(v) for v in (p.row, p.column, p.value, p.reason)])
    return out.getvalue()
