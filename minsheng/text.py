"""Text hygiene: the characters no stored text may hold (NUL, lone UTF-16 surrogates), refused at
every door and replaced when reading, so one hostile answer can not break a page (issue 11)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# NUL breaks PostgreSQL text; a lone surrogate can not be encoded as UTF-8, so every page, export
# and report that renders it fails.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# The same characters as JSON escapes: `\u0000` and `\ud800`-`\udfff` (not `\ud000`-`\ud7ff`,
# which are Hangul). A paired surrogate escape (an emoji) also matches; the walk then keeps it.
_ESCAPES = r"\\u(?:0000|[dD][89a-fA-F])"
_ESCAPED_UNSAFE = re.compile(_ESCAPES)
_ESCAPED_UNSAFE_BYTES = re.compile(_ESCAPES.encode())
# A lone surrogate's bytes in (invalid) UTF-8, which `json.loads` decodes with "surrogatepass".
_RAW_SURROGATE_BYTES = re.compile(rb"\xed[\xa0-\xbf]")


def unsafe_character(text: str) -> str | None:
    """Why `text` can not be stored (its first NUL or lone surrogate and where), or None."""
    found = _UNSAFE.search(text)
    if found is None:
        return None
    code, where = ord(found.group()), found.start() + 1
    return f"contains U+{code:04X} at character {where}, which is not allowed in text"


# C0 control characters other than tab, line feed and carriage return: no XML document (so no
# XLSX cell) can hold them, so a questionnaire holding one could never be exported.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")


def unwritable_character(text: str) -> str | None:
    """`unsafe_character`, or why `text` can not go into a workbook or an XML file (its first
    control character), or None: what a definition (a questionnaire, a campaign) may not hold."""
    found = _CONTROL.search(text)
    if found is None:
        return unsafe_character(text)
    unsafe = unsafe_character(text[: found.start()])
    if unsafe:
        return unsafe
    code, where = ord(found.group()), found.start() + 1
    return f"contains the control character U+{code:04X} at character {where}"


# Every character no XML document can hold: `_CONTROL`, NUL and lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """`text` with every character `unwritable_character` refuses replaced by U+FFFD: for text
    that reached the database without that check (an answer may hold a control character, such
    as the vertical tab a word processor pastes) and must go into a workbook or an XML file."""
    return _NOT_XML.sub(REPLACEMENT, text)


def unwritable_text(value: Any) -> list[tuple[str, str]]:
    """(path, reason) of every string and key in a loaded file (YAML, a form's mapping) that
    `unwritable_character` refuses, in path order: `survey[2].label.zh`. Walked with a stack, so
    any depth is safe; a hostile key is named by its escapes, so the path itself is clean."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = unwritable_character(item)
            if problem:
                found.append((path, problem))
        elif isinstance(item, Mapping):
            for key, child in item.items():
                bad_key = unwritable_character(str(key))
                name = repr(str(key)) if bad_key else str(key)
                here = f"{path}.{name}" if path else name
                if bad_key:
                    found.append((here, f"the key {bad_key}"))
                stack.append((child, here))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return sorted(found)


def unsafe_in(value: Any) -> str | None:
    """`unsafe_character` of the first bad string in a JSON value (strings, lists, objects)."""
    if isinstance(value, str):
        return unsafe_character(value)
    if isinstance(value, list | tuple):
        return next((p for p in map(unsafe_in, value) if p), None)
    if isinstance(value, dict):
        return next((p for p in map(unsafe_in, [*value, *value.values()]) if p), None)
    return None


def sanitised(value: Any) -> Any:
    """`value` with every NUL and lone surrogate replaced by U+FFFD (strings, lists, objects)."""
    if isinstance(value, str):
        return _UNSAFE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [sanitised(v) for v in value]
    if isinstance(value, dict):
        return {sanitised(k): sanitised(v) for k, v in value.items()}
    return value


def json_loads(text: str | bytes | int | float) -> Any:
    """`json.loads` for the database's JSON columns: a value written before the doors refused bad
    text (or straight into the database) is read with U+FFFD in place of NUL and lone surrogates.

    Every JSON read passes here, so the check is one scan for the escapes the serializer writes
    for them, on the bytes psycopg hands over without decoding them; only a hit walks the value.
    A raw NUL is not valid JSON, and a raw lone surrogate can only be in non-ASCII text (the
    serializer writes ASCII), so that second scan is skipped for ASCII text. Arrays and objects
    nested deeper than `MAX_JSON_DEPTH` are read as null.

    SQLite gives its JSON columns numeric affinity: a bare number written there comes back as
    a number, not as JSON text, and is that number.
    """
    if isinstance(text, int | float):
        return text
    if too_deep(text):
        # Written straight into the database: read with the too-deep part as null, so the
        # value's later walks (pages, exports, reports) stay within the recursion limit.
        text = _cut_deep(text if isinstance(text, str) else text.decode(), MAX_JSON_DEPTH)
    value = json.loads(text)
    if isinstance(text, bytes):
        unsafe = bool(
            _ESCAPED_UNSAFE_BYTES.search(text)
            or (not text.isascii() and _RAW_SURROGATE_BYTES.search(text))
        )
    else:
        unsafe = bool(_ESCAPED_UNSAFE.search(text) or (not text.isascii() and _UNSAFE.search(text)))
    return sanitised(value) if unsafe else value


# Deeper than any value minsheng stores (a definition's groups nest a few levels); far below the
# interpreter's recursion limit, so no later walk of a value (validation, rendering, json.dumps)
# can raise RecursionError (issue 11: a 5,000-level nested body gave a 500).
MAX_JSON_DEPTH = 64
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JSONDepthError(ValueError):
    """A JSON text nests arrays and objects deeper than `MAX_JSON_DEPTH`."""


def too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` nests arrays and objects deeper than `limit`, without parsing it.

    One bracket count decides almost every text: with no more than `limit` opening brackets the
    depth can not exceed it. Only then are the brackets outside strings walked, without recursion.
    """
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return False
        text = text.decode("utf-8", "surrogatepass")
    elif text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for found in _JSON_TOKENS.finditer(text):
        token = found.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def bounded_json_loads(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, refusing a text nested deeper than `limit` with `JSONDepthError` (a
    `ValueError`, as for any malformed JSON) instead of a RecursionError."""
    if too_deep(text, limit):
        raise JSONDepthError(f"nested deeper than {limit} levels of arrays and objects")
    return json.loads(text)


def _cut_deep(text: str, limit: int) -> str:
    """`text` with every array or object deeper than `limit` replaced by `null`."""
    out: list[str] = []
    depth, kept, cut_from = 0, 0, -1
    for found in _JSON_TOKENS.finditer(text):
        token = found.group()
        if token in "[{":
            depth += 1
            if depth == limit + 1:
                out.append(text[kept : found.start()])
                cut_from = found.start()
        elif token in "]}":
            if depth == limit + 1 and cut_from >= 0:
                out.append("null")
                kept, cut_from = found.end(), -1
            depth -= 1
    out.append(text[kept:] if cut_from < 0 else "")
    return "".join(out)


# More values than any questionnaire or campaign holds: a YAML "billion laughs" (aliases of
# aliases) loads as shared references and would expand when walked, stored or rendered.
MAX_VALUE_NODES = 200_000


def shape_problem(
    value: Any, max_depth: int = MAX_JSON_DEPTH, max_nodes: int = MAX_VALUE_NODES
) -> str | None:
    """Why a loaded file (YAML, JSON) is too deep or too big to walk, or None. Shared
    references count every time they are reached, as any later walk would reach them."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return f"holds more than {max_nodes:,} values (aliases count each time they are used)"
        if isinstance(item, dict | list | tuple):
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None
