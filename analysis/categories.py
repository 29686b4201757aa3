"""Category coding of answer columns and validation of weights: the shared first step of every
table, so that counting is one `numpy.bincount` over integer codes, never a loop over rows."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import UnknownCategoryError, WeightError
from minsheng.problems import Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: One answer per respondent: a Series, a numpy array or a plain sequence.
Answers: TypeAlias = "pd.Series[Any] | npt.NDArray[Any] | Sequence[Any]"


def category_codes(
    values: Answers, categories: Sequence[Hashable] | None = None
) -> tuple[IntArray, list[Hashable]]:
    """Integer codes (0..k-1, -1 for a missing answer) and the list of categories.

    Categories come from ``categories`` if given, else from a categorical dtype (keeping empty
    levels, so a category nobody chose still shows with 0), else the sorted distinct values.
    A non-missing value outside declared ``categories`` raises `UnknownCategoryError`.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if categories is None:
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = list(series.cat.categories)
            return np.asarray(series.cat.codes, dtype=np.int64), cats
        uniques = pd.unique(series.dropna())
        try:
            cats = sorted(uniques.tolist())
        except TypeError:  # mixed types: keep the order of first appearance
            cats = list(uniques.tolist())
    else:
        cats = list(categories)
    unknown_mask = (series.notna() & ~series.isin(cats)).to_numpy()
    if unknown_mask.any():
        unknown = pd.unique(series[unknown_mask]).tolist()[:10]
        allowed = ", ".join(repr(c) for c in cats)
        raise UnknownCategoryError(
            [
                Problem(
                    f"variable `{series.name}`" if series.name is not None else "answers",
                    f"values {unknown!r} are not among the categories; expected one of {allowed}",
                )
            ]
        )
    codes = np.asarray(pd.Categorical(series, categories=cats).codes, dtype=np.int64)
    return codes, cats


def weight_array(
    weights: pd.Series[Any] | Sequence[float] | npt.ArrayLike | None, n: int
) -> FloatArray | None:
    """Weights as a float array of length ``n``; refuses missing, negative or infinite values."""
    if weights is None:
        return None
    array = np.asarray(weights, dtype=np.float64)
    problems = []
    if array.shape != (n,):
        problems.append(
            Problem(
                "weights",
                f"got {array.shape[0] if array.ndim else 0} weights for {n} rows",
            )
        )
    else:
        bad = ~np.isfinite(array) | (array < 0)
        if bad.any():
            problems.append(
                Problem(
                    "weights",
                    f"{int(bad.sum())} weights are missing, negative or infinite "
                    f"(first at position {int(np.argmax(bad))}); weights must be finite and >= 0",
                )
            )
    if problems:
        raise WeightError(problems)
    return array


def compact_codes(keys: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Renumber integer keys in 0..size-1 to 0..m-1 for the m keys present, in increasing order.

    Returns (present keys, new code of every element). One bincount and a lookup when ``size``
    is moderate, instead of the sort inside ``numpy.unique``.
    """
    if size <= 50_000_000:
        present = np.flatnonzero(np.bincount(keys, minlength=size))
        lookup = np.full(size, -1, dtype=np.int64)
        lookup[present] = np.arange(present.shape[0])
        return present.astype(np.int64), lookup[keys]
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique.astype(np.int64), inverse.astype(np.int64)
