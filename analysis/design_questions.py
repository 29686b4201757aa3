"""Design-based estimates of a summary's questions: the shares of a single-choice question, the
mean and satisfaction rate of a rating, the options of a multiple-choice question, the mean of
a number and the Net Promoter Score, each with its Taylor-linearisation standard error,
interval, design effect and effective n on the campaign's `AnalysisDesign`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from analysis.categories import FloatArray
from analysis.design import DesignEstimate, design_shares, prepared_estimate
from analysis.proportions import ProportionEstimate
from analysis.results import nan_to_none
from analysis.scales import MeanEstimate, NetPromoterScore
from analysis.summary_types import ChoiceRow
from analysis.survey_design import AnalysisDesign
from analysis.variance import cell_share_covariance, design_df

Codes = npt.NDArray[np.int64]


def share_estimates(
    design: AnalysisDesign, codes: Codes, n_categories: int, alpha: float
) -> tuple[DesignEstimate, ...]:
    """The share of every category (codes -1: no answer), as `analysis.design.design_shares`."""
    o = design.options
    return design_shares(
        design.prepared,
        codes.astype(np.int64),
        n_categories,
        alpha=alpha,
        method=o.proportion_ci,
        deff=o.design_effect,
        interval=o.interval,
    )


def proportion_estimate(
    design: AnalysisDesign, indicator: FloatArray, alpha: float
) -> ProportionEstimate:
    """A 0/1 indicator's share (NaN: not answered) as the summary's `ProportionEstimate`."""
    o = design.options
    e = prepared_estimate(
        design.prepared,
        indicator,
        "proportion",
        alpha=alpha,
        method=o.proportion_ci,
        deff=o.design_effect,
        interval=o.interval,
    )
    return ProportionEstimate(
        estimate=e.estimate,
        ci_low=e.ci_low,
        ci_high=e.ci_high,
        count=e.weighted_base * (e.estimate or 0.0),
        nobs=e.weighted_base,
        method=e.method,
        alpha=alpha,
        n_unweighted=e.n_unweighted,
        note=e.note,
        se=e.se,
        design_effect=e.design_effect,
        effective_n=e.effective_n,
    )


def mean_estimate(
    design: AnalysisDesign, values: FloatArray, alpha: float, sd: float | None = None
) -> MeanEstimate:
    """The design-based mean of ``values`` (NaN: not answered) as a `MeanEstimate`."""
    o = design.options
    e = prepared_estimate(
        design.prepared, values, "mean", alpha=alpha, deff=o.design_effect, interval=o.interval
    )
    answered = ~np.isnan(values)
    if sd is None and e.n_unweighted > 1:
        w = design.weights[answered]
        y = values[answered]
        mean = float(w @ y) / float(w.sum())
        n = e.n_unweighted
        sd = float(np.sqrt(float(w @ (y - mean) ** 2) / float(w.sum()) * n / (n - 1)))
    return MeanEstimate(
        estimate=e.estimate,
        se=e.se,
        ci_low=e.ci_low,
        ci_high=e.ci_high,
        sd=sd,
        n_unweighted=e.n_unweighted,
        n_missing=int((~answered).sum()),
        weighted_base=e.weighted_base,
        method="taylor",
        alpha=alpha,
        note=e.note,
        design_effect=e.design_effect,
        effective_n=e.effective_n,
    )


def top_box_indicator(codes: Codes, top_codes: Sequence[int], n_scored: int) -> FloatArray:
    """1 for an answer in the top boxes, 0 for another scored answer, NaN otherwise (no answer,
    or an unscored category such as "other")."""
    indicator = np.where((codes >= 0) & (codes < n_scored), 0.0, np.nan)
    indicator[np.isin(codes, np.asarray(top_codes))] = 1.0
    return indicator


def net_promoter(design: AnalysisDesign, values: FloatArray, alpha: float) -> NetPromoterScore:
    """NPS = 100 (p_promoters - p_detractors) with the design-based variance of the difference
    of two shares (v_P + v_D - 2 c_PD from their linearised covariance), t(df) or normal."""
    from scipy import stats

    present = ~np.isnan(values)
    group = np.full(values.shape[0], -1, dtype=np.int64)
    group[present] = np.where(values[present] >= 9, 2, np.where(values[present] <= 6, 0, 1))
    n = int(present.sum())
    if n == 0:
        return NetPromoterScore(
            *(None,) * 7, 0, int((~present).sum()), "taylor", alpha, "no valid answers"
        )
    p, cov = cell_share_covariance(design.prepared, group, 3)
    nps = float(p[2] - p[0])
    se = float(np.sqrt(max(cov[2, 2] + cov[0, 0] - 2 * cov[0, 2], 0.0)))
    df = design_df(design.prepared, present)
    if design.options.interval == "normal":
        q = float(stats.norm.ppf(1 - alpha / 2))
    else:
        q = float(stats.t.ppf(1 - alpha / 2, df)) if df > 0 else float("nan")
    return NetPromoterScore(
        estimate=100 * nps,
        se=nan_to_none(100 * se),
        ci_low=nan_to_none(max(100 * (nps - q * se), -100.0)),
        ci_high=nan_to_none(min(100 * (nps + q * se), 100.0)),
        promoters_percent=100 * float(p[2]),
        passives_percent=100 * float(p[1]),
        detractors_percent=100 * float(p[0]),
        n_unweighted=n,
        n_missing=int((~present).sum()),
        method="taylor",
        alpha=alpha,
        note=None if np.isfinite(q) else "the design has no degrees of freedom: no interval",
    )


def rows_with_design(
    rows: Sequence[ChoiceRow], estimates: Sequence[DesignEstimate | ProportionEstimate]
) -> tuple[ChoiceRow, ...]:
    """The rows of a frequency table with their design-based percentage, interval, standard
    error (all on the 0-100 scale), design effect and effective n."""

    def percent(value: float | None) -> float | None:
        return None if value is None else 100 * value

    return tuple(
        replace(
            row,
            percent=percent(e.estimate),
            ci_low=percent(e.ci_low),
            ci_high=percent(e.ci_high),
            se=percent(e.se),
            design_effect=e.design_effect,
            effective_n=e.effective_n,
        )
        for row, e in zip(rows, estimates, strict=True)
    )
