"""XLSForm files: read .xlsx, .xls, .csv and .md (pyxform's markdown tables) into the mapping that
`questionnaire.schema.parse_form` reads, and write a `Form` back out as an .xlsx workbook.

What minsheng cannot represent (repeats, location, media and device types, external choices,
media columns, unknown settings) is refused with the sheet, row and column named; nothing is
dropped silently. Sheets outside XLSForm's vocabulary (authors' notes, helper lists) are skipped
and listed in `ImportedForm.skipped_sheets`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minsheng.errors import InputError, Problem, TooLargeError, byte_size
from minsheng.text import unwritable_character
from minsheng.workbooks import XLSX_MAGIC, check_workbook, text_cell
from questionnaire.schema import (
    PLAIN_FIELDS,
    SETTINGS_FIELDS,
    TRANSLATABLE_FIELDS,
    Form,
    form_to_dict,
    parse_form,
)

SUFFIXES = (".xlsx", ".xls", ".csv", ".md")
# The largest questionnaires are a few hundred rows; these bound what one file can cost.
MAX_FILE_BYTES = 10 << 20
MAX_ROWS = 10_000
MAX_CELL_CHARS = 20_000
SURVEY_COLUMNS = frozenset({"type", "name", *PLAIN_FIELDS, *TRANSLATABLE_FIELDS})
COLUMN_ALIASES = {
    "list name": "list_name",
    "bind:constraint": "constraint",
    "bind:jr:constraintmsg": "constraint_message",
    "jr:constraintmsg": "constraint_message",
    "requiredmsg": "required_message",
    "jr:requiredmsg": "required_message",
    "bind:jr:requiredmsg": "required_message",
    "bind:required": "required",
    "bind:relevant": "relevant",
    "bind:readonly": "read_only",
    "readonly": "read_only",
    "bind:calculate": "calculation",
    "control:appearance": "appearance",
    "choice filter": "choice_filter",
    "title": "form_title",
    "id_string": "form_id",
}
MEDIA_COLUMNS = ("image", "audio", "video", "big-image", "media")
# Types minsheng refuses, with the reason given to the form designer.
UNSUPPORTED_TYPES = {
    **dict.fromkeys(
        ("geopoint", "geotrace", "geoshape", "gps", "start-geopoint", "osm"),
        "location types are not supported (web respondents are not asked for coordinates)",
    ),
    **dict.fromkeys(
        ("image", "photo", "audio", "video", "file", "background-audio", "background-video"),
        "media uploads are not supported",
    ),
    "barcode": "barcode scanning is not supported",
    **dict.fromkeys(
        ("time", "datetime"), "times are not supported; use `date` (and `text` for a time)"
    ),
    **dict.fromkeys(
        ("deviceid", "subscriberid", "simserial", "phonenumber", "imei", "username", "email"),
        "device metadata is not available to a web questionnaire",
    ),
    "audit": "device audit logs are not supported",
    **dict.fromkeys(
        ("hidden", "xml-external", "csv-external"), "external or hidden data is not supported"
    ),
    **dict.fromkeys(
        (
            "select_one_external",
            "select_one_from_file",
            "select_multiple_from_file",
            "select_multiple_external",
        ),
        "choices from external files are not supported; put the choices in the choices sheet",
    ),
    "cascading_select": "the old cascading_select type is not supported; use choice_filter",
}
TYPE_ALIASES = {"string": "text", "int": "integer", "trigger": "acknowledge"}
KNOWN_TYPES = frozenset(
    {"text", "integer", "decimal", "range", "date", "note", "calculate", "acknowledge"}
    | {"start", "end", "today", "select_one", "select_multiple", "rank"}
)
CHOICE_COLUMNS = frozenset({"list_name", "name", "label"})
_SETTINGS_BY_LOWER = {name.lower(): name for name in SETTINGS_FIELDS}
REFUSED_SHEETS = {
    "external_choices": "external choices are not supported",
    "cascades": "the old cascades sheet is not supported; use choice_filter",
    "entities": "entities are not supported",
    "osm": "OpenStreetMap tags are not supported",
    "columns": "the old loop `columns` sheet is not supported",
}


@dataclass(frozen=True)
class Sheet:
    """One sheet as read: its header and its non-empty rows with their row numbers (1-based, the
    header being row 1, as a spreadsheet shows them)."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[Any]]]


@dataclass(frozen=True)
class ImportedForm:
    """A form read from an XLSForm file, and the sheets skipped as not part of XLSForm."""

    form: Form
    skipped_sheets: tuple[str, ...] = ()


def read_xlsform(path: str | Path) -> ImportedForm:
    """Read and validate an XLSForm file; `InputError` names the sheet, row and column of every
    problem (questions' expression problems name the survey row and the question)."""
    path = Path(path)
    return _imported(path.name, read_sheets(path))


def read_tables(source: str, tables: Sequence[tuple[str, list[list[Any]]]]) -> ImportedForm:
    """The form of XLSForm sheets given as rows of cells (the questionnaire editor's tables):
    the same reading and the same sheet/row/column problems as a workbook's."""
    _check_tables(source, list(tables))
    return _imported(source, _sheets(tables))


def _imported(source: str, sheets: dict[str, Sheet]) -> ImportedForm:
    reader = _Reader(source, sheets)
    data = reader.mapping()
    try:
        form = parse_form(data, source=source, places=reader.places)
    except InputError as exc:
        raise InputError([*reader.problems, *exc.problems]) from None
    if reader.problems:
        raise InputError(reader.problems)
    return ImportedForm(form, tuple(reader.skipped))


def read_sheets(path: Path) -> dict[str, Sheet]:
    """The sheets of an XLSForm file by lower-cased name; unreadable files are `InputError`."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            [Problem(path.name, f"unknown file type {suffix!r}; expected {', '.join(SUFFIXES)}")]
        )
    _check_size(path)
    try:
        if suffix == ".xlsx":
            tables = _xlsx_tables(path)
        elif suffix == ".xls":
            tables = _xls_tables(path)
        else:
            text = path.read_text(encoding="utf-8-sig")
            tables = _csv_tables(text) if suffix == ".csv" else _md_tables(text)
    except InputError:
        raise
    except Exception as exc:  # openpyxl, xlrd and zipfile raise many types for a broken file
        raise InputError([Problem(path.name, f"cannot read the file: {exc}")]) from exc
    _check_tables(path.name, tables)
    return _sheets(tables)


def _sheets(tables: Sequence[tuple[str, list[list[Any]]]]) -> dict[str, Sheet]:
    sheets: dict[str, Sheet] = {}
    for name, table in tables:
        rows = [(i, row) for i, row in enumerate(table, start=1) if any(_text(c) for c in row)]
        if not rows:
            continue
        sheets[name.strip().lower()] = Sheet(name.strip(), [_text(h) for h in rows[0][1]], rows[1:])
    return sheets


def _xlsx_tables(path: Path) -> list[tuple[str, list[list[Any]]]]:
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        # Workbooks saved by other tools often lack a default style; that changes nothing here.
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    tables = []
    try:
        for sheet in book.worksheets:
            # Sheets formatted down to row 1048576 declare that size; without the declared
            # dimensions openpyxl yields only the rows the file really holds, in a blink.
            sheet.reset_dimensions()  # type: ignore[union-attr]
            tables.append((sheet.title, _filled_rows(sheet.iter_rows(values_only=True))))
    finally:
        book.close()
    return tables


def _check_size(path: Path) -> None:
    """Before reading a row: the file's size and, for XLSX, its unzipped size and no DTD."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError([Problem(path.name, f"cannot read the file: {exc}")]) from exc
    if size > MAX_FILE_BYTES:
        raise TooLargeError(
            [
                Problem(
                    path.name,
                    f"{byte_size(size)}; an XLSForm may hold at most {byte_size(MAX_FILE_BYTES)}",
                )
            ]
        )
    data = path.read_bytes() if path.suffix.lower() == ".xlsx" else b""
    if data.startswith(XLSX_MAGIC):  # not a zip at all: openpyxl says why below
        check_workbook(data, path.name)


def _is_blank(row: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


def _filled_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """The rows of a sheet up to one past `MAX_ROWS` rows that hold something, blank rows in
    between kept (row numbers in messages stay those people see) and blank rows at the end
    dropped: a sheet formatted far below its last question is not a large form."""
    kept: list[list[Any]] = []
    filled = 0
    for row in rows:
        values = list(row)
        kept.append(values)
        if not _is_blank(values):
            filled += 1
            if filled > MAX_ROWS:
                break
    while kept and _is_blank(kept[-1]):
        kept.pop()
    return kept


def _check_tables(name: str, tables: list[tuple[str, list[list[Any]]]]) -> None:
    problems = [
        Problem(f"{name}: sheet {title}", f"more than {MAX_ROWS:,} rows")
        for title, rows in tables
        if sum(not _is_blank(row) for row in rows) > MAX_ROWS
    ]
    problems += [
        Problem(
            f"{name}: sheet {title}, row {r}, column {c}",
            f"{len(cell):,} characters; a cell may hold at most {MAX_CELL_CHARS:,}",
        )
        for title, rows in tables
        for r, row in enumerate(rows, start=1)
        for c, cell in enumerate(row, start=1)
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS
    ]
    if problems:
        raise TooLargeError(problems[:20])


def _xls_tables(path: Path) -> list[tuple[str, list[list[Any]]]]:
    import xlrd

    book = xlrd.open_workbook(str(path))
    tables = []
    for sheet in book.sheets():

        def cells(sheet: Any = sheet) -> Iterator[list[Any]]:
            for r in range(sheet.nrows):
                row = []
                for c in range(sheet.ncols):
                    cell = sheet.cell(r, c)
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        row.append(bool(cell.value))
                    else:
                        row.append(cell.value)
                yield row

        tables.append((sheet.name, _filled_rows(cells())))
    return tables


def _marked_tables(rows: Iterable[list[str]]) -> list[tuple[str, list[list[Any]]]]:
    """pyxform's text layout: a row whose first cell is set starts a sheet of that name; the
    following rows, first cell empty, are its header and data."""
    tables: list[tuple[str, list[list[Any]]]] = []
    for row in rows:
        if not row:
            continue
        if row[0].strip():
            tables.append((row[0].strip(), []))
        elif tables:
            tables[-1][1].append(row[1:])
    return tables


def _csv_tables(text: str) -> list[tuple[str, list[list[Any]]]]:
    return _marked_tables(csv.reader(io.StringIO(text)))


def _md_tables(text: str) -> list[tuple[str, list[list[Any]]]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append(cells)
    return _marked_tables(rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def split_header(header: str) -> tuple[str, str | None]:
    """A column header as (field, language): `label::English (en)` -> ("label", "English (en)"),
    old-style `label:English` too; aliases such as `bind:constraint` are resolved."""
    raw = header.strip()
    if "::" in raw:
        base, lang = raw.split("::", 1)
        return COLUMN_ALIASES.get(base.strip().lower(), base.strip().lower()), lang.strip()
    lowered = raw.lower()
    if lowered in COLUMN_ALIASES:
        return COLUMN_ALIASES[lowered], None
    if ":" in raw:
        base, lang = raw.split(":", 1)
        if base.strip().lower() in TRANSLATABLE_FIELDS:
            return base.strip().lower(), lang.strip()
    return lowered, None


class _Reader:
    """Turns the sheets into parse_form's mapping, collecting sheet/row/column problems."""

    def __init__(self, source: str, sheets: dict[str, Sheet]) -> None:
        self.source = source
        self.sheets = sheets
        self.problems: list[Problem] = []
        self.places: dict[str, str] = {}
        self.skipped: list[str] = []
        self.default_language = "default"
        self._columns: dict[str, list[tuple[int, str, str | None, str]]] = {}
        self._headed: dict[str, set[int]] = {}

    def error(self, sheet: Sheet, row: int, column: str | None, message: str) -> None:
        where = f"{self.source}: sheet `{sheet.name}`, row {row}"
        if column:
            where += f", column `{column}`"
        self.problems.append(Problem(where, message))

    def mapping(self) -> dict[str, Any]:
        for key, sheet in self.sheets.items():
            if key in REFUSED_SHEETS:
                self.error(sheet, 1, None, REFUSED_SHEETS[key])
            elif key not in ("survey", "choices", "settings"):
                self.skipped.append(sheet.name)
        if "survey" not in self.sheets:
            found = ", ".join(s.name for s in self.sheets.values()) or "none"
            self.problems.append(Problem(self.source, f"no `survey` sheet; sheets found: {found}"))
            raise InputError(self.problems)
        settings = self.settings()
        self.default_language = str(settings.get("default_language") or self._first_language())
        settings.setdefault("default_language", self.default_language)
        if isinstance(settings.get("form_title"), dict):
            settings["form_title"] = self._with_default(settings["form_title"])
        return {"settings": settings, "choices": self.choices(), "survey": self.survey()}

    def _first_language(self) -> str:
        for key in ("survey", "choices"):
            sheet = self.sheets.get(key)
            headers = sheet.header if sheet else []
            for header in headers:
                field, lang = split_header(header)
                if field in TRANSLATABLE_FIELDS and lang:
                    plain = [h for h in headers if split_header(h) == (field, None)]
                    return "default" if plain else lang
        return "default"

    def _with_default(self, labels: dict[str | None, str]) -> dict[str, str]:
        out = {lang: text for lang, text in labels.items() if lang is not None}
        if None in labels:
            out.setdefault(self.default_language, labels[None])
        return out

    def columns(self, sheet: Sheet) -> list[tuple[int, str, str | None, str]]:
        """(index, field, language, header) of each named column; duplicates are refused.
        Choice columns that are not XLSForm's keep their case: choice filters name them."""
        seen: dict[tuple[str, str | None], str] = {}
        out = []
        for index, header in enumerate(sheet.header):
            if not header:
                continue
            field, lang = split_header(header)
            kind = sheet.name.lower()
            if kind == "settings":
                field = _SETTINGS_BY_LOWER.get(field, field)
            known = {"survey": SURVEY_COLUMNS, "choices": CHOICE_COLUMNS}.get(
                kind, frozenset(SETTINGS_FIELDS)
            )
            translatable = field in TRANSLATABLE_FIELDS or (
                kind == "settings" and field == "form_title"
            )
            if field not in known or (lang is not None and not translatable):
                # Unknown columns keep their header as written, for messages and filter names.
                field, lang = header.strip(), None
            if (field, lang) in seen:
                self.error(
                    sheet,
                    1,
                    header,
                    f"column `{header}` appears twice (also as `{seen[(field, lang)]}`); keep one",
                )
                continue
            seen[(field, lang)] = header
            out.append((index, field, lang, header))
        self._headed.setdefault(sheet.name, set()).update(
            i for i, h in enumerate(sheet.header) if h
        )
        return out

    def cells(self, sheet: Sheet, row: Sequence[Any], number: int) -> dict[str, Any]:
        """One row as {field: text or {language: text}}; values under no header are refused."""
        cells: dict[str, Any] = {}
        columns = self.columns_cache(sheet)
        named = self._headed.get(sheet.name, set())
        for index, value in enumerate(row):
            if index not in named and _text(value):
                self.error(
                    sheet, number, f"#{index + 1}", f"value {_text(value)!r} is under no header"
                )
        for index, field, lang, header in columns:
            value = _text(row[index]) if index < len(row) else ""
            if not value:
                continue
            hostile = unwritable_character(value)
            if hostile:
                # Reported here with its row and column, and left out of the mapping so that
                # parse_form does not report it a second time by its path.
                self.error(sheet, number, header, hostile)
                continue
            if field in TRANSLATABLE_FIELDS or (
                field == "form_title" and sheet.name.lower() == "settings"
            ):
                cells.setdefault(field, {})[lang] = value
            else:
                cells[field] = value
        return cells

    def columns_cache(self, sheet: Sheet) -> list[tuple[int, str, str | None, str]]:
        if sheet.name not in self._columns:
            self._columns[sheet.name] = self.columns(sheet)
        return self._columns[sheet.name]

    def settings(self) -> dict[str, Any]:
        sheet = self.sheets.get("settings")
        if sheet is None or not sheet.rows:
            return {}
        number, row = sheet.rows[0]
        if len(sheet.rows) > 1:
            self.error(sheet, sheet.rows[1][0], None, "settings take one row under the header")
        cells = self.cells(sheet, row, number)
        settings: dict[str, Any] = {}
        for field, value in cells.items():
            if field == "add_none_option" and str(value).lower() not in ("no", "false", "0"):
                self.error(sheet, number, field, "add_none_option is not supported")
            elif field not in SETTINGS_FIELDS:
                self.error(
                    sheet,
                    number,
                    field,
                    f"setting `{field}` is not supported; supported: "
                    f"{', '.join(sorted(SETTINGS_FIELDS))}",
                )
            else:
                settings[field] = value
        return settings

    def choices(self) -> dict[str, list[dict[str, Any]]]:
        sheet = self.sheets.get("choices")
        lists: dict[str, list[dict[str, Any]]] = {}
        if sheet is None:
            return lists
        for number, row in sheet.rows:
            cells = self.cells(sheet, row, number)
            for field in list(cells):
                if _is_media(field):
                    self.error(sheet, number, field, "media in choices is not supported")
                    del cells[field]
                elif field in ("hint", "constraint_message", "required_message"):
                    self.error(sheet, number, field, f"`{field}` does not apply to a choice")
                    del cells[field]
            list_name = cells.pop("list_name", "")
            if not list_name:
                self.error(sheet, number, "list_name", "a choice needs its list name")
                continue
            if "label" in cells:
                cells["label"] = self._with_default(cells["label"])
            lists.setdefault(list_name, []).append(cells)
        return lists

    def survey(self) -> list[dict[str, Any]]:
        sheet = self.sheets["survey"]
        root: list[dict[str, Any]] = []
        # Open groups and repeats: (kind, row number, children list).
        stack: list[tuple[str, int, list[dict[str, Any]]]] = [("survey", 0, root)]
        for number, row in sheet.rows:
            cells = self.cells(sheet, row, number)
            type_text = " ".join(str(cells.pop("type", "")).split())
            if not type_text:
                if cells:
                    self.error(sheet, number, "type", "the row has no type")
                continue
            words = type_text.replace("_", " ").lower().split()
            if words[0] in ("begin", "end") and len(words) > 1:
                self.structure(sheet, number, words, cells, stack)
                continue
            node = self.question(sheet, number, type_text, cells)
            if node is not None:
                stack[-1][2].append(node)
        for kind, opened, _children in stack[1:]:
            self.error(sheet, opened, "type", f"`begin {kind}` is never closed by `end {kind}`")
        return root

    def structure(
        self,
        sheet: Sheet,
        number: int,
        words: list[str],
        cells: dict[str, Any],
        stack: list[tuple[str, int, list[dict[str, Any]]]],
    ) -> None:
        kind = words[1]
        if words[0] == "begin":
            if kind in ("repeat", "loop"):
                self.error(
                    sheet,
                    number,
                    "type",
                    f"`begin {kind}` is not supported: a response is one flat record, so "
                    "repeated sections cannot be stored",
                )
                stack.append((kind, number, []))
                return
            if kind != "group":
                self.error(sheet, number, "type", f"unknown structure `begin {kind}`")
                return
            if str(cells.get("required", "")).lower() in ("false", "no", "false()", ""):
                cells.pop("required", None)
            group: dict[str, Any] = {"type": "group", **self._fields(sheet, number, cells)}
            if "name" in cells:
                self.places[str(cells["name"])] = f"survey row {number}"
            stack[-1][2].append(group)
            group["questions"] = []
            stack.append(("group", number, group["questions"]))
            return
        if str(cells.get("required", "")).lower() in ("false", "no", "false()", ""):
            cells.pop("required", None)
        for field in cells:
            if field != "name":
                # XLSForm tools ignore these cells; refusing keeps the text from vanishing.
                self.error(sheet, number, field, f"an `end {kind}` row takes no {field}")
        if len(stack) == 1 or stack[-1][0] != kind:
            opened = stack[-1][0] if len(stack) > 1 else "nothing"
            self.error(sheet, number, "type", f"`end {kind}` but the open section is {opened}")
            return
        stack.pop()

    def question(
        self, sheet: Sheet, number: int, type_text: str, cells: dict[str, Any]
    ) -> dict[str, Any] | None:
        type_text = _modern_select(type_text)
        written = type_text.split()[0]
        # Type names are case-insensitive (pyxform's case_insensitivity test); list names are not.
        base = TYPE_ALIASES.get(written.lower(), written.lower())
        if base in UNSUPPORTED_TYPES or base.startswith("uri:"):
            reason = UNSUPPORTED_TYPES.get(base, "device metadata is not available")
            self.error(sheet, number, "type", f"type `{written}`: {reason}")
            return None
        if base not in KNOWN_TYPES:
            self.error(
                sheet,
                number,
                "type",
                f"unknown type `{type_text}`; supported: {', '.join(sorted(KNOWN_TYPES))}",
            )
            return None
        if not cells.get("name"):
            self.error(sheet, number, "name", f"a {base} row needs a name")
            return None
        rest = type_text.split()[1:]
        node = {"type": " ".join([base, *rest]), **self._fields(sheet, number, cells)}
        if "name" in cells:
            self.places[str(cells["name"])] = f"survey row {number}"
        return node

    def _fields(self, sheet: Sheet, number: int, cells: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, value in cells.items():
            if _is_media(field):
                self.error(sheet, number, field, "media (images, audio, video) is not supported")
            elif field not in SURVEY_COLUMNS:
                self.error(
                    sheet,
                    number,
                    field,
                    f"column `{field}` is not supported; supported: "
                    f"{', '.join(sorted(SURVEY_COLUMNS))}",
                )
            elif field in TRANSLATABLE_FIELDS:
                out[field] = self._with_default(value)
            elif field == "parameters":
                out[field] = self._parameters(sheet, number, str(value))
            else:
                out[field] = value
        return out

    def _parameters(self, sheet: Sheet, number: int, text: str) -> dict[str, str]:
        params: dict[str, str] = {}
        for pair in re.split(r"[\s,;]+", re.sub(r"\s*=\s*", "=", text.strip())):
            if "=" not in pair:
                self.error(sheet, number, "parameters", f"expected key=value, got {pair!r}")
                continue
            key, value = pair.split("=", 1)
            params[key.strip().lower()] = value.strip()
        return params


def _is_media(field: str) -> bool:
    base = field.lower().split("::")[0].split(":")[0]
    return base in MEDIA_COLUMNS


def _modern_select(type_text: str) -> str:
    """pyxform's long forms: `select one from x` -> `select_one x`; `select all that apply from
    x or specify other` -> `select_multiple x or_other`."""
    text = re.sub(r"\s+or specify other$", " or_other", type_text, flags=re.IGNORECASE)
    text = re.sub(r"^select one from\s+", "select_one ", text, flags=re.IGNORECASE)
    text = re.sub(r"^select all that apply from\s+", "select_multiple ", text, flags=re.IGNORECASE)
    return text


def write_xlsform(form: Form, path: str | Path) -> None:
    """Write `form` as an .xlsx XLSForm (survey, choices and settings sheets, one `label::<lang>`
    column per language) that `read_xlsform` reads back into an equal form."""
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    for index, (name, rows) in enumerate(form_tables(form)):
        sheet = first if index == 0 else book.create_sheet(name)
        sheet.title = name
        _write(sheet, rows)
    book.save(path)


def form_tables(form: Form, languages: Sequence[str] = ()) -> list[tuple[str, list[list[Any]]]]:
    """The survey, choices and settings sheets of `form` as rows of cells, header first, with a
    column per language of the form and of `languages` (the editor's zh and en)."""
    data = form_to_dict(form)
    every = [*form.languages, *(lang for lang in languages if lang not in form.languages)]
    columns = ["type", "name"]
    columns += [f"{f}::{lang}" for f in TRANSLATABLE_FIELDS for lang in every]
    columns += PLAIN_FIELDS
    survey = [columns, *([_cell(r, c) for c in columns] for r in _survey_rows(data["survey"]))]
    filters = sorted(
        {k for items in data["choices"].values() for c in items for k in c} - {"name", "label"}
    )
    choice_columns = ["list_name", "name", *[f"label::{lang}" for lang in every], *filters]
    choices = [
        choice_columns,
        *(
            [_cell({"list_name": list_name, **item}, c) for c in choice_columns]
            for list_name, items in data["choices"].items()
            for item in items
        ),
    ]
    values = dict(data["settings"])
    title = values.pop("form_title")
    setting_columns = [f"form_title::{lang}" for lang in title]
    settings = [[*setting_columns, *values], [*title.values(), *values.values()]]
    return [("survey", survey), ("choices", choices), ("settings", settings)]


def _write(sheet: Any, rows: Iterable[Sequence[Any]]) -> None:
    """Every cell as text or number, never a formula: a label `=HYPERLINK(...)` stays a label."""
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            text_cell(sheet.cell(row=r, column=c), value)


def _survey_rows(nodes: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for node in nodes:
        if node["type"] == "group":
            yield {**{k: v for k, v in node.items() if k != "questions"}, "type": "begin_group"}
            yield from _survey_rows(node["questions"])
            yield {"type": "end_group"}
        else:
            yield node


def _cell(row: Mapping[str, Any], column: str) -> Any:
    field, _, lang = column.partition("::")
    value = row.get(field)
    if lang:
        return value.get(lang) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return "yes" if value else None
    if isinstance(value, Mapping):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return value
