"""Linear (GREG) calibration of weights to population totals of categorical margins and numeric
covariates, and the `Calibration` a design carries so that its variance uses the calibration
residuals. Raking and post-stratification are in `analysis.weighting`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.categories import FloatArray, weight_array
from analysis.errors import MarginError, check_columns
from analysis.variance import Calibration, calibration_regressors
from analysis.weighting import Margins
from minsheng.problems import Problem

__all__ = ["Calibration", "calibration_of_margins", "linear_calibrated_weights"]


def calibration_of_margins(margins: Margins, base_weights: str | None = None) -> Calibration:
    """The `Calibration` of weights raked or post-stratified to ``margins`` (a one-way or joint
    margin each, as `analysis.weighting.raked_weights` takes them)."""
    return Calibration(base_weights=base_weights, margins=tuple(margins))


def linear_calibrated_weights(
    frame: pd.DataFrame,
    margins: Margins,
    covariate_totals: Mapping[str, float],
    base_weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Weights w = d (1 + x'lambda) whose weighted totals equal every population total.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent with the margin variables and the numeric covariates.
    margins : mapping
        ``{variable: {category: population count}}`` (a tuple of variables for a joint margin);
        every margin must sum to the same population size.
    covariate_totals : mapping
        ``{numeric column: population total}``, e.g. the number of residents' households.
    base_weights : array-like, optional
        Design weights d (default 1).

    Returns
    -------
    ndarray of the calibrated weights, aligned with ``frame``.

    Notes
    -----
    The linear distance of Deville & Sarndal (1992): lambda solves (X' D X) lambda = T - X'd,
    by least squares so that the indicators of several margins (each spanning the intercept)
    need no column dropped. This is R ``survey::calibrate(calfun = "linear")``; weights may
    come out negative when the totals are far from the sample's, which is reported as an
    error naming the smallest weight, since a negative weight cannot be published.
    """
    columns = [*(v for key in margins for v in ((key,) if isinstance(key, str) else key))]
    check_columns(list(frame.columns), [*columns, *covariate_totals])
    n = len(frame)
    d = weight_array(base_weights, n)
    d = np.ones(n) if d is None else d
    calibration = Calibration(margins=tuple(margins), covariates=tuple(covariate_totals))
    x, labels = calibration_regressors(frame, calibration)
    targets = _targets(margins, covariate_totals, labels)
    lam = np.linalg.lstsq(x.T @ (x * d[:, None]), targets - x.T @ d, rcond=None)[0]
    weights: FloatArray = d * (1 + x @ lam)
    achieved = x.T @ weights
    gap = np.abs(achieved - targets).max() / max(float(np.abs(targets).max()), 1.0)
    problems = []
    if gap > 1e-8:
        problems.append(
            Problem("calibration", "the totals cannot all be met by this sample (inconsistent)")
        )
    if (weights < 0).any():
        problems.append(
            Problem(
                "calibration",
                f"linear calibration gives negative weights (smallest {weights.min():.3g}); "
                "rake instead, or use fewer covariates",
            )
        )
    if problems:
        raise MarginError(problems)
    return weights


def _targets(
    margins: Margins, covariate_totals: Mapping[str, float], labels: Sequence[object]
) -> FloatArray:
    """Population totals in the order of the regressors' ``labels``: the size (intercept),
    each margin's cells, each covariate."""
    sizes = [float(sum(t.values())) for t in margins.values()]
    size = sizes[0] if sizes else float("nan")
    values: list[float] = []
    problems = []
    for label in labels:
        if label == ():
            values.append(size)
        elif isinstance(label, tuple) and label[0] == "margin":
            _, key, cell = label
            targets = margins[key]
            if cell not in targets:
                problems.append(
                    Problem(f"margin `{key}`", f"category {cell!r} has no population target")
                )
            values.append(float(targets.get(cell, 0.0)))
        else:
            values.append(float(covariate_totals[str(label)]))
    if not sizes:
        problems.append(Problem("margins", "give at least one margin (the population size)"))
    if problems:
        raise MarginError(problems)
    return np.asarray(values, dtype=np.float64)
