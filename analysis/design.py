"""Design-based estimates for stratified and clustered samples: means, proportions and totals
with Taylor-linearisation standard errors (ultimate-cluster variance), finite population
correction, design effect and a margin of error that includes it."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.categories import FloatArray
from analysis.errors import UnknownOptionError, check_alpha, check_columns
from analysis.results import Result, nan_to_none
from analysis.variance import (
    PreparedDesign,
    SamplingDesign,
    active_units,
    prepare_design,
    psu_totals,
    stratified_covariance,
)

__all__ = [
    "PROPORTION_METHODS",
    "DesignEstimate",
    "SamplingDesign",
    "design_mean",
    "design_proportion",
    "design_total",
]

PROPORTION_METHODS = ("logit", "wald")


@dataclass(frozen=True)
class DesignEstimate(Result):
    """A design-based estimate with its linearised standard error.

    ``margin_of_error`` is the half-width t(df) x se (it includes the design effect, since se is
    the design-based one); ``design_effect`` is var(design) / var(simple random sampling with
    replacement of the same n). Fields are None when undefined; ``note`` says why.
    """

    statistic: str
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    margin_of_error: float | None
    design_effect: float | None
    df: int
    n_unweighted: int
    n_psu: int
    n_strata: int
    weighted_base: float
    method: str
    alpha: float
    note: str | None = None


def _values(frame: pd.DataFrame, variable: str, domain: pd.Series[bool] | None) -> FloatArray:
    check_columns(list(frame.columns), [variable])
    y = pd.to_numeric(frame[variable], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if domain is not None:
        y = np.where(np.asarray(domain, dtype=bool), y, np.nan)
    return y


def _estimate(
    statistic: str, y: FloatArray, design: PreparedDesign, alpha: float, method: str
) -> DesignEstimate:
    """Mean / proportion / total of y (NaN = not in the domain) with ultimate-cluster variance."""
    check_alpha(alpha)
    active = ~np.isnan(y) & (design.weights > 0)
    w = np.where(active, design.weights, 0.0)
    y0 = np.where(active, y, 0.0)
    total_w, n = float(w.sum()), int(active.sum())
    n_psu, n_strata = active_units(design, active)
    df = n_psu - n_strata
    empty = DesignEstimate(
        statistic,
        None,
        None,
        None,
        None,
        None,
        None,
        df,
        n,
        0,
        0,
        total_w,
        method,
        alpha,
        "no valid answers",
    )
    if n == 0:
        return empty
    mean = float(w @ y0) / total_w
    if statistic == "total":
        estimate, z = float(w @ y0), w * y0
    else:
        estimate, z = mean, w * (y0 - mean) / total_w
    var = float(stratified_covariance(design, psu_totals(design, z[:, None]))[0, 0])
    se = float(np.sqrt(max(var, 0.0)))
    # svyvar: weighted variance with divisor (n - 1) / n; SRS-with-replacement variance of the
    # mean is svyvar / n and of the total W^2 svyvar / n (survey::svymean(deff = "replace")).
    s2 = float(w @ (y0 - mean) ** 2) / total_w * n / (n - 1) if n > 1 else float("nan")
    srs = s2 / n * (total_w**2 if statistic == "total" else 1.0)
    deff = var / srs if srs > 0 else float("nan")
    note = None
    low = high = moe = float("nan")
    if df > 0:
        t = float(stats.t.ppf(1 - alpha / 2, df))
        moe = t * se
        low, high = estimate - moe, estimate + moe
        if statistic == "proportion":
            low, high, note = _proportion_bounds(estimate, se, t, method)
    else:
        note = "the design has no degrees of freedom (one PSU per stratum): no interval"
    return DesignEstimate(
        statistic=statistic,
        estimate=estimate,
        se=se,
        ci_low=nan_to_none(low),
        ci_high=nan_to_none(high),
        margin_of_error=nan_to_none(moe),
        design_effect=nan_to_none(deff),
        df=df,
        n_unweighted=n,
        n_psu=n_psu,
        n_strata=n_strata,
        weighted_base=total_w,
        method=method,
        alpha=alpha,
        note=note,
    )


def _proportion_bounds(
    p: float, se: float, t: float, method: str
) -> tuple[float, float, str | None]:
    if method == "wald":
        return max(p - t * se, 0.0), min(p + t * se, 1.0), None
    if p <= 0 or p >= 1:
        return (
            float("nan"),
            float("nan"),
            "estimate is 0 or 1: the logit interval is undefined",
        )
    # svyciprop(method = "logit"): interval on the logit scale, se by the delta method.
    centre, half = np.log(p / (1 - p)), t * se / (p * (1 - p))
    low, high = 1 / (1 + np.exp(-(centre - half))), 1 / (1 + np.exp(-(centre + half)))
    return float(low), float(high), None


def design_mean(
    frame: pd.DataFrame,
    variable: str,
    design: SamplingDesign,
    *,
    domain: pd.Series[bool] | None = None,
    alpha: float = 0.05,
) -> DesignEstimate:
    """Weighted mean of a numeric column with a design-based standard error.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent, holding ``variable`` and the design columns.
    variable : str
        Numeric column; missing values are left out (their PSU stays in the design).
    design : SamplingDesign
        Columns holding weights, strata, clusters and fpc.
    domain : boolean Series, optional
        Estimate for a subpopulation (a district, an age group) with the full design.
    alpha : float
        1 - alpha is the confidence level.

    Returns
    -------
    DesignEstimate

    Notes
    -----
    Taylor linearisation with the ultimate-cluster approximation (Wolter 2007, ch. 6): with
    linearised values z_i (for the mean z_i = w_i (y_i - ybar) / sum w; for the total
    z_i = w_i y_i), PSU totals Z_hj and n_h PSUs in stratum h,

        var = sum_h (1 - f_h) n_h / (n_h - 1) sum_j (Z_hj - Zbar_h)^2,

    which is ``survey::svymean`` / ``svytotal`` (Lumley 2010, ``svyrecvar``). Rows outside
    ``domain`` or with a missing value keep their PSU with z = 0 (domain estimation, as R's
    ``subset``), so a PSU without respondents still counts in n_h. Degrees of freedom are
    PSUs minus strata among rows that count (``survey::degf``) and the interval uses t(df).
    The design effect compares with simple random sampling with replacement of the same n
    (``deff = "replace"``). Without clusters each row is its own PSU; without strata there is
    one stratum.

    References
    ----------
    Wolter, K. M. (2007). Introduction to Variance Estimation, 2nd ed. Springer, chapter 6.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, chapters 2-3.
    Kish, L. (1965). Survey Sampling. Wiley, section 8.2 (design effect).
    """
    y = _values(frame, variable, domain)
    return _estimate("mean", y, prepare_design(frame, design), alpha, "taylor")


def design_total(
    frame: pd.DataFrame,
    variable: str,
    design: SamplingDesign,
    *,
    domain: pd.Series[bool] | None = None,
    alpha: float = 0.05,
) -> DesignEstimate:
    """Weighted total (sum of w y) of a numeric column with a design-based standard error.

    Parameters, returns and the variance formula as in `design_mean`; the linearised value is
    z_i = w_i y_i, and the design effect compares with W^2 s^2 / n.
    """
    y = _values(frame, variable, domain)
    return _estimate("total", y, prepare_design(frame, design), alpha, "taylor")


def design_proportion(
    frame: pd.DataFrame,
    variable: str,
    category: Hashable,
    design: SamplingDesign,
    *,
    domain: pd.Series[bool] | None = None,
    alpha: float = 0.05,
    method: str = "logit",
) -> DesignEstimate:
    """Share of answers equal to ``category`` with a design-based standard error.

    Parameters
    ----------
    category : hashable
        The answer whose share is estimated; other non-missing answers are the complement.
    method : {"logit", "wald"}
        ``logit`` (default, as ``survey::svyciprop``): t interval on the logit scale with the
        delta-method se(p) / (p (1 - p)), back-transformed, so it stays inside (0, 1) and is
        undefined (None) when p is 0 or 1; ``wald``: p +/- t se, clipped to [0, 1].

    Other parameters, returns and the variance formula as in `design_mean` (the proportion is
    the mean of the 0/1 indicator); ``margin_of_error`` is t x se.

    References
    ----------
    Lumley, T. (2010). Complex Surveys. Wiley, section 2.3.1 (``svyciprop``).
    """
    if method not in PROPORTION_METHODS:
        raise UnknownOptionError.for_choice("method", method, PROPORTION_METHODS)
    check_columns(list(frame.columns), [variable])
    answers = frame[variable]
    y = np.where(
        answers.isna().to_numpy(),
        np.nan,
        (answers == category).to_numpy(dtype=np.float64),
    )
    if domain is not None:
        y = np.where(np.asarray(domain, dtype=bool), y, np.nan)
    return _estimate("proportion", y, prepare_design(frame, design), alpha, method)
