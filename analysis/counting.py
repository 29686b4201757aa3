"""Count tables of responses, gathered one Arrow record batch at a time.

Unweighted, every statistic of a summary is a function of counts: answers per category, ticks
per option, distinct numbers and texts with how often each was given, and the cells of two or
more categorical columns (crosstabs, raking). A `Tally` adds (or subtracts) one record batch at
a time, so `tally_parquet` counts a Parquet snapshot row group by row group while Arrow decodes
the next one: no row-level frame is built, memory stays at a few row groups whatever the
campaign's size, and decoding and counting overlap on two cores.

Responses left out by the data-quality rules (`analysis.screening`) are counted apart and
subtracted: they are a few per cent of the rows, so the full columns are never filtered.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.arrow import (
    Categories,
    as_dictionary,
    dictionary_indices,
    float_values,
    read_column,
    row_groups,
)
from analysis.frames import choice_names, option_column
from analysis.quality import FLAGS, MIN_BLOCK_ITEMS, SPEED_FACTOR, QualityReport
from analysis.screening import Screen, speed_threshold
from questionnaire.schema import Form

IntArray = npt.NDArray[np.signedinteger[Any]]
Cell = tuple[int, ...]
#: Up to this many categories a column is counted with one vectorised comparison per category,
#: which beats ``numpy.bincount`` (it would first widen the one-byte indices to eight bytes).
FEW_CATEGORIES = 24
NUMBER_TYPES = ("integer", "decimal", "range")


def _index_counts(raw: IntArray, valid: npt.NDArray[np.bool_] | None, k: int) -> IntArray:
    """How many valid slots hold each index 0..k-1."""
    if k <= FEW_CATEGORIES:
        if valid is None:
            return np.array([np.count_nonzero(raw == i) for i in range(k)], dtype=np.int64)
        return np.array([np.count_nonzero((raw == i) & valid) for i in range(k)], dtype=np.int64)
    codes = raw if valid is None else np.where(valid, raw, k)
    counts: IntArray = np.bincount(codes, minlength=k + 1)[:k].astype(np.int64)
    return counts


def _true_count(column: Any) -> int:
    if not pa.types.is_boolean(column.type):
        column = pc.not_equal(column.cast(pa.float64()), 0.0)
    return int(pc.sum(column).as_py() or 0)


class Tally:
    """The counts of a set of responses, added (or subtracted) one record batch at a time.

    What is counted follows the questionnaire: categories of every single-choice question and
    of every dictionary-encoded column (segments such as district or channel), ticks of the
    option columns of multiple-choice questions and, for them and for rankings, how many rows
    answered at all; distinct numbers of numeric questions and of ranking positions; distinct
    texts of open questions; non-missing answers of every column; and the cells of each
    combination of categorical columns in ``cells`` (e.g. ``("sat_bus", "district")`` for a
    crosstab, ``("district", "age_group")`` for raking).
    """

    def __init__(self, form: Form, cells: Iterable[Sequence[str]] = ()) -> None:
        self.n_rows = 0
        self.columns: set[str] = set()
        self._valid: Counter[str] = Counter()
        self._categories: dict[str, Categories] = {}
        self._category_counts: dict[str, IntArray] = {}
        self._numbers: defaultdict[str, list[tuple[npt.NDArray[np.float64], IntArray]]] = (
            defaultdict(list)
        )
        self._texts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._ticks: Counter[str] = Counter()
        self._answered: Counter[tuple[str, ...]] = Counter()
        self._cells: dict[tuple[str, ...], Counter[Cell]] = {tuple(c): Counter() for c in cells}
        questions = list(form.questions())
        self._categorical = {q.name for q in questions if q.type == "select_one"}
        self._categorical.update(v for c in self._cells for v in c)
        self._texts_of = {q.name for q in questions if q.type == "text"}
        self._numbers_of = {q.name for q in questions if q.type in NUMBER_TYPES}
        groups = {
            kind: [
                tuple(option_column(q, n) for n in choice_names(form, q))
                for q in questions
                if q.type == kind
            ]
            for kind in ("select_multiple", "rank")
        }
        # Rows that answered at all are counted for both; ticks for multiple choice, ranks as
        # numbers.
        self._groups = groups["select_multiple"] + groups["rank"]
        self._ticks_of = {c for group in groups["select_multiple"] for c in group}
        self._numbers_of.update(c for group in groups["rank"] for c in group)

    # -- adding ------------------------------------------------------------------------------

    def add(self, batch: Any, sign: int = 1) -> None:
        """Count the rows of ``batch`` (a record batch), or uncount them with ``sign=-1``."""
        self.n_rows += sign * batch.num_rows
        names = batch.schema.names
        self.columns.update(names)
        for name, column in zip(names, batch.columns, strict=True):
            self._valid[name] += sign * (len(column) - column.null_count)
            if name in self._texts_of:
                self._add_texts(name, column, sign)
            elif name in self._numbers_of:
                self._add_numbers(name, column, sign)
            elif name in self._ticks_of:
                self._ticks[name] += sign * _true_count(column)
            elif pa.types.is_dictionary(column.type) or name in self._categorical:
                self._add_categories(name, column, sign)
        for group in self._groups:
            present = [batch.column(c) for c in group if c in names]
            if present:
                valid = pc.is_valid(present[0])
                for column in present[1:]:
                    valid = pc.or_(valid, pc.is_valid(column))
                self._answered[group] += sign * int(pc.sum(valid).as_py() or 0)
        for variables, counter in self._cells.items():
            if all(v in names for v in variables):
                self._add_cells(batch, variables, counter, sign)

    def _category(self, name: str) -> Categories:
        return self._categories.setdefault(name, Categories())

    def _add_categories(self, name: str, column: Any, sign: int) -> None:
        column = as_dictionary(column)
        category = self._category(name)
        lookup = category.lookup(column.dictionary)
        raw, valid = dictionary_indices(column)
        local = _index_counts(raw, valid, len(lookup))
        counts = self._category_counts.get(name, np.zeros(0, dtype=np.int64))
        if counts.size < len(category.values):  # categories met for the first time
            counts = np.concatenate(
                [counts, np.zeros(len(category.values) - counts.size, np.int64)]
            )
        known = lookup >= 0
        np.add.at(counts, lookup[known], sign * local[known])
        self._category_counts[name] = counts

    def _add_numbers(self, name: str, column: Any, sign: int) -> None:
        if column.null_count == len(column):
            return
        pairs = pc.value_counts(column)
        values = float_values(pairs.field("values"))
        counts = np.asarray(pairs.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64)
        known = ~np.isnan(values)
        self._numbers[name].append((values[known], sign * counts[known]))

    def _add_texts(self, name: str, column: Any, sign: int) -> None:
        if column.null_count == len(column):
            return
        pairs = pc.value_counts(column)
        counted = self._texts[name]
        for value, count in zip(
            pairs.field("values").to_pylist(), pairs.field("counts").to_pylist(), strict=True
        ):
            if value is not None:
                counted[str(value)] += sign * count

    def _add_cells(
        self, batch: Any, variables: tuple[str, ...], counter: Counter[Cell], sign: int
    ) -> None:
        """One cell number per row from the dictionary indices of ``variables`` (mixed radix,
        in the narrowest unsigned type that holds every cell), counted with one
        ``numpy.bincount``; rows missing any variable are left out."""
        parts, sizes, lookups = [], [], []
        usable: npt.NDArray[np.bool_] | None = None
        for name in variables:
            column = as_dictionary(batch.column(name))
            lookups.append(self._category(name).lookup(column.dictionary))
            raw, valid = dictionary_indices(column)
            parts.append(raw)
            sizes.append(len(lookups[-1]))
            if valid is not None:
                usable = valid if usable is None else usable & valid
        total = int(np.prod(sizes))
        if total == 0:
            return
        kind: type[np.integer[Any]] = (
            np.uint8 if total < 2**8 - 1 else np.uint16 if total < 2**16 - 1 else np.intp
        )
        # Missing slots hold arbitrary indices: their keys may wrap around, and are replaced.
        keys: npt.NDArray[Any] = parts[0].astype(kind)
        for raw, size in zip(parts[1:], sizes[1:], strict=True):
            keys = keys * kind(size) + raw.astype(kind)
        if usable is not None:
            keys = np.where(usable, keys, kind(total))
        local = np.bincount(keys, minlength=total + 1)[:total]
        for flat in np.flatnonzero(local).tolist():
            at = np.unravel_index(flat, sizes)
            cell = tuple(int(lookup[i]) for lookup, i in zip(lookups, at, strict=True))
            if min(cell) >= 0:
                counter[cell] += sign * int(local[flat])

    # -- reading -----------------------------------------------------------------------------

    def has(self, name: str) -> bool:
        """Whether any counted batch had column ``name``."""
        return name in self.columns

    def categories(self, name: str) -> list[str]:
        """The categories of a categorical column in the order they were first met (the
        dictionary order of the snapshot's columns)."""
        category = self._categories.get(name)
        return [] if category is None else [str(v) for v in category.values]

    def category_counts(self, name: str, names: Sequence[str]) -> tuple[npt.NDArray[Any], int]:
        """Answers per category of ``names`` (in that order) and the number missing (no answer
        or one not among ``names``)."""
        counts = np.zeros(len(names), dtype=np.int64)
        category = self._categories.get(name)
        counted = self._category_counts.get(name)
        if category is not None and counted is not None:
            for i, value in enumerate(names):
                at = category.position.get(value)
                if at is not None and at < counted.size:
                    counts[i] = counted[at]
        return counts, self.n_rows - int(counts.sum())

    def option_counts(self, columns: Sequence[str]) -> tuple[npt.NDArray[Any], int]:
        """Rows that ticked each option column, and how many answered (any option column not
        missing); ``columns`` are the option columns of one question, in choice order."""
        group = tuple(columns)
        if group not in self._groups:
            raise KeyError(f"option columns {list(columns)!r} are not a question of the form")
        ticks = np.array([self._ticks[c] for c in columns], dtype=np.int64)
        return ticks, self._answered[group]

    def number_counts(self, name: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
        """Distinct numbers of a numeric column with how often each was given (missing values
        and NaN left out)."""
        parts = self._numbers.get(name, [])
        if not parts:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        values = np.concatenate([v for v, _ in parts])
        counts = np.concatenate([c for _, c in parts])
        distinct, inverse = np.unique(values, return_inverse=True)
        total = np.zeros(distinct.size, dtype=np.int64)
        np.add.at(total, inverse.ravel(), counts)
        given = total > 0
        return distinct[given], total[given]

    def text_counts(self, name: str) -> Counter[str]:
        """Distinct texts of an open question with how often each was given."""
        return +self._texts.get(name, Counter())

    def answered(self, name: str) -> int:
        """Rows where column ``name`` is not missing."""
        return int(self._valid[name])

    def _cell_values(self, variables: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
        """The counted cells of ``variables`` (in that order) by category values."""
        order = list(range(len(variables)))
        counter = self._cells.get(variables)
        if counter is None and tuple(reversed(variables)) in self._cells:
            counter, order = self._cells[tuple(reversed(variables))], order[::-1]
        if counter is None:
            raise KeyError(
                f"the cells of {list(variables)!r} were not counted; pass them as `cells`"
            )
        values = [self._category(v).values for v in variables]
        return {
            tuple(values[i][cell[order[i]]] for i in range(len(variables))): count
            for cell, count in counter.items()
            if count
        }

    def cross_counts(
        self, row: str, column: str, row_names: Sequence[str], column_names: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], int]:
        """Two-way table by the categories of ``row`` and ``column`` (as given) and the number
        of rows missing either or outside the categories."""
        table = np.zeros((len(row_names), len(column_names)), dtype=np.int64)
        rows = {n: i for i, n in enumerate(row_names)}
        columns = {n: i for i, n in enumerate(column_names)}
        for (r, c), count in self._cell_values((row, column)).items():
            if r in rows and c in columns:
                table[rows[r], columns[c]] += count
        return table, self.n_rows - int(table.sum())

    def cells(
        self, variables: Sequence[str], categories: Sequence[Sequence[str]]
    ) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
        """The observed cells of ``variables``: a frame with one categorical column per
        variable (categories as given) and one row per combination that occurs, with its
        count; rows missing a variable are left out. This is what
        `analysis.weighting.raked_cell_weights` rakes."""
        table = np.zeros(tuple(len(c) for c in categories), dtype=np.int64)
        lookups = [{n: i for i, n in enumerate(c)} for c in categories]
        for cell, count in self._cell_values(tuple(variables)).items():
            at = [lookup.get(v, -1) for lookup, v in zip(lookups, cell, strict=True)]
            if min(at, default=0) >= 0:
                table[tuple(at)] += count
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


def tally_batches(
    batches: Iterable[Any],
    form: Form,
    *,
    threshold: float | None,
    exclude: Sequence[str] = FLAGS,
    cells: Iterable[Sequence[str]] = (),
    speed_factor: float = SPEED_FACTOR,
    min_block_items: int = MIN_BLOCK_ITEMS,
) -> tuple[Tally, QualityReport]:
    """Count record batches (in row order) with the data-quality rules applied on the way:
    every batch is counted, then the rows a rule excludes are uncounted. ``threshold`` is the
    speed threshold (`analysis.screening.speed_threshold` of every duration)."""
    tally = Tally(form, cells)
    screen = Screen(
        form, exclude, threshold, speed_factor=speed_factor, min_block_items=min_block_items
    )
    for batch in batches:
        tally.add(batch)
        drop = screen.screen(batch)
        if drop is not None:
            tally.add(batch.take(pa.array(np.flatnonzero(drop))), -1)
    screened = screen.finish()
    if screened.to_subtract is not None:
        for batch in screened.to_subtract.to_batches():
            tally.add(batch, -1)
    return tally, screened.report


def tally_table(
    table: Any,
    form: Form,
    *,
    exclude: Sequence[str] = FLAGS,
    cells: Iterable[Sequence[str]] = (),
    speed_factor: float = SPEED_FACTOR,
    min_block_items: int = MIN_BLOCK_ITEMS,
) -> tuple[Tally, QualityReport]:
    """`tally_batches` of an Arrow table in memory."""
    durations = table["duration"] if "duration" in table.column_names else None
    return tally_batches(
        table.to_batches(),
        form,
        threshold=speed_threshold(durations, speed_factor),
        exclude=exclude,
        cells=cells,
        speed_factor=speed_factor,
        min_block_items=min_block_items,
    )


def tally_parquet(
    paths: str | Path | Sequence[str | Path],
    form: Form,
    *,
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = FLAGS,
    cells: Iterable[Sequence[str]] = (),
    speed_factor: float = SPEED_FACTOR,
    min_block_items: int = MIN_BLOCK_ITEMS,
) -> tuple[Tally, QualityReport]:
    """`tally_batches` of Parquet files of response frames (e.g. a campaign's snapshot), row
    group by row group, each decoded while the previous one is counted. The durations are read
    first, alone, for the median the speed rule needs. ``columns`` limits what is read."""
    return tally_batches(
        row_groups(paths, columns),
        form,
        threshold=speed_threshold(read_column(paths, "duration"), speed_factor),
        exclude=exclude,
        cells=cells,
        speed_factor=speed_factor,
        min_block_items=min_block_items,
    )
