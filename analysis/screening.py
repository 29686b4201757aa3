"""The data-quality rules of `analysis.quality` on Arrow record batches, one batch at a time.

Speeders compare each response's duration with a threshold taken from the median duration,
which is found first from the duration column alone (`speed_threshold`), or with the
questionnaire's minimum time, whichever is larger. Straight-lining and the honeypot look at one
response at a time. Duplicates and near-duplicates can only be responses with open text (see
`analysis.quality.duplicates`): those rows are set aside as the batches pass and compared at the
end (`duplicate_rows`, on keys hashed batch by batch; `near_duplicate_flags`), so the rules need
one pass over the responses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.arrow import (
    Categories,
    as_dictionary,
    codes_against,
    dictionary_indices,
    float_values,
    validity,
)
from analysis.errors import UnknownOptionError
from analysis.frames import answer_columns, choice_names
from analysis.quality import (
    FLAGS,
    MIN_BLOCK_ITEMS,
    MIN_DURATIONS,
    NEAR_DUPLICATE_WINDOW,
    SPEED_FACTOR,
    QualityReport,
    minimum_duration,
    near_duplicate_flags,
    quality_report,
    rating_blocks,
    text_columns,
)
from questionnaire.schema import Form

BoolArray = npt.NDArray[np.bool_]
ROW = "__row__"


def speed_threshold(durations: Any | None, factor: float = SPEED_FACTOR) -> float | None:
    """``factor`` x the median of the known durations (not null, not NaN) of an Arrow column,
    or None when fewer than `MIN_DURATIONS` are known (nobody is then a speeder)."""
    if not 0 < factor < 1:
        raise UnknownOptionError.for_choice("factor", factor, ["a number in (0, 1)"])
    if durations is None:
        return None
    if not pa.types.is_floating(durations.type):
        durations = durations.cast(pa.float64())
    nan = pc.sum(pc.is_nan(durations)).as_py() or 0
    known = len(durations) - durations.null_count - nan
    if known < MIN_DURATIONS:
        return None
    return factor * _median(durations, known)


def _median(column: Any, n: int) -> float:
    """``numpy.median`` of the ``n`` known values (not null, not NaN) of a float column, found
    by selection: a strided sample brackets the middle, the values below the bracket are
    counted and the few inside it sorted, so no copy of the column is sorted. Falls back to a
    full sort when the bracket misses the middle ranks."""
    chunks = [float_values(c) for c in column.chunks]
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
    values = np.concatenate(chunks)
    return float(np.median(values[~np.isnan(values)]))


#: The FNV-1 64-bit prime: mixes the codes of a row's answers into one key.
FNV_PRIME = np.uint64(0x100000001B3)


def mix(key: npt.NDArray[np.uint64], code: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """``key`` with one more column's codes mixed in (uint64 arithmetic wraps around)."""
    key = (key ^ code.view(np.uint64)) * FNV_PRIME
    mixed: npt.NDArray[np.uint64] = key ^ (key >> np.uint64(29))
    return mixed


def first_of_equal_keys(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """For each row, the first row (in row order) with the same key. Keys are numbered in order
    of first appearance by a hash table (no sort): a row is the first of its key where the
    running maximum of the numbers goes up."""
    numbers, _ = pd.factorize(keys)
    rising = np.ones(keys.size, dtype=bool)
    rising[1:] = numbers[1:] > np.maximum.accumulate(numbers)[:-1]
    first: npt.NDArray[np.intp] = np.flatnonzero(rising)[numbers]
    return first


def duplicate_rows(
    table: Any, columns: Sequence[str], keys: npt.NDArray[np.uint64] | None = None
) -> BoolArray:
    """All but the first (in row order) of each set of rows of ``table`` with equal values in
    every one of ``columns``.

    Rows are compared by a 64-bit key that hashes their codes (``keys``, when the caller has
    already computed them, e.g. batch by batch); rows with equal keys are then compared column
    by column, so a hash collision can never flag a row; should one occur, Arrow groups the
    rows on their values instead.
    """
    n = table.num_rows
    columns = [c for c in columns if c in table.column_names]
    if n == 0 or not columns:
        return np.zeros(n, dtype=bool)
    if keys is None:
        keys = np.zeros(n, dtype=np.uint64)
        for name in columns:
            keys = mix(keys, _row_codes(table[name]))
    first = first_of_equal_keys(keys)
    later = np.flatnonzero(first != np.arange(n))
    flags = np.zeros(n, dtype=bool)
    if later.size == 0:
        return flags
    # Only the rows involved are compared, on codes taken from them together.
    involved = np.union1d(later, first[later])
    subset = table.select(columns).take(pa.array(involved)).unify_dictionaries()
    at_later = np.searchsorted(involved, later)
    at_first = np.searchsorted(involved, first[later])
    for name in columns:
        code = _row_codes(subset[name])
        if not np.array_equal(code[at_later], code[at_first]):
            return _grouped_duplicates(table.select(columns).unify_dictionaries())
    flags[later] = True
    return flags


def _row_codes(column: Any) -> npt.NDArray[np.int64]:
    """One int64 per row such that equal values have equal codes: dictionary indices (unified
    dictionaries), -1 for missing; booleans 0/1; numbers by their bits (with -0.0 as 0.0, as
    pandas hashes them); other types by a dictionary of their values."""
    if pa.types.is_dictionary(column.type):
        parts = []
        for chunk in column.chunks:
            raw, valid = dictionary_indices(chunk)
            parts.append(raw.astype(np.int64) if valid is None else np.where(valid, raw, -1))
        return np.concatenate([np.zeros(0, dtype=np.int64), *parts]).astype(np.int64)
    taken = column.combine_chunks()
    kind = taken.type
    if pa.types.is_boolean(kind):
        marks = np.asarray(pc.fill_null(taken, False).to_numpy(zero_copy_only=False))
        valid = validity(taken)
        values = marks.astype(np.int64) if valid is None else np.where(valid, marks, -1)
        return np.asarray(values, dtype=np.int64)
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return np.asarray(float_values(taken) + 0.0, dtype=np.float64).view(np.int64)
    codes = pc.fill_null(pc.dictionary_encode(taken).indices.cast(pa.int64()), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


def _grouped_duplicates(table: Any) -> BoolArray:
    rows = np.arange(table.num_rows)
    keys = {f"k{i}": table.column(i) for i in range(table.num_columns)}
    grouped = (
        pa.table({**keys, ROW: pa.array(rows)})
        .group_by(list(keys), use_threads=True)
        .aggregate([(ROW, "min")])
    )
    flags = np.ones(table.num_rows, dtype=bool)
    flags[grouped[f"{ROW}_min"].to_numpy()] = False
    return flags


def _hash_codes(table: Any, name: str) -> npt.NDArray[np.int64]:
    """A column of `analysis.frames.hash_code` values (non-negative), -1 for missing or absent."""
    if name not in table.column_names:
        return np.full(table.num_rows, -1, dtype=np.int64)
    column = pc.fill_null(table[name].cast(pa.int64()), -1)
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _near_duplicates(table: Any, window: float) -> BoolArray:
    """`near_duplicate_flags` of the rows of ``table`` (rows with open text)."""
    if "submitted_at" not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    moments = table["submitted_at"].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    times = np.asarray(pc.fill_null(moments, 0).to_numpy(), dtype=np.int64)
    return near_duplicate_flags(
        _hash_codes(table, "address"), _hash_codes(table, "fingerprint"), times, window
    )


def _marked(batch: Any, name: str) -> BoolArray:
    if name not in batch.schema.names:
        return np.zeros(batch.num_rows, dtype=bool)
    column = pc.fill_null(batch.column(name), False)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True)
class Screened:
    """What a `Screen` found once every batch passed: the report, and the rows flagged as
    duplicates (``duplicates``: their row numbers; ``near_duplicates`` likewise;
    ``to_subtract``: the rows of either, with every column, that are excluded and that no
    other excluded flag had already left out of the counts)."""

    report: QualityReport
    duplicates: npt.NDArray[np.intp]
    to_subtract: Any | None
    near_duplicates: npt.NDArray[np.intp] = field(
        default_factory=lambda: np.zeros(0, dtype=np.intp)
    )


class Screen:
    """The data-quality rules applied to record batches in row order; `screen` tells which rows
    of a batch to leave out of the counts, `finish` gives the report and the duplicates."""

    def __init__(
        self,
        form: Form,
        exclude: Sequence[str] = FLAGS,
        threshold: float | None = None,
        *,
        speed_factor: float = SPEED_FACTOR,
        min_block_items: int = MIN_BLOCK_ITEMS,
        keep_flags: bool = False,
        window: float = NEAR_DUPLICATE_WINDOW,
    ) -> None:
        """``threshold`` is the speed threshold in seconds (`speed_threshold` of every
        duration), raised to the questionnaire's `minimum_duration`; ``keep_flags`` keeps each
        row's flags for `flags` (row-level callers); ``window`` is the near-duplicates' one."""
        unknown = [f for f in exclude if f not in FLAGS]
        if unknown:
            raise UnknownOptionError.for_choice("exclude", unknown[0], list(FLAGS))
        self.exclude = tuple(exclude)
        self.threshold = threshold
        self.minimum = minimum_duration(form)
        self.window = window
        self.speed_factor = speed_factor
        self.min_block_items = min_block_items
        self.blocks = rating_blocks(form, min_block_items)
        self._block_names = [choice_names(form, form.question(b[0])) for b in self.blocks]
        self._texts = text_columns(form)
        self._answers = answer_columns(form)
        self._caches: dict[str, dict[str, Any]] = {}
        self._counts: Counter[str] = Counter()
        self._held: list[tuple[Any, npt.NDArray[np.intp], BoolArray]] = []
        self._keys: list[npt.NDArray[np.uint64]] = []
        self._key_categories: dict[str, Categories] = {}
        self._flags: list[tuple[BoolArray, BoolArray, BoolArray]] | None = (
            [] if keep_flags else None
        )
        self.rows = 0

    def _speeders(self, batch: Any) -> BoolArray:
        n = batch.num_rows
        limit = max(self.threshold or 0.0, self.minimum)
        if limit <= 0 or "duration" not in batch.schema.names:
            return np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            return float_values(batch.column("duration")) < limit

    def _straight(self, batch: Any) -> BoolArray:
        """Rows that gave one answer to every item of a rating block (and answered them all)."""
        flags = np.zeros(batch.num_rows, dtype=bool)
        names = batch.schema.names
        for block, choices in zip(self.blocks, self._block_names, strict=True):
            if not all(item in names for item in block):
                continue
            first, usable = self._codes(batch, block[0], choices)
            same = np.ones(batch.num_rows, dtype=bool) if usable is None else usable.copy()
            for item in block[1:]:
                codes, ok = self._codes(batch, item, choices)
                same &= codes == first
                if ok is not None:
                    same &= ok
            flags |= same
        return flags

    def _codes(self, batch: Any, name: str, choices: Sequence[str]) -> Any:
        return codes_against(batch.column(name), choices, self._caches.setdefault(name, {}))

    def _with_text(self, batch: Any) -> BoolArray | None:
        """Rows with a non-blank open-text answer (the only possible duplicates)."""
        found = None
        for name in self._texts:
            if name not in batch.schema.names:
                continue
            column = batch.column(name)
            if column.null_count == len(column):
                continue
            valid = validity(column)
            given = np.ones(len(column), dtype=bool) if valid is None else valid.copy()
            values = column.dictionary if pa.types.is_dictionary(column.type) else pc.unique(column)
            blank = [t for t in values.to_pylist() if t is not None and not str(t).strip()]
            if blank:
                value_type = values.type
                marked = pc.is_in(column, value_set=pa.array(blank, type=value_type))
                given &= ~np.asarray(pc.fill_null(marked, False).to_numpy(zero_copy_only=False))
            found = given if found is None else found | given
        return found

    def _answer_keys(self, rows: Any) -> npt.NDArray[np.uint64]:
        """The duplicate key of each of ``rows`` (rows with open text of one batch), hashed
        here, while the next batch is being decoded, from codes that mean the same answer in
        every batch: categories and texts numbered in the order first met, booleans 0/1,
        numbers by their bits; -1 for missing."""
        key = np.zeros(rows.num_rows, dtype=np.uint64)
        names = rows.schema.names
        for name in self._answers:
            if name not in names:
                code = np.full(rows.num_rows, -1, dtype=np.int64)
            else:
                code = self._answer_codes(name, rows.column(name))
            key = mix(key, code)
        return key

    def _answer_codes(self, name: str, array: Any) -> npt.NDArray[np.int64]:
        kind = array.type
        if pa.types.is_boolean(kind) or pa.types.is_floating(kind) or pa.types.is_integer(kind):
            return _row_codes(pa.chunked_array([array]))
        array = as_dictionary(array)
        lookup = self._key_categories.setdefault(name, Categories()).lookup(array.dictionary)
        raw, valid = dictionary_indices(array)
        safe = raw if valid is None else np.where(valid, raw, len(lookup))
        return np.append(lookup, -1).astype(np.int64)[safe]

    def screen(self, batch: Any) -> BoolArray | None:
        """The rows of ``batch`` (the next in row order) to leave out of the counts for
        speeding or straight-lining, or None when there are none; rows with open text are set
        aside to be checked for duplicates in `finish`."""
        n = batch.num_rows
        fast, straight = self._speeders(batch), self._straight(batch)
        bots = _marked(batch, "honeypot")
        if self._flags is not None:
            self._flags.append((fast, straight, bots))
        self._counts["speeder"] += int(fast.sum())
        self._counts["straightliner"] += int(straight.sum())
        self._counts["honeypot"] += int(bots.sum())
        drop = np.zeros(n, dtype=bool)
        for name, flagged in (("speeder", fast), ("straightliner", straight), ("honeypot", bots)):
            if name in self.exclude:
                drop |= flagged
        with_text = self._with_text(batch)
        if with_text is not None and with_text.any():
            rows = np.flatnonzero(with_text)
            taken = batch.take(pa.array(rows))
            self._held.append((taken, self.rows + rows, drop[rows]))
            self._keys.append(self._answer_keys(taken))
        self.rows += n
        dropped = int(drop.sum())
        self._counts["excluded"] += dropped
        return drop if dropped else None

    def finish(self) -> Screened:
        """The report once every batch has been screened, and the duplicates."""
        duplicates = near = np.zeros(0, dtype=np.intp)
        to_subtract = None
        if self._held:
            held = pa.concat_tables(
                [pa.Table.from_batches([b]) for b, _, _ in self._held],
                promote_options="permissive",
            )
            rows = np.concatenate([r for _, r, _ in self._held])
            dropped = np.concatenate([d for _, _, d in self._held])
            later = duplicate_rows(held, self._answers, np.concatenate(self._keys))
            resent = _near_duplicates(held, self.window)
            duplicates, near = rows[later], rows[resent]
            excluded = np.zeros(held.num_rows, dtype=bool)
            if "duplicate" in self.exclude:
                excluded |= later
            if "near_duplicate" in self.exclude:
                excluded |= resent
            newly = excluded & ~dropped
            self._counts["excluded"] += int(newly.sum())
            if newly.any():
                to_subtract = held.filter(pa.array(newly))
        counts = {
            "speeder": self._counts["speeder"],
            "straightliner": self._counts["straightliner"],
            "duplicate": int(duplicates.size),
            "near_duplicate": int(near.size),
            "honeypot": self._counts["honeypot"],
        }
        report = quality_report(
            n_received=self.rows,
            n_excluded=self._counts["excluded"],
            counts=counts,
            exclude=self.exclude,
            threshold=self.threshold,
            speed_factor=self.speed_factor,
            min_block_items=self.min_block_items,
            blocks=self.blocks,
            minimum=self.minimum,
            window=self.window,
        )
        return Screened(report, duplicates, to_subtract, near)

    def flags(self, screened: Screened) -> dict[str, BoolArray]:
        """Each row's flags, by flag name (only with ``keep_flags``)."""
        if self._flags is None:
            raise RuntimeError("the screen was not asked to keep each row's flags")
        empty = np.zeros(0, dtype=bool)
        duplicate = np.zeros(self.rows, dtype=bool)
        duplicate[screened.duplicates] = True
        near = np.zeros(self.rows, dtype=bool)
        near[screened.near_duplicates] = True
        return {
            "speeder": np.concatenate([empty, *(f for f, _, _ in self._flags)]),
            "straightliner": np.concatenate([empty, *(s for _, s, _ in self._flags)]),
            "duplicate": duplicate,
            "near_duplicate": near,
            "honeypot": np.concatenate([empty, *(b for _, _, b in self._flags)]),
        }


@dataclass(frozen=True)
class QualityFlags:
    """Per-row flags of the data-quality rules on an Arrow table, and the report."""

    keep: BoolArray
    report: QualityReport


def quality_flags(
    table: Any,
    form: Form,
    exclude: Sequence[str] = FLAGS,
    *,
    speed_factor: float = SPEED_FACTOR,
    min_block_items: int = MIN_BLOCK_ITEMS,
) -> QualityFlags:
    """`analysis.quality.quality_check` on an Arrow table: the same flags and report, with a
    keep flag per row."""
    durations = table["duration"] if "duration" in table.column_names else None
    screen = Screen(
        form,
        exclude,
        speed_threshold(durations, speed_factor),
        speed_factor=speed_factor,
        min_block_items=min_block_items,
        keep_flags=True,
    )
    for batch in table.to_batches():
        screen.screen(batch)
    screened = screen.finish()
    flags = screen.flags(screened)
    keep: BoolArray = np.ones(table.num_rows, dtype=bool)
    for name in exclude:
        keep &= ~flags[name]
    return QualityFlags(keep, screened.report)
