"""Design-based estimates for stratified and clustered samples: means, proportions and totals
with Taylor-linearisation standard errors (ultimate-cluster variance), finite population
correction, design effect and a margin of error that includes it."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis.categories import FloatArray
from analysis.errors import UnknownOptionError, check_alpha, check_columns
from analysis.results import Result, nan_to_none
from analysis.variance import (
    Calibration,
    PreparedDesign,
    SamplingDesign,
    active_units,
    cell_share_covariance,
    prepare_design,
    psu_totals,
    stratified_covariance,
)

__all__ = [
    "DEFF_KINDS",
    "INTERVALS",
    "PROPORTION_METHODS",
    "Calibration",
    "DesignEstimate",
    "SamplingDesign",
    "design_mean",
    "design_proportion",
    "design_shares",
    "design_total",
    "prepared_estimate",
]

#: Design-based proportion intervals, as ``survey::svyciprop(method=)``: logit, arcsine,
#: Korn-Graubard (``"beta"``) and Wald (``"mean"``).
PROPORTION_METHODS = ("logit", "arcsine", "korn-graubard", "wald")
#: Reference variance of the design effect: simple random sampling without replacement
#: (``survey``'s ``deff = TRUE``, the default) or with replacement (``deff = "replace"``).
DEFF_KINDS = ("without-replacement", "with-replacement")
#: Reference distribution of the intervals: t with the design's degrees of freedom, or normal.
INTERVALS = ("t", "normal")


def check_design_options(method: str, deff: str, interval: str) -> None:
    """Refuse unknown option names, listing the accepted ones for each."""
    problems = []
    for option, value, allowed in (
        ("method", method, PROPORTION_METHODS),
        ("deff", deff, DEFF_KINDS),
        ("interval", interval, INTERVALS),
    ):
        if value not in allowed:
            problems.extend(UnknownOptionError.for_choice(option, value, allowed).problems)
    if problems:
        raise UnknownOptionError(problems)


@dataclass(frozen=True)
class DesignEstimate(Result):
    """A design-based estimate with its linearised standard error.

    ``margin_of_error`` is the half-width t(df) x se (or z x se for normal intervals; it
    includes the design effect, since se is the design-based one); ``design_effect`` is
    var(design) / var(simple random sampling of the same n, without replacement from a
    population of the weighted size unless ``deff_kind`` says with replacement);
    ``effective_n`` is n / design effect. ``calibrated`` says whether the variance used the
    calibration residuals. Fields are None when undefined; ``note`` says why.
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
    effective_n: float | None = None
    deff_kind: str = "without-replacement"
    interval: str = "t"
    calibrated: bool = False


def _values(frame: pd.DataFrame, variable: str, domain: pd.Series[bool] | None) -> FloatArray:
    check_columns(list(frame.columns), [variable])
    y = pd.to_numeric(frame[variable], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if domain is not None:
        y = np.where(np.asarray(domain, dtype=bool), y, np.nan)
    return y


def _estimate(
    statistic: str,
    y: FloatArray,
    design: PreparedDesign,
    alpha: float,
    method: str,
    deff: str = "without-replacement",
    interval: str = "t",
) -> DesignEstimate:
    """Mean / proportion / total of y (NaN = not in the domain) with ultimate-cluster variance."""
    check_alpha(alpha)
    check_design_options(method if statistic == "proportion" else "wald", deff, interval)
    active = ~np.isnan(y) & (design.weights > 0)
    w = np.where(active, design.weights, 0.0)
    y0 = np.where(active, y, 0.0)
    total_w, n = float(w.sum()), int(active.sum())
    n_psu, n_strata = active_units(design, active)
    df = n_psu - n_strata
    common: dict[str, Any] = {
        "statistic": statistic,
        "df": df,
        "n_unweighted": n,
        "weighted_base": total_w,
        "method": method,
        "alpha": alpha,
        "deff_kind": deff,
        "interval": interval,
        "calibrated": design.calibration_x is not None,
    }
    if n == 0:
        return DesignEstimate(
            **common,
            estimate=None,
            se=None,
            ci_low=None,
            ci_high=None,
            margin_of_error=None,
            design_effect=None,
            n_psu=0,
            n_strata=0,
            note="no valid answers",
        )
    mean = float(w @ y0) / total_w
    if statistic == "total":
        estimate, z = float(w @ y0), w * y0
    else:
        estimate, z = mean, w * (y0 - mean) / total_w
    var = float(stratified_covariance(design, psu_totals(design, z[:, None]))[0, 0])
    se = float(np.sqrt(max(var, 0.0)))
    design_effect, note = _design_effect(statistic, var, w, y0, mean, n, deff)
    low = high = moe = float("nan")
    if df > 0 or interval == "normal":
        q = _quantile(alpha, df, interval)
        moe = q * se
        low, high = estimate - moe, estimate + moe
        if statistic == "proportion":
            low, high, note = _proportion_bounds(estimate, se, q, method, alpha, (n, df))
    else:
        note = "the design has no degrees of freedom (one PSU per stratum): no interval"
    return DesignEstimate(
        **common,
        estimate=estimate,
        se=se,
        ci_low=nan_to_none(low),
        ci_high=nan_to_none(high),
        margin_of_error=nan_to_none(moe),
        design_effect=nan_to_none(design_effect),
        effective_n=_effective_n(n, design_effect),
        n_psu=n_psu,
        n_strata=n_strata,
        note=note,
    )


def _effective_n(n: int, design_effect: float) -> float | None:
    """n / design effect; None when the design fixes the estimate (a stratum's or a calibration
    margin's share: design effect 0 up to rounding), where no sample size is meant."""
    if not np.isfinite(design_effect) or design_effect <= 1e-9:
        return None
    return n / design_effect


def _quantile(alpha: float, df: int, interval: str) -> float:
    if interval == "normal":
        return float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.t.ppf(1 - alpha / 2, df))


def _design_effect(
    statistic: str,
    var: float,
    w: FloatArray,
    y0: FloatArray,
    mean: float,
    n: int,
    kind: str,
) -> tuple[float, str | None]:
    """var / the variance under simple random sampling of n, as ``survey::svymean(deff=)``.

    The reference is svyvar / n (with replacement) or svyvar (N - n) / (N n) without, N the sum
    of the weights; without replacement it is undefined (NaN, with a note) when the weights do
    not add up to more than n, i.e. are not scaled to a population.
    """
    total_w = float(w.sum())
    # svyvar: weighted variance with divisor (n - 1) / n.
    s2 = float(w @ (y0 - mean) ** 2) / total_w * n / (n - 1) if n > 1 else float("nan")
    srs = s2 / n * (total_w**2 if statistic == "total" else 1.0)
    if kind == "without-replacement":
        if total_w <= n:
            return float("nan"), (
                "the weights add up to no more than the sample size, so the design effect "
                "without replacement is undefined; scale them to the population"
            )
        srs *= (total_w - n) / total_w
    return (var / srs if srs > 0 else float("nan")), None


def _proportion_bounds(
    p: float, se: float, q: float, method: str, alpha: float, sizes: tuple[int, int]
) -> tuple[float, float, str | None]:
    """The interval of a design-based proportion, as ``survey::svyciprop``; ``q`` is the t(df)
    or normal quantile, ``sizes`` the number of answers and the degrees of freedom."""
    if method == "wald":
        # svyciprop(method = "mean"): p +/- q se, which can leave [0, 1]; it is clipped there
        # and says so.
        low, high = p - q * se, p + q * se
        clipped = low < 0 or high > 1
        note = "the Wald interval left 0-100 % and was clipped" if clipped else None
        return max(low, 0.0), min(high, 1.0), note
    if method == "korn-graubard":
        return _korn_graubard(p, se, alpha, sizes)
    if p <= 0 or p >= 1:
        return (
            float("nan"),
            float("nan"),
            f"estimate is 0 or 1: the {method} interval is undefined",
        )
    if method == "arcsine":
        # svyciprop(method = "asin"): sin^2 of asin(sqrt p) +/- q se / (2 sqrt(p (1 - p))).
        centre, half = np.arcsin(np.sqrt(p)), q * se / (2 * np.sqrt(p * (1 - p)))
        low = float(np.sin(max(centre - half, 0.0)) ** 2)
        high = float(np.sin(min(centre + half, np.pi / 2)) ** 2)
        return low, high, None
    # svyciprop(method = "logit"): interval on the logit scale, se by the delta method.
    centre, half = np.log(p / (1 - p)), q * se / (p * (1 - p))
    low, high = 1 / (1 + np.exp(-(centre - half))), 1 / (1 + np.exp(-(centre + half)))
    return float(low), float(high), None


def _korn_graubard(
    p: float, se: float, alpha: float, sizes: tuple[int, int]
) -> tuple[float, float, str | None]:
    """Korn & Graubard (1998): the Clopper-Pearson interval on the effective n p(1-p)/var,
    scaled by (t(n-1) / t(df))^2, as ``survey::svyciprop(method = "beta")``."""
    n, df = sizes
    if se <= 0 or p <= 0 or p >= 1:
        return float("nan"), float("nan"), "estimate is 0 or 1: no effective sample size"
    n_eff = p * (1 - p) / se**2
    if n > 1 and df > 0:
        n_eff *= (stats.t.ppf(alpha / 2, n - 1) / stats.t.ppf(alpha / 2, df)) ** 2
    low = float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
    high = float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
    return low, high, None


def design_mean(
    frame: pd.DataFrame,
    variable: str,
    design: SamplingDesign,
    *,
    domain: pd.Series[bool] | None = None,
    alpha: float = 0.05,
    deff: str = "without-replacement",
    interval: str = "t",
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
    deff : {"without-replacement", "with-replacement"}
        The simple random sample the design effect compares with (default without
        replacement from a population of the weighted size, R's ``deff = TRUE``).
    interval : {"t", "normal"}
        t with the design's degrees of freedom (default, as R ``survey``) or normal quantiles.

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
    PSUs minus strata among rows that count (``survey::degf``) and the interval uses t(df)
    unless ``interval="normal"``. The design effect compares with simple random sampling of the
    same n without replacement (``survey::svymean(deff = TRUE)``: svyvar (N - n) / (N n)) or
    with replacement (``deff = "replace"``: svyvar / n). Without clusters each row is its own
    PSU; without strata there is one stratum. With a calibration (`Calibration`) the
    linearised values are first replaced by their calibration residuals
    (`analysis.variance.calibration_residuals`).

    References
    ----------
    Wolter, K. M. (2007). Introduction to Variance Estimation, 2nd ed. Springer, chapter 6.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, chapters 2-3.
    Kish, L. (1965). Survey Sampling. Wiley, section 8.2 (design effect).
    """
    y = _values(frame, variable, domain)
    return _estimate("mean", y, prepare_design(frame, design), alpha, "taylor", deff, interval)


def design_total(
    frame: pd.DataFrame,
    variable: str,
    design: SamplingDesign,
    *,
    domain: pd.Series[bool] | None = None,
    alpha: float = 0.05,
    deff: str = "without-replacement",
    interval: str = "t",
) -> DesignEstimate:
    """Weighted total (sum of w y) of a numeric column with a design-based standard error.

    Parameters, returns and the variance formula as in `design_mean`; the linearised value is
    z_i = w_i y_i, and the design effect compares with W^2 s^2 / n.
    """
    y = _values(frame, variable, domain)
    return _estimate("total", y, prepare_design(frame, design), alpha, "taylor", deff, interval)


def design_proportion(
    frame: pd.DataFrame,
    variable: str,
    category: Hashable,
    design: SamplingDesign,
    *,
    domain: pd.Series[bool] | None = None,
    alpha: float = 0.05,
    method: str = "logit",
    deff: str = "without-replacement",
    interval: str = "t",
) -> DesignEstimate:
    """Share of answers equal to ``category`` with a design-based standard error.

    Parameters
    ----------
    category : hashable
        The answer whose share is estimated; other non-missing answers are the complement.
    method : {"logit", "arcsine", "korn-graubard", "wald"}
        As ``survey::svyciprop``: ``logit`` (default) is the t interval on the logit scale
        with the delta-method se(p) / (p (1 - p)), back-transformed, so it stays inside (0, 1)
        and is undefined (None) when p is 0 or 1; ``arcsine`` the same on the asin(sqrt p)
        scale (``"asin"``); ``korn-graubard`` the Clopper-Pearson interval on the effective
        sample size p (1 - p) / se^2 with Korn & Graubard's df adjustment (``"beta"``), good
        for shares near 0 or 1; ``wald`` p +/- t se (``"mean"``), which can leave [0, 1]: it
        is then clipped, and ``note`` says so.

    Other parameters, returns and the variance formula as in `design_mean` (the proportion is
    the mean of the 0/1 indicator); ``margin_of_error`` is t x se.

    References
    ----------
    Lumley, T. (2010). Complex Surveys. Wiley, section 2.3.1 (``svyciprop``).
    Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. Survey Methodology 24,
    193-201.
    """
    check_design_options(method, deff, interval)
    check_columns(list(frame.columns), [variable])
    answers = frame[variable]
    y = np.where(
        answers.isna().to_numpy(),
        np.nan,
        (answers == category).to_numpy(dtype=np.float64),
    )
    if domain is not None:
        y = np.where(np.asarray(domain, dtype=bool), y, np.nan)
    return _estimate("proportion", y, prepare_design(frame, design), alpha, method, deff, interval)


def prepared_estimate(
    design: PreparedDesign,
    y: FloatArray,
    statistic: str = "mean",
    *,
    alpha: float = 0.05,
    method: str = "logit",
    deff: str = "without-replacement",
    interval: str = "t",
) -> DesignEstimate:
    """`design_mean` / `design_total` / `design_proportion` of values ``y`` (one per row of the
    prepared design; NaN = not in the domain or not answered), for callers that estimate many
    variables on one design (a campaign summary), so the design is resolved once. For a
    proportion ``y`` is the 0/1 indicator."""
    if statistic not in ("mean", "total", "proportion"):
        raise UnknownOptionError.for_choice("statistic", statistic, ("mean", "total", "proportion"))
    return _estimate(
        statistic,
        np.asarray(y, dtype=np.float64),
        design,
        alpha,
        method if statistic == "proportion" else "taylor",
        deff,
        interval,
    )


def design_shares(
    design: PreparedDesign,
    cell: npt.NDArray[np.int64],
    n_cells: int,
    *,
    alpha: float = 0.05,
    method: str = "logit",
    deff: str = "without-replacement",
    interval: str = "t",
) -> tuple[DesignEstimate, ...]:
    """The design-based share of every category 0..n_cells-1 of one answer per row (``cell``,
    -1 = not answered, its PSU kept), each as `design_proportion` gives it, from one pass:
    the shares' covariance is `analysis.variance.cell_share_covariance`."""
    check_alpha(alpha)
    check_design_options(method, deff, interval)
    valid = (cell >= 0) & (design.weights > 0)
    w = np.where(valid, design.weights, 0.0)
    n, total_w = int(valid.sum()), float(w.sum())
    p, cov = cell_share_covariance(design, np.where(valid, cell, -1), n_cells)
    n_psu, n_strata = active_units(design, valid)
    df = n_psu - n_strata
    out = []
    for c in range(n_cells):
        if n == 0:
            y = np.full(cell.shape[0], np.nan)
            out.append(_estimate("proportion", y, design, alpha, method, deff, interval))
            continue
        share, var = float(p[c]), float(max(cov[c, c], 0.0))
        out.append(
            _share_estimate(
                share,
                var,
                (n, n_psu, n_strata, df, total_w),
                design,
                alpha,
                (method, deff, interval),
            )
        )
    return tuple(out)


def _share_estimate(
    p: float,
    var: float,
    sizes: tuple[int, int, int, int, float],
    design: PreparedDesign,
    alpha: float,
    options: tuple[str, str, str],
) -> DesignEstimate:
    """A proportion from its estimate and design variance, as `_estimate` finishes one."""
    n, n_psu, n_strata, df, total_w = sizes
    method, deff, interval = options
    se = float(np.sqrt(var))
    # svyvar of a 0/1 variable is p (1 - p) n / (n - 1).
    srs = p * (1 - p) / (n - 1) if n > 1 else float("nan")
    note = None
    if deff == "without-replacement":
        if total_w <= n:
            srs, note = (
                float("nan"),
                (
                    "the weights add up to no more than the sample size, so the design effect "
                    "without replacement is undefined; scale them to the population"
                ),
            )
        else:
            srs *= (total_w - n) / total_w
    design_effect = var / srs if srs > 0 else float("nan")
    low = high = moe = float("nan")
    if df > 0 or interval == "normal":
        q = _quantile(alpha, df, interval)
        moe = q * se
        low, high, bound_note = _proportion_bounds(p, se, q, method, alpha, (n, df))
        note = bound_note or note
    else:
        note = "the design has no degrees of freedom (one PSU per stratum): no interval"
    return DesignEstimate(
        statistic="proportion",
        estimate=p,
        se=se,
        ci_low=nan_to_none(low),
        ci_high=nan_to_none(high),
        margin_of_error=nan_to_none(moe),
        design_effect=nan_to_none(design_effect),
        effective_n=_effective_n(n, design_effect),
        df=df,
        n_unweighted=n,
        n_psu=n_psu,
        n_strata=n_strata,
        weighted_base=total_w,
        method=method,
        alpha=alpha,
        note=note,
        deff_kind=deff,
        interval=interval,
        calibrated=design.calibration_x is not None,
    )
