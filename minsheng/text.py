"""Text hygiene: the characters no stored text may hold (NUL, lone UTF-16 surrogates), refused at
every door and replaced when reading, so one hostile answer can not break a page (issue 11)."""

from __future__ import annotations

import json
import re
from typing import Any

# NUL breaks PostgreSQL text; a lone surrogate can not be encoded as UTF-8, so every page, export
# and report that renders it fails.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def unsafe_character(text: str) -> str | None:
    """Why `text` can not be stored (its first NUL or lone surrogate and where), or None."""
    found = _UNSAFE.search(text)
    if found is None:
        return None
    code, where = ord(found.group()), found.start() + 1
    return f"contains U+{code:04X} at character {where}, which is not allowed in text"


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


def json_loads(text: str | bytes) -> Any:
    """`json.loads` for the database's JSON columns: a value written before the doors refused bad
    text (or straight into the database) is read with U+FFFD in place of NUL and lone surrogates.
    Only text holding a `\\u0000` or `\\ud...` escape is walked, so reading stays fast."""
    value = json.loads(text)
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if "\\u0000" in raw or "\\ud" in raw or "\\uD" in raw or _UNSAFE.search(raw):
        return sanitised(value)
    return value
