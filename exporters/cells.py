"""Cells a spreadsheet would run as a formula, made inert before any CSV or XLSX writer sees
them (OWASP CSV injection)."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading `'` when it is text starting like a formula; other values
    (numbers, None) are returned unchanged, so negative numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
