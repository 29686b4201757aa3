"""SPSS `.sav` and Stata `.dta` exports through pyreadstat (ReadStat): numeric codes with value
labels for every choice, variable labels, local times as date-times.

Names follow the stricter of the two programs: letters, digits and `_`, starting with a letter,
at most 32 characters (Stata), unique; `problems/parking` becomes `problems_parking`. The export's
own name is kept in the variable label's codebook (`exporters.codebook`), never lost.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from exporters.exports import Export, Progress, is_text
from exporters.variables import Variable

STATA_NAME_LENGTH = 32
STATA_LABEL_LENGTH = 80
# Stata's str# holds at most 2045 bytes; pyreadstat writes longer text as strL.
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def program_names(columns: Sequence[Variable]) -> dict[str, str]:
    """Export name -> a name SPSS and Stata both accept, unique, in column order."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for v in columns:
        base = _NOT_NAME.sub("_", v.name)
        if not base or not base[0].isalpha():
            base = f"v_{base}"
        base = base[:STATA_NAME_LENGTH]
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            suffix = f"_{n}"
            name = base[: STATA_NAME_LENGTH - len(suffix)] + suffix
        taken.add(name.lower())
        names[v.name] = name
    return names


def numeric_codes(variable: Variable) -> dict[str, float]:
    """Choice name -> the number stored: the name itself when every name is a number (a 1-5
    scale stays 1-5), else the choice's position from 1."""
    names = [code for code, _ in variable.values]
    try:
        return {code: float(code) for code in names}
    except ValueError:
        return {code: float(i) for i, code in enumerate(names, start=1)}


def value_labels(columns: Sequence[Variable], names: dict[str, str]) -> dict[str, dict[Any, str]]:
    """pyreadstat's `variable_value_labels`: numeric code -> label, per program name."""
    out: dict[str, dict[Any, str]] = {}
    for v in columns:
        if not v.values:
            continue
        if v.kind == "choice":
            codes = numeric_codes(v)
            out[names[v.name]] = {_number(codes[c]): label for c, label in v.values}
        else:
            out[names[v.name]] = {int(c): label for c, label in v.values}
    return out


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def statistical_frame(export: Export, frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One chunk as the statistical programs store it: choices as numeric codes, 0/1 as
    numbers, local time without its zone (both programs have no zones), text as str."""
    out: dict[str, Any] = {}
    for v in export.columns:
        column = frame[v.name]
        if v.kind == "choice":
            codes = numeric_codes(v)
            out[names[v.name]] = column.map(codes).astype(np.float64)
        elif v.kind == "time":
            out[names[v.name]] = column.dt.tz_localize(None)
        elif is_text(column):
            out[names[v.name]] = column.astype(object)
        else:
            out[names[v.name]] = column.astype(np.float64)
    return pd.DataFrame(out, index=frame.index)


def _whole(export: Export, names: dict[str, str], progress: Progress | None) -> pd.DataFrame:
    # pyreadstat writes a whole frame: the chunks are converted one by one (numbers as float64,
    # text as objects) and joined once.
    parts = []
    done = 0
    for frame in export.frames():
        parts.append(statistical_frame(export, frame, names))
        done += len(frame)
        if progress is not None and export.rows:
            progress(0.9 * done / export.rows)
    return pd.concat(parts, ignore_index=True)


def write_sav(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """SPSS system file with variable labels and value labels, written by pyreadstat."""
    import pyreadstat

    names = program_names(export.columns)
    frame = _whole(export, names, progress)
    labels: list[str | None] = [v.label for v in export.columns]
    _through_file(
        lambda path: pyreadstat.write_sav(
            _text_as_str(frame),
            path,
            column_labels=labels,
            variable_value_labels=value_labels(export.columns, names),
        ),
        target,
    )


def write_dta(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """Stata 15 (format 119 for more than 32,767 columns, else 118: UTF-8) file with variable
    labels (cut to Stata's 80 characters) and value labels, written by pyreadstat."""
    import pyreadstat

    names = program_names(export.columns)
    frame = _whole(export, names, progress)
    labels: list[str | None] = [v.label[:STATA_LABEL_LENGTH] for v in export.columns]
    _through_file(
        lambda path: pyreadstat.write_dta(
            _text_as_str(frame),
            path,
            column_labels=labels,
            version=15,
            variable_value_labels=value_labels(export.columns, names),
        ),
        target,
    )


def _text_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    # ReadStat stores missing text as the empty string (neither program has missing text).
    for name, column in frame.items():
        if column.dtype == object:
            frame[name] = column.where(column.notna(), "").astype(str)
    return frame


def _through_file(write: Any, target: IO[bytes]) -> None:
    """pyreadstat writes to a path only: write to a temporary file, then copy it over."""
    with tempfile.TemporaryDirectory(prefix="minsheng-export-") as folder:
        path = Path(folder) / "export"
        write(str(path))
        with path.open("rb") as written:
            while chunk := written.read(1 << 20):
                target.write(chunk)
