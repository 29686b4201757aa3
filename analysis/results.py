"""Result objects of the statistics: frozen dataclasses whose `to_dict()` gives plain,
JSON-serialisable values (no numpy scalars; NaN and infinities become None)."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """Convert numpy/pandas scalars, arrays, tuples and nested dataclasses to plain Python.

    Non-finite floats (NaN, ±inf) become None so that the output is valid JSON.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    # A value can be a numpy or pandas scalar only where that library is loaded; checking does
    # not load it, so the shell and the domain modules that return results stay light (issue 10).
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        return [plain(v) for v in value.tolist()]
    if numpy is not None and isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is pandas.NA or value is pandas.NaT):
        return None
    return str(value)


class Result:
    """Mixin for frozen result dataclasses: `to_dict()` returns plain values."""

    def to_dict(self) -> dict[str, Any]:
        out = plain(self)
        assert isinstance(out, dict)
        return out


def nan_to_none(value: float) -> float | None:
    """Return None for NaN/inf, else the value as a Python float."""
    number = float(value)
    return number if math.isfinite(number) else None
