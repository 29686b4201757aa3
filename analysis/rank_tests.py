"""Rank tests for ordinal answers by group: Kruskal-Wallis and Mann-Whitney with effect sizes,
computed from the group x answer count table (mid-ranks of tied values), so ten million Likert
answers cost one bincount."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.categories import FloatArray, category_codes
from analysis.errors import UnknownCategoryError
from analysis.results import Result, nan_to_none
from minsheng.problems import Problem


@dataclass(frozen=True)
class RankTest(Result):
    """A rank test: statistic, p-value and effect size, with the groups and their sizes."""

    method: str
    statistic: float | None
    df: float | None
    p_value: float | None
    effect_size: float | None
    effect_size_name: str
    groups: tuple[Hashable, ...]
    group_n: tuple[int, ...]
    n_unweighted: int
    note: str | None = None


def _rank_table(
    values: pd.Series[Any], groups: pd.Series[Any], keep: Sequence[Hashable] | None
) -> tuple[FloatArray, list[Hashable]]:
    """Counts per (group, distinct value), values in increasing order."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        if not values.cat.ordered:
            raise UnknownCategoryError(
                [Problem(f"variable `{values.name}`", "categories must be ordered for a rank test")]
            )
        codes = values.cat.codes.to_numpy(np.int64)
        levels = len(values.cat.categories)
    else:
        numeric = pd.to_numeric(values, errors="coerce")
        if (numeric.isna() & values.notna()).any():
            raise UnknownCategoryError(
                [
                    Problem(
                        f"variable `{values.name}`",
                        "answers are neither numbers nor an ordered categorical; "
                        "a rank test needs ordered answers",
                    )
                ]
            )
        codes, uniques = pd.factorize(numeric, sort=True)
        codes, levels = codes.astype(np.int64), len(uniques)
    group_codes, group_cats = category_codes(groups, keep)
    valid = (codes >= 0) & (group_codes >= 0)
    k = len(group_cats)
    table = np.bincount(group_codes[valid] * levels + codes[valid], minlength=k * levels)
    return table.reshape(k, levels).astype(np.float64), group_cats


def _rank_sums(table: FloatArray) -> tuple[FloatArray, FloatArray, float, float]:
    """Rank sum and size of each group, N, and the tie term sum(t^3 - t)."""
    ties = table.sum(axis=0)
    midranks = np.cumsum(ties) - ties + (ties + 1) / 2
    return table @ midranks, table.sum(axis=1), float(ties.sum()), float((ties**3 - ties).sum())


def kruskal_wallis(values: pd.Series[Any], groups: pd.Series[Any]) -> RankTest:
    """Kruskal-Wallis H test that an ordinal answer has the same distribution in every group.

    Parameters
    ----------
    values : Series
        Ordinal answers: numbers, or an ordered categorical. Missing values are left out.
    groups : Series
        Group of each answer (district, age group ...); empty groups are left out.

    Returns
    -------
    RankTest
        ``statistic`` is H (tie-corrected), ``df`` = groups - 1, ``effect_size`` is
        epsilon-squared = H / (N - 1), between 0 and 1.

    Notes
    -----
    H = [12 / (N (N + 1)) sum_g R_g^2 / n_g - 3 (N + 1)] / [1 - sum(t^3 - t) / (N^3 - N)] with
    mid-ranks for ties, and p from chi-square(groups - 1); the same as
    ``scipy.stats.kruskal`` but computed on the count table. Unweighted. Undefined (None) with
    fewer than two non-empty groups or when all answers are equal.

    References
    ----------
    Kruskal, W. H., Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
    JASA 47(260), 583-621.
    Tomczak, M., Tomczak, E. (2014). The need to report effect size estimates revisited.
    Trends in Sport Sciences 21(1), 19-25 (epsilon-squared).
    """
    table, cats = _rank_table(values, groups, None)
    nonempty = table.sum(axis=1) > 0
    table, kept = table[nonempty], [c for c, keep in zip(cats, nonempty, strict=True) if keep]
    sums, sizes, n, tie_term = _rank_sums(table)
    result = RankTest(
        "kruskal-wallis",
        None,
        None,
        None,
        None,
        "epsilon-squared",
        tuple(kept),
        tuple(int(s) for s in sizes),
        int(n),
    )
    if len(kept) < 2 or n <= 1 or tie_term == n**3 - n:
        return _with_note(result, "fewer than two groups or all answers equal: no test")
    h = (12 / (n * (n + 1)) * float((sums**2 / sizes).sum()) - 3 * (n + 1)) / (
        1 - tie_term / (n**3 - n)
    )
    df = len(kept) - 1
    return RankTest(
        "kruskal-wallis",
        h,
        float(df),
        float(stats.chi2.sf(h, df)),
        h / (n - 1),
        "epsilon-squared",
        tuple(kept),
        tuple(int(s) for s in sizes),
        int(n),
    )


def _with_note(result: RankTest, note: str) -> RankTest:
    return replace(result, note=note)


def mann_whitney(
    values: pd.Series[Any], groups: pd.Series[Any], first: Hashable, second: Hashable
) -> RankTest:
    """Mann-Whitney U test comparing the answers of group ``first`` with group ``second``.

    Returns
    -------
    RankTest
        ``statistic`` is U of the first group (as ``scipy.stats.mannwhitneyu(x, y)``);
        ``effect_size`` is the rank-biserial correlation 2 U / (n1 n2) - 1 =
        P(X > Y) - P(X < Y), positive when the first group answers higher.

    Notes
    -----
    Normal approximation with tie correction and continuity correction, two-sided: the same
    as ``scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True)``, computed on the
    count table. Unweighted. Undefined (None) when a group is empty or all answers are equal.

    References
    ----------
    Mann, H. B., Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Ann. Math. Statist. 18(1), 50-60.
    Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
    correlation. Comprehensive Psychology 3, 11.IT.3.1 (rank-biserial correlation).
    """
    pair = groups.where(groups.isin([first, second]))
    table, cats = _rank_table(values, pair, [first, second])
    sums, sizes, n, tie_term = _rank_sums(table)
    n1, n2 = float(sizes[0]), float(sizes[1])
    result = RankTest(
        "mann-whitney",
        None,
        None,
        None,
        None,
        "rank-biserial",
        tuple(cats),
        (int(n1), int(n2)),
        int(n),
    )
    if n1 == 0 or n2 == 0 or tie_term == n**3 - n:
        return _with_note(result, "a group is empty or all answers are equal: no test")
    u1 = float(sums[0]) - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    sd = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    z = (max(u1, n1 * n2 - u1) - mean - 0.5) / sd
    p = min(1.0, 2 * float(stats.norm.sf(z)))
    return RankTest(
        "mann-whitney",
        u1,
        None,
        nan_to_none(p),
        2 * u1 / (n1 * n2) - 1,
        "rank-biserial",
        tuple(cats),
        (int(n1), int(n2)),
        int(n),
    )
