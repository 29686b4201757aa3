"""Rating scales and numeric answers: Likert distributions, means with t intervals, top-2-box
("satisfaction rate"), Net Promoter Score, numeric summaries, rankings and matrix questions."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis.categories import Answers, FloatArray, weight_array
from analysis.errors import UnknownCategoryError, check_alpha
from analysis.proportions import (
    FrequencyTable,
    ProportionEstimate,
    frequencies,
    indicator_from_counts,
    indicator_proportion,
)
from analysis.results import Result, nan_to_none
from minsheng.problems import Problem


def _numeric(values: Answers) -> FloatArray:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class MeanEstimate(Result):
    """A mean with standard error and t interval; None fields when undefined (see ``note``).

    Design-based means (``method`` ``taylor``) also give their design effect and effective n.
    """

    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None
    n_unweighted: int
    n_missing: int
    weighted_base: float | None
    method: str
    alpha: float
    note: str | None = None
    design_effect: float | None = None
    effective_n: float | None = None


def _mean_parts(y: FloatArray, w: FloatArray | None) -> tuple[float, float, float, int]:
    """Mean, standard error, sd and n of the finite values of y (weights: linearised se)."""
    n = y.shape[0]
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    if w is None:
        sd = float(np.std(y, ddof=1)) if n > 1 else float("nan")
        return float(y.mean()), sd / np.sqrt(n), sd, n
    total = float(w.sum())
    mean = float(w @ y) / total
    resid = y - mean
    factor = n / (n - 1) if n > 1 else float("nan")
    se = float(np.sqrt(factor * float(((w * resid) ** 2).sum()))) / total
    sd = float(np.sqrt(factor * float(w @ resid**2) / total))
    return mean, se, sd, n


def mean_ci(
    values: Answers,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
) -> MeanEstimate:
    """Mean of a numeric or rating answer with a two-sided t interval.

    Parameters
    ----------
    values : Series
        Numeric answers; missing (or non-numeric) values are left out and counted.
    weights : array-like, optional
        Sampling weights aligned with ``values``.
    alpha : float
        1 - alpha is the confidence level.

    Returns
    -------
    MeanEstimate

    Notes
    -----
    Unweighted: se = s / sqrt(n) with the sample standard deviation s (divisor n - 1) and a
    t(n - 1) interval, as ``scipy.stats.t.interval(1 - alpha, n - 1, mean, sem)``. Weighted:
    the mean is sum(w y) / sum(w) and the se is the Taylor-linearised one for a single-stage
    with-replacement design, se^2 = n/(n-1) sum w_i^2 (y_i - ybar)^2 / (sum w)^2, which is
    ``survey::svymean`` with ``svydesign(ids = ~1, weights = ~w)`` built from the answered
    rows (complete cases); `analysis.design` keeps unanswered rows in the design (domain
    estimation) and handles strata and clusters. The interval uses t(n - 1). With n = 1 the
    se is undefined (None).

    References
    ----------
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, section 2.2.
    """
    check_alpha(alpha)
    y = _numeric(values)
    w = weight_array(weights, y.shape[0])
    valid = ~np.isnan(y)
    if w is not None:
        valid &= w > 0
    mean, se, sd, n = _mean_parts(y[valid], None if w is None else w[valid])
    low = high = float("nan")
    note = None if n > 1 else ("no valid answers" if n == 0 else "one answer: no interval")
    if n > 1:
        half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
        low, high = mean - half, mean + half
    return MeanEstimate(
        estimate=nan_to_none(mean),
        se=nan_to_none(se),
        ci_low=nan_to_none(low),
        ci_high=nan_to_none(high),
        sd=nan_to_none(sd),
        n_unweighted=n,
        n_missing=int(np.isnan(y).sum()),
        weighted_base=None if w is None else float(w[valid].sum()),
        method="t" if w is None else "t, linearised se",
        alpha=alpha,
        note=note,
    )


def top_box(
    values: Answers,
    top: Sequence[Hashable],
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> ProportionEstimate:
    """Share of answers in the top categories: the "satisfaction rate" (满意率).

    ``top`` lists the answers that count (for a 1-5 scale with 5 = very satisfied, the
    top-2-box is ``(4, 5)``). The base is all non-missing answers; code "don't know" as missing
    beforehand if it should not count. Interval as in `indicator_proportion`.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    hit = series.isin(list(top)).to_numpy(dtype=np.float64)
    indicator = np.where(series.notna().to_numpy(), hit, np.nan)
    return indicator_proportion(indicator, weights, alpha, method)


@dataclass(frozen=True)
class RatingSummary(Result):
    """A rating question: distribution over the scale, mean and top-box share."""

    distribution: FrequencyTable
    mean: MeanEstimate
    top_box: ProportionEstimate
    top: tuple[Hashable, ...]


def rating_summary(
    values: Answers,
    scale: Sequence[Hashable],
    top: Sequence[Hashable] | None = None,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> RatingSummary:
    """Distribution (`frequencies` over ``scale``), mean (`mean_ci`) and top box (`top_box`).

    ``scale`` lists the points in order, lowest first; ``top`` defaults to the two highest
    (top-2-box). Values outside the scale raise `UnknownCategoryError`.
    """
    chosen = tuple(scale[-2:]) if top is None else tuple(top)
    return RatingSummary(
        distribution=frequencies(values, scale, weights, alpha, method),
        mean=mean_ci(values, weights, alpha),
        top_box=top_box(values, chosen, weights, alpha, method),
        top=chosen,
    )


@dataclass(frozen=True)
class MatrixRow(Result):
    """One statement of a matrix question."""

    row: Hashable
    summary: RatingSummary


def matrix_summary(
    answers: pd.DataFrame,
    scale: Sequence[Hashable],
    top: Sequence[Hashable] | None = None,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> tuple[MatrixRow, ...]:
    """`rating_summary` for every column of a matrix (grid) question, in column order.

    Each row has its own base: a respondent who skipped one statement still counts in the
    others.
    """
    return tuple(
        MatrixRow(column, rating_summary(answers[column], scale, top, weights, alpha, method))
        for column in answers.columns
    )


@dataclass(frozen=True)
class NetPromoterScore(Result):
    """Net Promoter Score on the -100..100 scale with its interval and the three shares (%)."""

    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    promoters_percent: float | None
    passives_percent: float | None
    detractors_percent: float | None
    n_unweighted: int
    n_missing: int
    method: str
    alpha: float
    note: str | None = None


def net_promoter_score(
    values: Answers,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
) -> NetPromoterScore:
    """Net Promoter Score of a 0-10 "would you recommend" answer, with a Wald interval.

    Parameters
    ----------
    values : Series
        Answers 0..10; missing values are left out; other values raise `UnknownCategoryError`.
    weights : array-like, optional
        Sampling weights.
    alpha : float
        1 - alpha is the confidence level.

    Returns
    -------
    NetPromoterScore

    Notes
    -----
    Promoters answer 9-10, detractors 0-6. NPS = 100 (p_P - p_D) is 100 times the mean of the
    score s = +1 / 0 / -1. Unweighted, its variance is the multinomial one
    Var = (p_P + p_D - (p_P - p_D)^2) / n (Rocks 2016, the Wald interval), and the interval is
    NPS +/- z 100 sqrt(Var), clipped to [-100, 100]. Weighted, the se is the linearised se of
    the weighted mean of s as in `mean_ci` (which carries the factor n / (n - 1)). The Wald
    interval has zero width when every answer falls in one group and under-covers for small n
    or extreme scores (Rocks 2016 compares adjusted intervals).

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. Harvard Business Review 81(12).
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician 70(4), 365-372.
    """
    check_alpha(alpha)
    y = _numeric(values)
    present = ~np.isnan(y)
    outside = present & ~np.isin(y, np.arange(11))
    if outside.any():
        raise UnknownCategoryError(
            [
                Problem(
                    "NPS answers",
                    f"{int(outside.sum())} values outside 0..10 "
                    f"(e.g. {y[outside][0]:g}); expected whole numbers 0 to 10",
                )
            ]
        )
    w = weight_array(weights, y.shape[0])
    valid = present if w is None else present & (w > 0)
    score = np.where(y[valid] >= 9, 1.0, np.where(y[valid] <= 6, -1.0, 0.0))
    wv = np.ones(score.shape[0]) if w is None else w[valid]
    n = int(score.shape[0])
    total = float(wv.sum())
    if n == 0 or total <= 0:
        undefined = (None,) * 7
        missing = int((~present).sum())
        return NetPromoterScore(*undefined, 0, missing, "wald", alpha, "no valid answers")
    shares = [float(wv[score == s].sum()) / total for s in (1.0, 0.0, -1.0)]
    nps = shares[0] - shares[2]
    if w is None:
        se = float(np.sqrt(max(shares[0] + shares[2] - nps**2, 0.0) / n))
    else:
        se = _mean_parts(score, wv)[1]
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return NetPromoterScore(
        estimate=100 * nps,
        se=nan_to_none(100 * se),
        ci_low=nan_to_none(max(100 * (nps - half), -100.0)),
        ci_high=nan_to_none(min(100 * (nps + half), 100.0)),
        promoters_percent=100 * shares[0],
        passives_percent=100 * shares[1],
        detractors_percent=100 * shares[2],
        n_unweighted=n,
        n_missing=int((~present).sum()),
        method="wald" if w is None else "wald, linearised se",
        alpha=alpha,
        note=None if np.isfinite(se) else "one answer: no interval",
    )


@dataclass(frozen=True)
class NumericSummary(Result):
    """Numeric answer: mean with interval, and the five-number summary."""

    mean: MeanEstimate
    minimum: float | None
    q1: float | None
    median: float | None
    q3: float | None
    maximum: float | None
    quantile_method: str


def _weighted_quantiles(y: FloatArray, w: FloatArray, probs: FloatArray) -> FloatArray:
    """Inverse of the weighted empirical CDF: the smallest y with F(y) >= p."""
    order = np.argsort(y, kind="stable")
    cumulative = np.cumsum(w[order])
    # A relative tolerance keeps p = 0.5 on the lower value when F is exactly 0.5.
    at = np.searchsorted(cumulative, probs * cumulative[-1] * (1 - 1e-12), side="left")
    result: FloatArray = y[order][np.minimum(at, y.shape[0] - 1)]
    return result


def numeric_summary(
    values: Answers,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
) -> NumericSummary:
    """Mean (with interval, see `mean_ci`), minimum, quartiles, median and maximum.

    Notes
    -----
    Unweighted quartiles interpolate linearly between order statistics (``numpy.quantile``
    default, R type 7). Weighted quartiles are the inverse of the weighted empirical
    distribution function, the smallest value with cumulative weight share >= p, as
    ``survey::svyquantile(qrule = "math")``. All are None when there is no valid answer.
    """
    mean = mean_ci(values, weights, alpha)
    y = _numeric(values)
    w = weight_array(weights, y.shape[0])
    valid = ~np.isnan(y) if w is None else ~np.isnan(y) & (w > 0)
    probs = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    if not valid.any():
        points = np.full(5, np.nan)
    elif w is None:
        points = np.quantile(y[valid], probs)
    else:
        points = _weighted_quantiles(y[valid], w[valid], probs)
    low, q1, median, q3, high = (nan_to_none(p) for p in points)
    return NumericSummary(
        mean,
        low,
        q1,
        median,
        q3,
        high,
        quantile_method="linear (type 7)" if w is None else "inverse weighted ECDF",
    )


@dataclass(frozen=True)
class RankedItem(Result):
    """One item of a ranking question: mean rank (1 = first) and share ranked first."""

    item: Hashable
    mean_rank: MeanEstimate
    ranked_first: ProportionEstimate


def ranking_summary(
    ranks: pd.DataFrame,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
) -> tuple[RankedItem, ...]:
    """Mean rank and share ranked first for every item of a ranking question.

    ``ranks`` has one column per item holding the rank each respondent gave it (1 = most
    important), missing when the respondent did not rank it. Rows missing in every column did
    not answer and are left out. The mean rank of an item is over respondents who ranked it
    (`mean_ci`); the share ranked first is over all respondents who answered the question
    (`indicator_proportion`). Items come back sorted by mean rank, best first.
    """
    answered = ranks.notna().any(axis=1)
    items = []
    for item in ranks.columns:
        column = ranks[item]
        first = (column == 1).astype(object).where(answered)
        items.append(
            RankedItem(
                item,
                mean_ci(column, weights, alpha),
                indicator_proportion(first, weights, alpha, method),
            )
        )
    return tuple(
        sorted(items, key=lambda r: (r.mean_rank.estimate is None, r.mean_rank.estimate or 0))
    )


def ranking_from_counts(
    items: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]],
    answered: int,
    n_rows: int,
    alpha: float = 0.05,
    method: str = "wilson",
) -> tuple[RankedItem, ...]:
    """`ranking_summary` (unweighted) from counts: for each item its distinct ranks and how
    many respondents gave each, the number who answered the question (ranked any item) and the
    number of rows (respondents asked)."""
    ranked = []
    for item, (values, counts) in items.items():
        y = np.asarray(values, dtype=np.float64)
        c = np.asarray(counts, dtype=np.float64)
        given = int(c[~np.isnan(y)].sum())
        first = int(c[y == 1].sum())
        ranked.append(
            RankedItem(
                item,
                mean_from_counts(y, c, n_rows - given, alpha),
                indicator_from_counts(first, answered, alpha, method),
            )
        )
    return tuple(
        sorted(ranked, key=lambda r: (r.mean_rank.estimate is None, r.mean_rank.estimate or 0))
    )


def _distinct_counts(values: npt.ArrayLike, counts: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Distinct finite values in increasing order with their (positive) counts."""
    y = np.asarray(values, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if y.shape != c.shape:
        raise ValueError(f"got {y.shape} values for {c.shape} counts")
    keep = ~np.isnan(y) & (c > 0)
    order = np.argsort(y[keep], kind="stable")
    return y[keep][order], c[keep][order]


def mean_from_counts(
    values: npt.ArrayLike, counts: npt.ArrayLike, n_missing: int = 0, alpha: float = 0.05
) -> MeanEstimate:
    """`mean_ci` (unweighted) from distinct values and how many answers gave each: the counts
    are sufficient statistics, so the mean, sd, se and t interval are the same as on the
    answers themselves (up to rounding)."""
    check_alpha(alpha)
    y, c = _distinct_counts(values, counts)
    n = int(c.sum())
    mean = se = sd = low = high = float("nan")
    if n:
        mean = float(c @ y) / n
    if n > 1:
        sd = float(np.sqrt(float(c @ (y - mean) ** 2) / (n - 1)))
        se = sd / float(np.sqrt(n))
        half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
        low, high = mean - half, mean + half
    return MeanEstimate(
        estimate=nan_to_none(mean),
        se=nan_to_none(se),
        ci_low=nan_to_none(low),
        ci_high=nan_to_none(high),
        sd=nan_to_none(sd),
        n_unweighted=n,
        n_missing=n_missing,
        weighted_base=None,
        method="t",
        alpha=alpha,
        note=None if n > 1 else ("no valid answers" if n == 0 else "one answer: no interval"),
    )


def numeric_summary_from_counts(
    values: npt.ArrayLike, counts: npt.ArrayLike, n_missing: int = 0, alpha: float = 0.05
) -> NumericSummary:
    """`numeric_summary` (unweighted) from distinct values and their counts.

    The quartiles are the same linear interpolation between order statistics (R type 7): the
    j-th order statistic is the value whose cumulative count first exceeds j.
    """
    mean = mean_from_counts(values, counts, n_missing, alpha)
    y, c = _distinct_counts(values, counts)
    n = int(c.sum())
    points: list[float | None] = [None] * 5
    if n:
        cumulative = np.cumsum(c)
        position = (n - 1) * np.array([0.0, 0.25, 0.5, 0.75, 1.0])
        below = np.floor(position)
        fraction = position - below
        lower = y[np.searchsorted(cumulative, below, side="right")]
        upper = y[np.searchsorted(cumulative, np.minimum(below + 1, n - 1), side="right")]
        points = [nan_to_none(p) for p in lower + (upper - lower) * fraction]
    low, q1, median, q3, high = points
    return NumericSummary(mean, low, q1, median, q3, high, quantile_method="linear (type 7)")


def net_promoter_score_from_counts(
    values: npt.ArrayLike, counts: npt.ArrayLike, n_missing: int = 0, alpha: float = 0.05
) -> NetPromoterScore:
    """`net_promoter_score` (unweighted) from distinct answers 0..10 and their counts."""
    check_alpha(alpha)
    y, c = _distinct_counts(values, counts)
    outside = ~np.isin(y, np.arange(11))
    if outside.any():
        raise UnknownCategoryError(
            [
                Problem(
                    "NPS answers",
                    f"{int(c[outside].sum())} values outside 0..10 "
                    f"(e.g. {y[outside][0]:g}); expected whole numbers 0 to 10",
                )
            ]
        )
    n = int(c.sum())
    if n == 0:
        undefined = (None,) * 7
        return NetPromoterScore(*undefined, 0, n_missing, "wald", alpha, "no valid answers")
    promoters = float(c[y >= 9].sum()) / n
    detractors = float(c[y <= 6].sum()) / n
    passives = float(c[(y > 6) & (y < 9)].sum()) / n
    nps = promoters - detractors
    se = float(np.sqrt(max(promoters + detractors - nps**2, 0.0) / n))
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return NetPromoterScore(
        estimate=100 * nps,
        se=nan_to_none(100 * se),
        ci_low=nan_to_none(max(100 * (nps - half), -100.0)),
        ci_high=nan_to_none(min(100 * (nps + half), 100.0)),
        promoters_percent=100 * promoters,
        passives_percent=100 * passives,
        detractors_percent=100 * detractors,
        n_unweighted=n,
        n_missing=n_missing,
        method="wald",
        alpha=alpha,
        note=None if np.isfinite(se) else "one answer: no interval",
    )
