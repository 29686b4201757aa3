"""Proportions with confidence intervals and the frequency tables built on them: single choice
(count, %, interval, unweighted base) and multiple choice (% of respondents and % of mentions)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from analysis.categories import Answers, FloatArray, category_codes, weight_array
from analysis.errors import UnknownOptionError, check_alpha
from analysis.results import Result, nan_to_none
from analysis.weighting import kish_effective_n

#: Interval methods accepted by `proportion_ci`, mapped to their statsmodels names.
METHODS: dict[str, str] = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "agresti-coull": "agresti_coull",
    "jeffreys": "jeffreys",
    "wald": "normal",
}


def check_method(method: str) -> str:
    """Return the statsmodels name of ``method`` or raise listing the allowed names."""
    if method not in METHODS:
        raise UnknownOptionError.for_choice("method", method, list(METHODS))
    return METHODS[method]


def proportion_intervals(
    count: npt.ArrayLike,
    nobs: npt.ArrayLike,
    alpha: float = 0.05,
    method: str = "wilson",
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised `proportion_ci`: arrays of estimate, lower and upper bound (NaN where nobs=0).

    Counts may be fractional (weighted counts on the effective-sample-size scale).
    """
    check_alpha(alpha)
    sm_method = check_method(method)
    counts = np.atleast_1d(np.asarray(count, dtype=np.float64))
    totals = np.atleast_1d(np.asarray(nobs, dtype=np.float64))
    counts, totals = np.broadcast_arrays(counts, totals)
    estimate = np.full(counts.shape, np.nan)
    low = np.full(counts.shape, np.nan)
    high = np.full(counts.shape, np.nan)
    ok = totals > 0
    if ok.any():
        c, n = counts[ok], totals[ok]
        lo, hi = proportion_confint(c, n, alpha=alpha, method=sm_method)
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        if method == "jeffreys":
            # Brown, Cai & DasGupta (2001, sec. 4.1.2): the lower bound is 0 when x = 0 and the
            # upper bound 1 when x = n; statsmodels leaves the raw beta quantiles there.
            lo = np.where(c <= 0, 0.0, lo)
            hi = np.where(c >= n, 1.0, hi)
        estimate[ok] = c / n
        low[ok] = np.clip(lo, 0.0, 1.0)
        high[ok] = np.clip(hi, 0.0, 1.0)
    return estimate, low, high


@dataclass(frozen=True)
class ProportionEstimate(Result):
    """A proportion (0..1) with its confidence interval.

    ``estimate``, ``ci_low`` and ``ci_high`` are None when the base is empty (``note`` says so).
    Design-based shares also give ``se``, ``design_effect`` and ``effective_n``.
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    count: float
    nobs: float
    method: str
    alpha: float
    n_unweighted: int
    note: str | None = None
    se: float | None = None
    design_effect: float | None = None
    effective_n: float | None = None


def proportion_ci(
    count: float, nobs: float, alpha: float = 0.05, method: str = "wilson"
) -> ProportionEstimate:
    """Proportion ``count / nobs`` with a two-sided 1 - alpha confidence interval.

    Parameters
    ----------
    count : float
        Number of successes (may be fractional for weighted data on the effective-n scale).
    nobs : float
        Number of trials; 0 gives an undefined estimate (None) with a note, not an error.
    alpha : float
        Significance level in (0, 1); the interval has coverage 1 - alpha.
    method : {"wilson", "clopper-pearson", "agresti-coull", "jeffreys", "wald"}
        ``wilson`` (default) is the score interval; ``clopper-pearson`` the exact
        beta-quantile interval; ``agresti-coull`` adds z^2/2 pseudo successes and failures;
        ``jeffreys`` the equal-tailed Beta(x+1/2, n-x+1/2) interval; ``wald`` the normal
        approximation. Unknown names raise `UnknownOptionError` listing these.

    Returns
    -------
    ProportionEstimate

    Notes
    -----
    Computed by ``statsmodels.stats.proportion.proportion_confint``. Bounds are clipped to
    [0, 1]. For Jeffreys the boundary modification of Brown, Cai & DasGupta is applied (lower
    bound 0 at x = 0, upper bound 1 at x = n). The Wald interval collapses to a point at 0 of n
    and n of n and undercovers for small n; it is offered for comparison only.

    References
    ----------
    Brown, L. D., Cai, T. T., DasGupta, A. (2001). Interval estimation for a binomial
    proportion. Statistical Science 16(2), 101-133.
    Agresti, A., Coull, B. A. (1998). Approximate is better than "exact" for interval
    estimation of binomial proportions. The American Statistician 52(2), 119-126.
    """
    estimate, low, high = proportion_intervals(count, nobs, alpha, method)
    return ProportionEstimate(
        estimate=nan_to_none(estimate[0]),
        ci_low=nan_to_none(low[0]),
        ci_high=nan_to_none(high[0]),
        count=float(count),
        nobs=float(nobs),
        method=method,
        alpha=alpha,
        n_unweighted=round(float(nobs)),
        note=None if nobs > 0 else "no observations",
    )


@dataclass(frozen=True)
class CategoryShare(Result):
    """One row of a frequency table; percentages are on the 0-100 scale."""

    category: Hashable
    count: int
    weighted_count: float | None
    percent: float | None
    percent_ci_low: float | None
    percent_ci_high: float | None


@dataclass(frozen=True)
class FrequencyTable(Result):
    """Single-choice frequencies: every category with count, %, interval; base and missing.

    ``n_unweighted`` is the number of valid answers (the base of every percentage);
    ``effective_n`` is Kish's effective sample size when weighted (equal to the base otherwise).
    """

    rows: tuple[CategoryShare, ...]
    n_unweighted: int
    n_missing: int
    weighted_base: float | None
    effective_n: float
    method: str
    alpha: float
    note: str | None = None


def _shares(
    unweighted: FloatArray,
    weighted: FloatArray | None,
    base: float,
    effective_n: float,
    alpha: float,
    method: str,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Percent, lower, upper for counts over one base (weighted: shares on the effective n)."""
    if weighted is None:
        share, low, high = proportion_intervals(unweighted, base, alpha, method)
        return 100.0 * share, 100.0 * low, 100.0 * high
    share = weighted / base if base > 0 else np.full(weighted.shape, np.nan)
    _, low, high = proportion_intervals(
        np.nan_to_num(share) * effective_n, effective_n, alpha, method
    )
    return 100.0 * share, 100.0 * low, 100.0 * high


def frequencies(
    values: Answers,
    categories: Sequence[Hashable] | None = None,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> FrequencyTable:
    """Frequency table of a single-choice (or rating) question.

    Parameters
    ----------
    values : Series
        One answer per respondent; missing (NaN/None) answers are excluded from the base and
        counted in ``n_missing``.
    categories : sequence, optional
        Categories to report, in order (categories nobody chose get count 0). Defaults to the
        categorical dtype's categories, else the sorted distinct values. A value outside the
        declared categories raises `UnknownCategoryError`.
    weights : array-like, optional
        Respondent weights aligned with ``values``.
    alpha, method
        As in `proportion_ci`.

    Returns
    -------
    FrequencyTable

    Notes
    -----
    Unweighted: each percentage is count / n with the chosen interval. Weighted: the share is
    the weighted count over the weighted base, and the interval is the chosen method applied to
    that share on Kish's effective sample size n_eff = (sum w)^2 / sum w^2 (the "effective n"
    approach of Korn & Graubard 1998 without their degrees-of-freedom adjustment). It accounts
    for unequal weights but not for clustering; use `analysis.design` for clustered samples.
    With no valid answers every percentage is None and ``note`` says why.

    References
    ----------
    Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. Survey Methodology 24, 193-201.
    Kish, L. (1965). Survey Sampling. Wiley, section 11.7.
    """
    check_alpha(alpha)
    check_method(method)
    codes, cats = category_codes(values, categories)
    w = weight_array(weights, codes.shape[0])
    valid = codes >= 0
    k = len(cats)
    counts = np.bincount(codes[valid], minlength=k).astype(np.float64)
    n = int(valid.sum())
    if w is None:
        return frequencies_from_counts(counts, cats, int(codes.shape[0] - n), alpha, method)
    weighted = np.asarray(
        np.bincount(codes[valid], weights=w[valid], minlength=k), dtype=np.float64
    )
    return _frequency_table(
        counts, cats, int(codes.shape[0] - n), weighted, kish_effective_n(w[valid]), alpha, method
    )


def frequencies_from_counts(
    counts: npt.ArrayLike,
    categories: Sequence[Hashable],
    n_missing: int = 0,
    alpha: float = 0.05,
    method: str = "wilson",
) -> FrequencyTable:
    """`frequencies` (unweighted) from the count of every category and the number of missing
    answers: the same table, for counts made elsewhere (a database, Arrow, DuckDB).

    ``counts`` gives one count per entry of ``categories``, in that order.
    """
    check_alpha(alpha)
    check_method(method)
    values = np.asarray(counts, dtype=np.float64)
    if values.shape != (len(categories),):
        raise ValueError(f"got {values.shape} counts for {len(categories)} categories")
    return _frequency_table(
        values, list(categories), n_missing, None, float(values.sum()), alpha, method
    )


def _frequency_table(
    counts: FloatArray,
    cats: list[Hashable],
    n_missing: int,
    weighted: FloatArray | None,
    effective_n: float,
    alpha: float,
    method: str,
) -> FrequencyTable:
    k = len(cats)
    n = int(counts.sum())
    base = float(n) if weighted is None else float(weighted.sum())
    pct, low, high = _shares(counts, weighted, base, effective_n, alpha, method)
    rows = tuple(
        CategoryShare(
            category=cats[i],
            count=int(counts[i]),
            weighted_count=None if weighted is None else float(weighted[i]),
            percent=nan_to_none(pct[i]),
            percent_ci_low=nan_to_none(low[i]),
            percent_ci_high=nan_to_none(high[i]),
        )
        for i in range(k)
    )
    return FrequencyTable(
        rows=rows,
        n_unweighted=n,
        n_missing=n_missing,
        weighted_base=None if weighted is None else base,
        effective_n=effective_n,
        method=method,
        alpha=alpha,
        note=None if n > 0 and base > 0 else "no valid answers",
    )


@dataclass(frozen=True)
class OptionShare(Result):
    """One option of a multiple-choice question (percentages on the 0-100 scale)."""

    option: Hashable
    count: int
    weighted_count: float | None
    percent_of_respondents: float | None
    percent_ci_low: float | None
    percent_ci_high: float | None
    percent_of_mentions: float | None


@dataclass(frozen=True)
class MultipleChoiceTable(Result):
    """Multiple-choice frequencies; ``n_unweighted`` is the number of respondents who answered."""

    rows: tuple[OptionShare, ...]
    n_unweighted: int
    n_missing: int
    n_mentions: int
    weighted_base: float | None
    effective_n: float
    method: str
    alpha: float
    note: str | None = None


def multiple_choice_frequencies(
    selected: pd.DataFrame,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> MultipleChoiceTable:
    """Frequencies of a multiple-choice question as % of respondents and % of mentions.

    Parameters
    ----------
    selected : DataFrame
        One column per option (column name = option), one row per respondent; true/1 = chosen,
        false/0 = not chosen. A row that is missing in every column did not answer the
        question and is left out of the base; a missing cell in an answered row counts as not
        chosen.
    weights, alpha, method
        As in `frequencies`.

    Returns
    -------
    MultipleChoiceTable

    Notes
    -----
    % of respondents = respondents choosing the option / respondents answering (these add up to
    more than 100) and carries a confidence interval as in `frequencies`. % of mentions =
    choices of the option / all choices (adds up to 100); it has no interval, because the
    mentions of one respondent are not independent trials.
    """
    check_alpha(alpha)
    check_method(method)
    answered = selected.notna().any(axis=1).to_numpy()
    w = weight_array(weights, len(selected))
    # One option at a time, so memory stays at one column whatever the number of options.
    chosen = [
        answered & (np.nan_to_num(selected[c].to_numpy(np.float64, na_value=np.nan)) != 0)
        for c in selected.columns
    ]
    n = int(answered.sum())
    counts = np.array([float(c.sum()) for c in chosen])
    if w is None:
        return multiple_choice_from_counts(
            counts, list(selected.columns), n, len(selected) - n, alpha, method
        )
    weighted = np.array([float(w[c].sum()) for c in chosen])
    base = float(w[answered].sum())
    return _multiple_table(
        counts,
        list(selected.columns),
        (n, len(selected) - n),
        (weighted, base, kish_effective_n(w[answered])),
        alpha,
        method,
    )


def multiple_choice_from_counts(
    counts: npt.ArrayLike,
    options: Sequence[Hashable],
    n_answered: int,
    n_missing: int = 0,
    alpha: float = 0.05,
    method: str = "wilson",
) -> MultipleChoiceTable:
    """`multiple_choice_frequencies` (unweighted) from how many respondents chose each option
    and how many answered the question (``n_missing`` did not)."""
    check_alpha(alpha)
    check_method(method)
    values = np.asarray(counts, dtype=np.float64)
    if values.shape != (len(options),):
        raise ValueError(f"got {values.shape} counts for {len(options)} options")
    return _multiple_table(values, list(options), (n_answered, n_missing), None, alpha, method)


def _multiple_table(
    counts: FloatArray,
    options: list[Hashable],
    bases: tuple[int, int],
    weighting: tuple[FloatArray, float, float] | None,
    alpha: float,
    method: str,
) -> MultipleChoiceTable:
    n, n_missing = bases
    weighted = None
    base = float(n)
    effective_n = float(n)
    if weighting is not None:
        weighted, base, effective_n = weighting
    pct, low, high = _shares(counts, weighted, base, effective_n, alpha, method)
    mention_counts = counts if weighted is None else weighted
    total_mentions = float(mention_counts.sum())
    mentions = (
        100.0 * mention_counts / total_mentions
        if total_mentions > 0
        else np.full_like(counts, np.nan)
    )
    rows = tuple(
        OptionShare(
            option=option,
            count=int(counts[i]),
            weighted_count=None if weighted is None else float(weighted[i]),
            percent_of_respondents=nan_to_none(pct[i]),
            percent_ci_low=nan_to_none(low[i]),
            percent_ci_high=nan_to_none(high[i]),
            percent_of_mentions=nan_to_none(mentions[i]),
        )
        for i, option in enumerate(options)
    )
    return MultipleChoiceTable(
        rows=rows,
        n_unweighted=n,
        n_missing=n_missing,
        n_mentions=int(counts.sum()),
        weighted_base=None if weighted is None else base,
        effective_n=effective_n,
        method=method,
        alpha=alpha,
        note=None if n > 0 and base > 0 else "no valid answers",
    )


def indicator_proportion(
    indicator: Answers,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> ProportionEstimate:
    """Share of true values among the non-missing values of a 0/1 (boolean) indicator.

    Unweighted, this is `proportion_ci` of the counts. Weighted, the estimate is the weighted
    share and the interval is ``method`` on Kish's effective n (see `frequencies`);
    ``count`` and ``nobs`` are then on the effective-n scale and ``n_unweighted`` is the number
    of non-missing values.
    """
    series = indicator if isinstance(indicator, pd.Series) else pd.Series(indicator)
    marks = series.to_numpy(dtype=np.float64, na_value=np.nan)
    valid = ~np.isnan(marks)
    hit = valid & (np.nan_to_num(marks) != 0)
    w = weight_array(weights, len(series))
    n = int(valid.sum())
    if w is None:
        count, nobs = float(hit.sum()), float(n)
    else:
        base = float(w[valid].sum())
        nobs = kish_effective_n(w[valid]) if base > 0 else 0.0
        count = float(w[hit].sum()) / base * nobs if base > 0 else 0.0
    return _indicator_estimate(count, nobs, n, alpha, method)


def indicator_from_counts(
    hits: int, n: int, alpha: float = 0.05, method: str = "wilson"
) -> ProportionEstimate:
    """`indicator_proportion` (unweighted) from the number of true values and of non-missing
    values."""
    return _indicator_estimate(float(hits), float(n), int(n), alpha, method)


def _indicator_estimate(
    count: float, nobs: float, n: int, alpha: float, method: str
) -> ProportionEstimate:
    estimate, low, high = proportion_intervals(count, nobs, alpha, method)
    return ProportionEstimate(
        estimate=nan_to_none(estimate[0]),
        ci_low=nan_to_none(low[0]),
        ci_high=nan_to_none(high[0]),
        count=count,
        nobs=nobs,
        method=method,
        alpha=alpha,
        n_unweighted=n,
        note=None if nobs > 0 else "no valid answers",
    )
