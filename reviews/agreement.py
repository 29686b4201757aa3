"""Agreement between experts who score the same suggestions: the two-way random-effects intraclass
correlation ICC(2,1) and Krippendorff's alpha. Pure numpy/scipy; rows are the rated suggestions
(targets, units), columns the experts (judges, coders), NaN where an expert gave no score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.errors import UnknownOptionError, check_alpha
from analysis.results import Result, nan_to_none

METRICS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class IntraclassCorrelation(Result):
    """ICC(2,1) with its 1 - alpha interval and the ANOVA mean squares it is built from.

    ``estimate`` is None (and ``note`` says why) when fewer than two targets or judges remain.
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n_targets: int
    n_judges: int
    bms: float | None
    wms: float | None
    jms: float | None
    ems: float | None
    method: str = "ICC(2,1)"
    note: str | None = None


@dataclass(frozen=True)
class KrippendorffAlpha(Result):
    """Krippendorff's alpha for one metric; None when no unit has two values or values never
    vary (expected disagreement 0)."""

    estimate: float | None
    metric: str
    n_units: int
    n_pairable: int
    note: str | None = None


def icc_2_1(ratings: npt.ArrayLike, alpha: float = 0.05) -> IntraclassCorrelation:
    """Shrout & Fleiss' ICC(2,1): each target rated by the same k judges, judges a random sample,
    reliability of a single judge's score (absolute agreement).

    Parameters
    ----------
    ratings : array (n targets x k judges)
        Scores; rows with a missing value (NaN) are dropped, because the two-way ANOVA needs a
        complete table.
    alpha : float
        The interval has coverage 1 - alpha.

    Returns
    -------
    IntraclassCorrelation

    Notes
    -----
    With the two-way ANOVA mean squares BMS (between targets), JMS (between judges) and EMS
    (residual), ``ICC(2,1) = (BMS - EMS) / (BMS + (k - 1) EMS + k (JMS - EMS) / n)`` (Shrout &
    Fleiss 1979, eq. for Case 2). The interval is their approximate F interval with
    Satterthwaite degrees of freedom (ibid., and McGraw & Wong 1996, Table 7, case 2A).

    References
    ----------
    Shrout, P. E., Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin 86(2), 420-428.
    McGraw, K. O., Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods 1(1), 30-46.
    """
    check_alpha(alpha)
    table = np.asarray(ratings, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"ratings must be a 2-d table (targets x judges); got {table.ndim} dims")
    table = table[~np.isnan(table).any(axis=1)]
    n, k = table.shape
    if n < 2 or k < 2:
        return IntraclassCorrelation(
            None, None, None, n, k, None, None, None, None, note="needs 2 targets and 2 judges"
        )
    grand = table.mean()
    ss_targets = k * ((table.mean(axis=1) - grand) ** 2).sum()
    ss_judges = n * ((table.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((table - grand) ** 2).sum()
    ss_error = ss_total - ss_targets - ss_judges
    bms = ss_targets / (n - 1)
    jms = ss_judges / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    wms = (ss_judges + ss_error) / (n * (k - 1))
    denominator = bms + (k - 1) * ems + k * (jms - ems) / n
    if denominator <= 0:
        return IntraclassCorrelation(
            None, None, None, n, k, bms, wms, jms, ems, note="all scores are equal"
        )
    icc = (bms - ems) / denominator
    low, high = _icc_2_1_interval(icc, bms, jms, ems, n, k, alpha)
    return IntraclassCorrelation(
        nan_to_none(icc), low, high, n, k, float(bms), float(wms), float(jms), float(ems)
    )


def _icc_2_1_interval(
    icc: float, bms: float, jms: float, ems: float, n: int, k: int, alpha: float
) -> tuple[float | None, float | None]:
    from scipy import stats  # loaded by the agreement pages, not by creating the app (issue 10)

    if ems <= 0:
        return None, None
    a = k * icc / (n * (1 - icc)) if icc < 1 else np.inf
    b = 1 + k * icc * (n - 1) / (n * (1 - icc)) if icc < 1 else np.inf
    if not np.isfinite(a) or not np.isfinite(b):
        return None, None
    # Satterthwaite's degrees of freedom for the denominator (McGraw & Wong 1996, Table 7).
    v = (a * jms + b * ems) ** 2 / ((a * jms) ** 2 / (k - 1) + (b * ems) ** 2 / ((n - 1) * (k - 1)))
    f_upper = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f_lower = stats.f.ppf(1 - alpha / 2, v, n - 1)
    low = n * (bms - f_upper * ems) / (f_upper * (k * jms + (k * n - k - n) * ems) + n * bms)
    high = n * (f_lower * bms - ems) / (k * jms + (k * n - k - n) * ems + n * f_lower * bms)
    return nan_to_none(low), nan_to_none(high)


def krippendorff_alpha(ratings: npt.ArrayLike, metric: str = "ordinal") -> KrippendorffAlpha:
    """Krippendorff's alpha, ``1 - D_o / D_e``, for any number of coders and missing values.

    Parameters
    ----------
    ratings : array (units x coders)
        Numeric values; NaN where a coder gave none. Units with fewer than two values are not
        pairable and are left out.
    metric : {"nominal", "ordinal", "interval", "ratio"}
        The difference function. ``ordinal`` (the default, right for 1-5 rubric scores) uses
        ``delta^2(c, k) = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` over the values that occur;
        ``interval`` ``(c - k)^2``; ``ratio`` ``((c - k) / (c + k))^2`` (Krippendorff 2011, E).

    Returns
    -------
    KrippendorffAlpha

    Notes
    -----
    Built on the coincidence matrix ``o_ck = sum_u (pairs c-k in unit u) / (m_u - 1)`` with
    marginals ``n_c`` and ``n = sum n_c``; ``alpha = 1 - (n - 1) sum o_ck delta^2 /
    sum n_c n_k delta^2`` (Krippendorff 2011, sections C and E).

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
    """
    if metric not in METRICS:
        raise UnknownOptionError.for_choice("metric", metric, list(METRICS))
    table = np.asarray(ratings, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"ratings must be a 2-d table (units x coders); got {table.ndim} dims")
    present = ~np.isnan(table)
    pairable = present.sum(axis=1) >= 2
    table, present = table[pairable], present[pairable]
    if len(table) == 0:
        return KrippendorffAlpha(None, metric, 0, 0, note="no unit has two values")
    values = np.unique(table[present])
    index = np.searchsorted(values, np.where(present, table, values[0]))
    # counts[u, c]: how many coders gave value c to unit u.
    counts = np.zeros((len(table), len(values)))
    units, coders = np.nonzero(present)
    np.add.at(counts, (units, index[units, coders]), 1)
    m = counts.sum(axis=1)
    # Pairs of different coders within a unit: n_uc n_uk off the diagonal, n_uc (n_uc - 1) on it.
    coincidence = (counts[:, :, None] * counts[:, None, :]) / (m - 1)[:, None, None]
    coincidence = coincidence.sum(axis=0) - np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    delta = _delta_squared(values, n_c, metric)
    expected = (np.outer(n_c, n_c) * delta).sum()
    if expected == 0:
        return KrippendorffAlpha(
            None, metric, len(table), int(n), note="every value is the same; alpha undefined"
        )
    estimate = 1 - (n - 1) * (coincidence * delta).sum() / expected
    return KrippendorffAlpha(nan_to_none(estimate), metric, len(table), int(n))


def _delta_squared(
    values: npt.NDArray[np.float64], n_c: npt.NDArray[np.float64], metric: str
) -> npt.NDArray[np.float64]:
    if metric == "nominal":
        return 1.0 - np.eye(len(values))
    if metric == "interval":
        return np.subtract.outer(values, values) ** 2
    if metric == "ratio":
        total = np.add.outer(values, values)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(total == 0, 0.0, np.subtract.outer(values, values) / total)
        return np.asarray(ratio**2, dtype=np.float64)
    cumulative = np.cumsum(n_c)
    ranks = np.arange(len(values))
    low, high = np.minimum.outer(ranks, ranks), np.maximum.outer(ranks, ranks)
    # sum_{g=c..k} n_g for every pair of values c <= k.
    between = cumulative[high] - cumulative[low] + n_c[low]
    return np.asarray((between - (n_c[:, None] + n_c[None, :]) / 2) ** 2, dtype=np.float64)
