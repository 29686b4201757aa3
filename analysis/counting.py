"""Count tables straight from Arrow: the counts every statistic of a summary rests on (answers
per category, ticks per option, distinct numbers and texts with their counts, two-way cells),
computed by Arrow's multithreaded kernels on the dictionary-encoded columns of a Parquet
snapshot, without building a row-level pandas frame.

Responses excluded by the data-quality flags are taken out by counting them separately and
subtracting: they are a few percent of the rows, so the full columns are never filtered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.errors import UnknownOptionError
from analysis.frames import answer_columns, choice_names
from analysis.quality import (
    FLAGS,
    MIN_BLOCK_ITEMS,
    MIN_DURATIONS,
    SPEED_FACTOR,
    FlagCount,
    QualityReport,
    rating_blocks,
)
from analysis.results import nan_to_none
from forms.schema import Form

BoolArray = npt.NDArray[np.bool_]
CodeArray = npt.NDArray[np.signedinteger[Any]]
ROW = "__row__"


def read_table(paths: str | Path | Sequence[str | Path], columns: list[str] | None = None) -> Any:
    """An Arrow table of one or more Parquet files of response frames (only ``columns`` when
    given), read by several threads, with the dictionaries of categorical columns unified so
    that every chunk of a column shares one dictionary."""
    sources = [paths] if isinstance(paths, str | Path) else list(paths)
    tables = []
    for source in sources:
        present = set(pq.read_schema(source).names)
        wanted = None if columns is None else [c for c in columns if c in present]
        tables.append(pq.read_table(source, columns=wanted, use_threads=True, memory_map=True))
    if not tables:
        return pa.table({})
    table = (
        tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    )
    return table.unify_dictionaries()


def _is_dictionary(column: Any) -> bool:
    return bool(pa.types.is_dictionary(column.type))


def row_codes(column: Any, names: Sequence[str]) -> CodeArray:
    """Codes of every row of a categorical (or string) Arrow column against ``names``: 0..k-1
    in the order of ``names``, -1 for a missing answer or one not among ``names``."""
    if not _is_dictionary(column):
        column = pc.dictionary_encode(column)
    position = {name: i for i, name in enumerate(names)}
    parts = []
    for chunk in column.chunks:
        values = chunk.dictionary.to_pylist()
        if values == list(names):
            # The dictionary is the form's list (as frames write it): the indices are the codes.
            parts.append(pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False))
            continue
        # The last entry of the lookup is where missing answers point.
        lookup = np.array([position.get(v, -1) for v in values] + [-1], dtype=np.int16)
        indices = pc.fill_null(chunk.indices, len(values)).to_numpy(zero_copy_only=False)
        parts.append(lookup[indices])
    if not parts:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(parts)


def _dictionary_counts(column: Any) -> list[tuple[Any, int]]:
    """(value, count) of a column; a dictionary column is counted on its indices with one
    ``numpy.bincount`` per chunk (about twice as fast as hashing them), missing as None."""
    if not _is_dictionary(column):
        return _value_counts(column)
    totals: Counter[Any] = Counter()
    for chunk in column.chunks:
        values = chunk.dictionary.to_pylist()
        indices = pc.fill_null(chunk.indices, len(values)).to_numpy(zero_copy_only=False)
        counts = np.bincount(indices, minlength=len(values) + 1)
        for value, count in zip([*values, None], counts.tolist(), strict=True):
            if count:
                totals[value] += count
    return list(totals.items())


def dictionary_names(column: Any) -> list[str]:
    """The categories of a dictionary-encoded column in dictionary order."""
    if column.num_chunks == 0:
        return []
    return [str(v) for v in column.chunk(0).dictionary.to_pylist()]


@dataclass(frozen=True)
class QualityFlags:
    """Per-row flags of the data-quality rules on an Arrow table, and the report."""

    keep: BoolArray
    report: QualityReport


def _duplicates(table: Any, form: Form) -> BoolArray:
    """`analysis.quality.duplicates` (with ``require_text``) on an Arrow table: among rows with
    a non-blank open text, all but the first of each set of rows with equal answers in every
    answer column are flagged.

    The candidate rows are taken chunk by chunk, each column becomes integer codes (dictionary
    indices, booleans, the bits of numbers), the codes are hashed into one 64-bit key per row
    and rows with equal keys are checked column by column, so a hash collision can never flag a
    row; should one occur, Arrow groups the rows on their values instead.
    """
    flags = np.zeros(table.num_rows, dtype=bool)
    texts = []
    for question in form.questions():
        if question.type == "text":
            texts.append(question.name)
        if question.or_other:
            texts.append(f"{question.name}_other")
    texts = [t for t in texts if t in table.column_names]
    columns = [c for c in answer_columns(form) if c in table.column_names]
    if not texts or not columns or table.num_rows == 0:
        return flags
    candidates = np.zeros(table.num_rows, dtype=bool)
    for name in texts:
        column = table[name]
        given = pc.is_valid(column)
        # Blank answers are looked for among the distinct texts, not in every row.
        distinct = pc.unique(
            column.cast(column.type.value_type) if _is_dictionary(column) else column
        )
        blank = [t for t in distinct.to_pylist() if t is not None and not str(t).strip()]
        if blank:
            given = pc.and_(given, pc.invert(pc.is_in(column, value_set=pa.array(blank))))
        candidates |= given.to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(candidates)
    if rows.size == 0:
        return flags
    # Filtering works chunk by chunk; a take on a chunked column would first concatenate it.
    subset = table.select(columns).filter(pa.array(candidates))
    codes = [_candidate_codes(subset[c]) for c in columns]
    key = np.zeros(rows.size, dtype=np.uint64)
    for code in codes:
        # FNV-style mixing; uint64 arithmetic wraps around.
        key = (key ^ code.view(np.uint64)) * np.uint64(0x100000001B3)
        key ^= key >> np.uint64(29)
    _, first_index, inverse = np.unique(key, return_index=True, return_inverse=True)
    first = first_index[inverse.ravel()]
    later = np.flatnonzero(first != np.arange(rows.size))
    equal = np.ones(later.size, dtype=bool)
    for code in codes:
        equal &= code[later] == code[first[later]]
    if not equal.all():
        return _grouped_duplicates(table, columns, rows)
    flags[rows[later]] = True
    return flags


def _candidate_codes(column: Any) -> npt.NDArray[np.int64]:
    """One int64 per row such that equal answers have equal codes: dictionary indices (shared
    dictionary), -1 for missing; booleans 0/1; numbers by their bits (with -0.0 as 0.0, as
    pandas hashes them); other types by a dictionary of their values."""
    if pa.types.is_dictionary(column.type):
        # The dictionaries are unified, so the indices of every chunk mean the same values.
        parts = [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in column.chunks]
        return np.concatenate([np.zeros(0, dtype=np.int64), *parts]).astype(np.int64)
    taken = column.combine_chunks()
    kind = taken.type
    if pa.types.is_boolean(kind):
        codes = pc.fill_null(taken.cast(pa.int64()), -1)
    elif pa.types.is_floating(kind) or pa.types.is_integer(kind):
        numbers = pc.fill_null(taken.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        return np.asarray(numbers + 0.0, dtype=np.float64).view(np.int64)
    else:
        codes = pc.fill_null(pc.dictionary_encode(taken).indices.cast(pa.int64()), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


def _grouped_duplicates(table: Any, columns: list[str], rows: npt.NDArray[np.intp]) -> BoolArray:
    flags = np.zeros(table.num_rows, dtype=bool)
    subset = table.select(columns).take(pa.array(rows))
    keys = {f"k{i}": subset.column(i) for i in range(len(columns))}
    grouped = (
        pa.table({**keys, ROW: pa.array(rows)})
        .group_by(list(keys), use_threads=True)
        .aggregate([(ROW, "min")])
    )
    flags[rows] = True
    flags[grouped[f"{ROW}_min"].to_numpy()] = False
    return flags


def _straight(block: Any, names: Sequence[str]) -> BoolArray:
    """Rows with the same answer in every column of ``block`` (and an answer in all of them).

    Row piece by row piece when the columns are chunked alike (as a Parquet read gives them),
    so the codes compared stay small enough for the processor's cache instead of being
    ten-million-row arrays allocated afresh for every item."""
    columns = [block.column(i) for i in range(block.num_columns)]
    lengths = [len(c) for c in columns[0].chunks]
    if any([len(c) for c in column.chunks] != lengths for column in columns[1:]):
        columns = [pa.chunked_array([c.combine_chunks()]) for c in columns]
    pieces = []
    for i in range(columns[0].num_chunks):
        first = row_codes(pa.chunked_array([columns[0].chunk(i)]), names)
        same = first >= 0
        for column in columns[1:]:
            same &= row_codes(pa.chunked_array([column.chunk(i)]), names) == first
        pieces.append(same)
    return np.concatenate([np.zeros(0, dtype=bool), *pieces])


def _median(column: Any, n: int) -> float:
    """``numpy.median`` of the ``n`` known values (not null, not NaN) of a float column, found
    by selection: a strided sample brackets the middle, the values below the bracket are
    counted and the few inside it sorted, so no copy of the column is sorted. Falls back to a
    full quantile when the bracket misses the middle ranks."""
    chunks = [c.to_numpy(zero_copy_only=False) for c in column.chunks]
    step = max(1, n // 20_000)
    sample = np.concatenate([np.zeros(0), *(c[::step] for c in chunks)])
    sample = sample[~np.isnan(sample)]
    low_rank, high_rank = (n - 1) // 2, n // 2
    if sample.size >= 100:
        low, high = np.quantile(sample, [0.48, 0.52])
        below = sum(int(np.count_nonzero(c < low)) for c in chunks)
        inside = np.sort(np.concatenate([c[(c >= low) & (c <= high)] for c in chunks]))
        if below <= low_rank and below + inside.size > high_rank:
            picked = inside[[low_rank - below, high_rank - below]]
            return float(np.mean(picked)) if n % 2 == 0 else float(picked[0])
    return float(np.median(np.concatenate(chunks)[~np.isnan(np.concatenate(chunks))]))


def _two_way(
    row: Any, column: Any, row_names: Sequence[str], column_names: Sequence[str]
) -> npt.NDArray[np.int64]:
    """Counts of rows by (row category, column category), chunk by chunk: the codes of both
    columns make one cell number per row, counted with one ``numpy.bincount`` per chunk."""
    if [len(c) for c in row.chunks] != [len(c) for c in column.chunks]:
        row, column = (pa.chunked_array([c.combine_chunks()]) for c in (row, column))
    width = len(column_names) + 1
    size = (len(row_names) + 1) * width
    total = np.zeros(size, dtype=np.int64)
    for r, c in zip(row.chunks, column.chunks, strict=True):
        # Missing codes (-1) shift to 0, so they land in row 0 or column 0, dropped below.
        rows = row_codes(pa.chunked_array([r]), row_names).astype(np.intp) + 1
        cols = row_codes(pa.chunked_array([c]), column_names).astype(np.intp) + 1
        total += np.bincount(rows * width + cols, minlength=size)
    result: npt.NDArray[np.int64] = total.reshape(len(row_names) + 1, width)[1:, 1:]
    return result


def _speeders(table: Any, factor: float) -> tuple[BoolArray, float | None]:
    """`analysis.quality.speeders` on an Arrow column of durations (exact median, `_median`)."""
    if not 0 < factor < 1:
        raise UnknownOptionError.for_choice("factor", factor, ["a number in (0, 1)"])
    if "duration" not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool), None
    column = table["duration"]
    if not pa.types.is_floating(column.type):
        column = column.cast(pa.float64())
    # NaN durations are unknown, as in numpy's median of the known durations.
    nan = pc.sum(pc.is_nan(column)).as_py() or 0
    if len(column) - column.null_count - nan < MIN_DURATIONS:
        return np.zeros(table.num_rows, dtype=bool), None
    threshold = factor * _median(column, len(column) - column.null_count - nan)
    fast = pc.fill_null(pc.less(column, threshold), False)
    return fast.to_numpy(zero_copy_only=False), threshold


def quality_flags(
    table: Any,
    form: Form,
    exclude: Sequence[str] = FLAGS,
    *,
    speed_factor: float = SPEED_FACTOR,
    min_block_items: int = MIN_BLOCK_ITEMS,
) -> QualityFlags:
    """`analysis.quality.quality_check` on an Arrow table (duplicates need open text): the same
    flags and report, from the duration column, the codes of the rating blocks and a grouping of
    the rows that carry open text."""
    unknown = [f for f in exclude if f not in FLAGS]
    if unknown:
        raise UnknownOptionError.for_choice("exclude", unknown[0], list(FLAGS))
    n = table.num_rows
    fast, threshold = _speeders(table, speed_factor)
    blocks = rating_blocks(form, min_block_items)
    straight = np.zeros(n, dtype=bool)
    for block in blocks:
        names = choice_names(form, form.question(block[0]))
        if all(item in table.column_names for item in block):
            straight |= _straight(table.select(list(block)), names)
    flags = {"speeder": fast, "straightliner": straight, "duplicate": _duplicates(table, form)}
    keep: BoolArray = np.ones(n, dtype=bool)
    for name in exclude:
        keep &= ~flags[name]
    rules = {
        "speeder": f"duration < {speed_factor:g} x median duration",
        "straightliner": f"same answer to every item of a rating block of >= {min_block_items}",
        "duplicate": "same answers as an earlier response (with open text)",
    }
    report = QualityReport(
        n_received=n,
        n_excluded=int((~keep).sum()),
        flags=tuple(
            FlagCount(name, int(flags[name].sum()), name in exclude, rules[name]) for name in FLAGS
        ),
        median_duration=None if threshold is None else nan_to_none(threshold / speed_factor),
        speed_threshold=threshold,
        rating_blocks=tuple(blocks),
    )
    return QualityFlags(keep, report)


class CountingTable:
    """The kept rows of an Arrow table, counted: every count is taken over the whole table
    minus the same count over the excluded rows (``keep`` False), which are few."""

    def __init__(
        self,
        table: Any,
        keep: BoolArray | None = None,
        whole: Mapping[str, Any] | None = None,
    ) -> None:
        """``whole`` may give the `column_counts` of some columns over every row, computed
        beforehand (e.g. in a thread while the quality flags were computed)."""
        self.table = table
        self.whole = dict(whole or {})
        if keep is None:
            self.dropped = table.slice(0, 0)
        else:
            # A filter works chunk by chunk; a take would first concatenate every column.
            self.dropped = table.filter(pa.array(~keep))
        self.n_rows = table.num_rows - self.dropped.num_rows

    def has(self, name: str) -> bool:
        return name in self.table.column_names

    def _both(self, name: str) -> tuple[Any, Any]:
        return self.table[name], self.dropped[name]

    def category_counts(self, name: str, names: Sequence[str]) -> tuple[npt.NDArray[Any], int]:
        """Answers per category of ``names`` (in that order) and the number missing (no answer
        or one not among ``names``) among the kept rows."""
        counts = np.zeros(len(names), dtype=np.int64)
        if self.has(name):
            position = {n: i for i, n in enumerate(names)}
            full = (
                _pair_list(self.whole[name])
                if name in self.whole
                else _dictionary_counts(self.table[name])
            )
            dropped = _dictionary_counts(self.dropped[name])
            for pairs, sign in ((full, 1), (dropped, -1)):
                for value, count in pairs:
                    if value is not None and value in position:
                        counts[position[value]] += sign * count
        return counts, self.n_rows - int(counts.sum())

    def option_counts(self, columns: Sequence[str]) -> tuple[npt.NDArray[Any], int]:
        """Respondents who ticked each option column, and how many answered (any option
        column not missing) among the kept rows."""
        counts = np.zeros(len(columns), dtype=np.int64)
        answered = 0
        for table, sign in ((self.table, 1), (self.dropped, -1)):
            present = [c for c in columns if c in table.column_names]
            if not present or table.num_rows == 0:
                continue
            valid = pc.is_valid(table[present[0]])
            for column in present[1:]:
                valid = pc.or_(valid, pc.is_valid(table[column]))
            answered += sign * _true_count(valid)
            for i, column in enumerate(columns):
                if column in table.column_names:
                    counts[i] += sign * _true_count(table[column])
        return counts, answered

    def number_counts(self, name: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
        """Distinct numbers of a numeric column with their counts among the kept rows
        (missing values and NaN left out)."""
        if not self.has(name):
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        values, counts = [], []
        full = self.whole[name] if name in self.whole else _pairs(self.table[name])
        for pairs, sign in ((full, 1), (_pairs(self.dropped[name]), -1)):
            if not pa.types.is_floating(pairs.type.field(0).type):
                pairs = pa.StructArray.from_arrays(
                    [pairs.field("values").cast(pa.float64()), pairs.field("counts")],
                    ["values", "counts"],
                )
            v = pairs.field("values").to_numpy(zero_copy_only=False)
            c = pairs.field("counts").to_numpy(zero_copy_only=False)
            ok = ~np.isnan(v)
            values.append(v[ok])
            counts.append(sign * c[ok])
        distinct, inverse = np.unique(np.concatenate(values), return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate(counts), minlength=distinct.size)
        keep = total > 0
        return distinct[keep], np.rint(total[keep]).astype(np.int64)

    def text_counts(self, name: str) -> Counter[str]:
        """Distinct texts of a column with their counts among the kept rows."""
        counted: Counter[str] = Counter()
        if self.has(name):
            full = (
                _pair_list(self.whole[name])
                if name in self.whole
                else _value_counts(self.table[name])
            )
            for pairs, sign in ((full, 1), (_value_counts(self.dropped[name]), -1)):
                for value, count in pairs:
                    if value is not None:
                        counted[str(value)] += sign * count
        return +counted

    def answered(self, name: str) -> int:
        """Kept rows where column ``name`` is not missing."""
        if not self.has(name):
            return 0
        full, dropped = self._both(name)
        return int((len(full) - full.null_count) - (len(dropped) - dropped.null_count))

    def cross_counts(
        self, row: str, column: str, row_names: Sequence[str], column_names: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], int]:
        """Two-way table of kept rows by the categories of ``row`` and ``column`` and the number
        of kept rows missing either (or outside the categories)."""
        table = np.zeros((len(row_names), len(column_names)), dtype=np.int64)
        for source, sign in ((self.table, 1), (self.dropped, -1)):
            if source.num_rows == 0 or row not in source.column_names:
                continue
            if column not in source.column_names:
                continue
            table += sign * _two_way(source[row], source[column], row_names, column_names)
        return table, self.n_rows - int(table.sum())

    def cells(
        self, variables: Sequence[str], categories: Sequence[Sequence[str]]
    ) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
        """The observed cells of ``variables`` among the kept rows: a frame with one
        categorical column per variable (categories as given) and one row per combination that
        occurs, with its count; rows missing a variable are left out. This is what
        `analysis.weighting.raked_cell_weights` rakes."""
        shape = tuple(len(c) for c in categories)
        table = np.zeros(shape, dtype=np.int64)
        lookups = [{n: i for i, n in enumerate(c)} for c in categories]
        keys = [f"k{i}" for i in range(len(variables))]
        for source, sign in ((self.table, 1), (self.dropped, -1)):
            if source.num_rows == 0:
                continue
            grouped = (
                pa.table({k: source[v] for k, v in zip(keys, variables, strict=True)})
                .group_by(keys, use_threads=True)
                .aggregate([([], "count_all")])
            )
            values = [grouped[k].to_pylist() for k in keys]
            for *cell, count in zip(*values, grouped["count_all"].to_pylist(), strict=True):
                at = [lookup.get(v, -1) for lookup, v in zip(lookups, cell, strict=True)]
                if min(at, default=0) >= 0:
                    table[tuple(at)] += sign * count
        present = np.argwhere(table > 0)
        frame = pd.DataFrame(
            {
                v: pd.Categorical.from_codes(
                    present[:, i], categories=pd.Index(list(categories[i]))
                )
                for i, v in enumerate(variables)
            }
        )
        return frame, table[tuple(present.T)]


def _pairs(column: Any) -> Any:
    """``pyarrow.compute.value_counts``: a struct array of values (missing as null) and counts."""
    return pc.value_counts(column)


def _pair_list(pairs: Any) -> list[tuple[Any, int]]:
    return list(
        zip(pairs.field("values").to_pylist(), pairs.field("counts").to_pylist(), strict=True)
    )


def column_counts(column: Any) -> Any:
    """Arrow's ``value_counts`` of a column: a struct array of every value (missing as null)
    and its count. Arrow releases the GIL meanwhile, so it can run in a thread beside other
    work; `CountingTable` accepts the result as ``whole``."""
    return _pairs(column)


def _value_counts(column: Any) -> list[tuple[Any, int]]:
    if len(column) == 0:
        return []
    return _pair_list(_pairs(column))


def _true_count(column: Any) -> int:
    if not pa.types.is_boolean(column.type):
        column = pc.not_equal(column.cast(pa.float64()), 0.0)
    total = pc.sum(column).as_py()
    return int(total or 0)
