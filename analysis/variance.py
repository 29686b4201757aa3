"""Variance machinery for sampling designs: a declared design resolved to arrays, and the
ultimate-cluster (Taylor linearisation) covariance of linearised values, summed per PSU and
centred within strata, after projecting out the calibration variables when the weights are
calibrated (post-stratified, raked, linear). `analysis.design` and `analysis.crosstabs` build on
it."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.categories import (
    FloatArray,
    IntArray,
    category_codes,
    compact_codes,
    weight_array,
)
from analysis.errors import DesignError, UnknownOptionError, check_columns
from minsheng.problems import Problem

LONELY_PSU = ("fail", "remove")


@dataclass(frozen=True)
class Calibration:
    """How the design's weights were calibrated, so that the variance takes it into account.

    Parameters
    ----------
    base_weights : str, optional
        Column of the weights before calibration (the design weights); default 1 for every row.
    margins : tuple
        Categorical calibration variables: a column name for a one-way margin (raking,
        post-stratification on one variable) or a tuple of names for a joint margin (the cells
        of a post-stratification). Each gives one indicator per category.
    covariates : tuple of str
        Numeric calibration variables of a linear (GREG) calibration, such as enrolment.

    Notes
    -----
    A calibrated estimator is asymptotically the regression estimator on the calibration
    variables, so its linearised values are the residuals of the (base-weighted) regression of
    the estimator's influence values on them (Deville & Sarndal 1992; Sarndal, Swensson &
    Wretman 1992, section 6.6). This is what R ``survey`` does for ``calibrate`` (``qr.resid``
    in ``svyrecvar``) and, within cells, for ``postStratify``; ``rake`` iterates the same
    projection margin by margin, which converges to it. A margin's own total then has a
    standard error of 0, as it should: calibration fixes it.
    """

    base_weights: str | None = None
    margins: tuple[str | tuple[str, ...], ...] = ()
    covariates: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """Every column the calibration reads."""
        names = [self.base_weights] if self.base_weights else []
        for margin in self.margins:
            names.extend((margin,) if isinstance(margin, str) else margin)
        return [*names, *self.covariates]


@dataclass(frozen=True)
class SamplingDesign:
    """A declared sampling design: which columns of the frame hold what.

    Parameters
    ----------
    weights : str, optional
        Sampling (or calibrated) weights; default 1 for every row.
    strata : str, optional
        Stratum of each row; default one stratum.
    clusters : str, optional
        Primary sampling unit (cluster, e.g. community) of each row, nested within strata;
        default: every row is its own PSU.
    fpc : str, optional
        Finite population correction, constant within a stratum: the number of PSUs in the
        stratum's population (values > 1) or the sampling fraction of PSUs (values <= 1), as in
        ``survey::svydesign(fpc=)``. Default: sampling with replacement (no correction).
    lonely_psu : {"fail", "remove"}
        What to do with a stratum holding a single PSU: refuse (default) or let it contribute
        no variance (R ``options(survey.lonely.psu = "remove")``).
    calibration : Calibration, optional
        How ``weights`` were calibrated to population totals; the variance then uses the
        calibration residuals. Without it the weights are taken as fixed design weights.
    """

    weights: str | None = None
    strata: str | None = None
    clusters: str | None = None
    fpc: str | None = None
    lonely_psu: str = "fail"
    calibration: Calibration | None = None


@dataclass(frozen=True)
class PreparedDesign:
    """A design resolved to arrays: row weights, PSU of every row and per-stratum factors."""

    weights: FloatArray
    psu: IntArray | None  # None: every row is its own PSU
    psu_stratum: IntArray  # stratum of every PSU (of every row when psu is None)
    n_psu: IntArray  # PSUs per stratum
    factor: FloatArray  # (1 - f_h) n_h / (n_h - 1) per stratum; 0 for removed lonely PSUs
    # Calibration: the regressors (rows x k) and the pre-calibration weights, or None.
    calibration_x: FloatArray | None = None
    base_weights: FloatArray | None = None

    @property
    def n_rows(self) -> int:
        return int(self.weights.shape[0])


def _fpc_fractions(
    frame: pd.DataFrame, design: SamplingDesign, stratum: IntArray, n_psu: IntArray
) -> FloatArray:
    """Sampling fraction f_h per stratum from the fpc column (0 when no fpc is declared)."""
    if design.fpc is None:
        return np.zeros(n_psu.shape[0])
    values = frame[design.fpc].to_numpy(dtype=np.float64)
    lowest = np.full(n_psu.shape[0], np.inf)
    highest = np.full(n_psu.shape[0], -np.inf)
    np.minimum.at(lowest, stratum, values)
    np.maximum.at(highest, stratum, values)
    problems = []
    if not np.isfinite(values).all() or (values <= 0).any():
        problems.append(Problem(f"fpc `{design.fpc}`", "values must be finite and > 0"))
    elif (highest - lowest > 1e-9 * highest).any():
        problems.append(Problem(f"fpc `{design.fpc}`", "must be constant within each stratum"))
    if problems:
        raise DesignError(problems)
    fraction = np.where(lowest <= 1, lowest, n_psu / lowest)
    if (fraction > 1 + 1e-12).any():
        raise DesignError(
            [
                Problem(
                    f"fpc `{design.fpc}`",
                    "a stratum has more sampled PSUs than its population size",
                )
            ]
        )
    return np.asarray(fraction, dtype=np.float64)


def prepare_design(frame: pd.DataFrame, design: SamplingDesign) -> PreparedDesign:
    """Resolve ``design`` against ``frame``; raises `DesignError` or `UnknownVariableError`."""
    if design.lonely_psu not in LONELY_PSU:
        raise UnknownOptionError.for_choice("lonely_psu", design.lonely_psu, LONELY_PSU)
    names = [c for c in (design.weights, design.strata, design.clusters, design.fpc) if c]
    if design.calibration is not None:
        names.extend(design.calibration.columns())
    check_columns(list(frame.columns), names)
    n = len(frame)
    w = weight_array(frame[design.weights] if design.weights else None, n)
    weights = np.ones(n) if w is None else w
    stratum = np.zeros(n, dtype=np.int64)
    labels: list[Hashable] = ["(all)"]
    if design.strata:
        stratum, labels = category_codes(frame[design.strata])
        if (stratum < 0).any():
            raise DesignError([Problem(f"strata `{design.strata}`", "missing values")])
    psu: IntArray | None = None
    if design.clusters:
        cluster = pd.factorize(frame[design.clusters], use_na_sentinel=True)[0]
        if (cluster < 0).any():
            raise DesignError([Problem(f"clusters `{design.clusters}`", "missing values")])
        # PSUs are nested within strata (survey::svydesign(nest = TRUE)).
        width = int(cluster.max()) + 1
        psu_of_pair, psu = compact_codes(stratum * width + cluster, len(labels) * width)
        psu_stratum = psu_of_pair // width
    else:
        psu_stratum = stratum
    n_psu = np.bincount(psu_stratum, minlength=len(labels))
    f = _fpc_fractions(frame, design, stratum, n_psu)
    lonely = n_psu == 1
    # A design with a single PSU overall has no variance estimate either way; it is reported
    # through df = 0 rather than refused, so that a tiny campaign still gets its estimates.
    if lonely.any() and design.lonely_psu == "fail" and design.strata:
        listed = ", ".join(repr(labels[i]) for i in np.flatnonzero(lonely)[:10])
        raise DesignError(
            [
                Problem(
                    f"strata `{design.strata}`",
                    f"strata {listed} have a single PSU, so their variance cannot be estimated; "
                    "merge them with a similar stratum or declare lonely_psu='remove'",
                )
            ]
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_psu > 1, (1 - f) * n_psu / (n_psu - 1), 0.0)
    x, base = (None, None)
    if design.calibration is not None:
        x, base = _calibration_arrays(frame, design.calibration)
    return PreparedDesign(
        weights,
        None if psu is None else psu.astype(np.int64),
        psu_stratum,
        n_psu,
        factor,
        x,
        base,
    )


def _calibration_arrays(
    frame: pd.DataFrame, calibration: Calibration
) -> tuple[FloatArray, FloatArray]:
    """The regressors of a calibration (`calibration_regressors`) and the base weights."""
    n = len(frame)
    w = weight_array(frame[calibration.base_weights] if calibration.base_weights else None, n)
    return calibration_regressors(frame, calibration)[0], np.ones(n) if w is None else w


def calibration_regressors(
    frame: pd.DataFrame, calibration: Calibration
) -> tuple[FloatArray, list[object]]:
    """The calibration variables as a matrix (rows x k) and a label per column: an intercept
    ``()``, an indicator ``("margin", key, category)`` for every category of every margin
    (a tuple of categories for a joint margin), and each covariate by its name."""
    n = len(frame)
    blocks: list[FloatArray] = [np.ones((n, 1))]
    labels: list[object] = [()]
    problems = []
    for margin in calibration.margins:
        names = (margin,) if isinstance(margin, str) else margin
        codes, levels = [], []
        for name in names:
            c, k = category_codes(frame[name])
            if (c < 0).any():
                problems.append(Problem(f"calibration margin `{name}`", "missing values"))
            codes.append(np.maximum(c, 0))
            levels.append(k)
        dims = tuple(max(len(k), 1) for k in levels)
        present, cell = compact_codes(np.ravel_multi_index(tuple(codes), dims), int(np.prod(dims)))
        blocks.append((cell[:, None] == np.arange(present.shape[0])).astype(np.float64))
        for flat in present.tolist():
            at = np.unravel_index(flat, dims)
            key = tuple(levels[i][int(j)] for i, j in enumerate(at))
            labels.append(("margin", margin, key[0] if isinstance(margin, str) else key))
    for name in calibration.covariates:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            problems.append(Problem(f"calibration covariate `{name}`", "missing values"))
        blocks.append(values[:, None])
        labels.append(name)
    if problems:
        raise DesignError(problems)
    return np.hstack(blocks), labels


def calibration_residuals(design: PreparedDesign, z: FloatArray) -> FloatArray:
    """Linearised values ``z`` (rows x k) with the calibration variables projected out.

    z = w u with w the calibrated weights; u is regressed on the calibration variables by
    least squares weighted with the base weights, and w times the residual is returned (R
    ``survey``: ``qr.resid(qr(X sqrt(d)), x / (g sqrt(d))) g sqrt(d)``). Least squares by
    ``numpy.linalg.lstsq``, so a rank-deficient set (the indicators of two margins both span
    the intercept) needs no column dropped.
    """
    if design.calibration_x is None or design.base_weights is None:
        return z
    w = design.weights
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(w[:, None] > 0, z / w[:, None], 0.0)
    root = np.sqrt(design.base_weights)[:, None]
    beta = np.linalg.lstsq(design.calibration_x * root, u * root, rcond=None)[0]
    residual: FloatArray = (u - design.calibration_x @ beta) * w[:, None]
    return residual


def psu_totals(design: PreparedDesign, z: FloatArray) -> FloatArray:
    """Sum the linearised values ``z`` (rows x k) within each PSU, after projecting out the
    calibration variables (`calibration_residuals`) when the weights are calibrated."""
    z = calibration_residuals(design, z)
    if design.psu is None:
        return z
    n_psus = int(design.psu_stratum.shape[0])
    return np.column_stack(
        [np.bincount(design.psu, weights=z[:, j], minlength=n_psus) for j in range(z.shape[1])]
    )


def stratified_covariance(design: PreparedDesign, totals: FloatArray) -> FloatArray:
    """Ultimate-cluster covariance: sum_h (1-f_h) n_h/(n_h-1) sum_j (Z_hj - Zbar_h)(...)^T.

    ``totals`` holds one row per PSU (as returned by `psu_totals`), k columns.
    """
    strata = design.psu_stratum
    h = design.n_psu.shape[0]
    means = (
        np.column_stack(
            [np.bincount(strata, weights=totals[:, j], minlength=h) for j in range(totals.shape[1])]
        )
        / np.maximum(design.n_psu, 1)[:, None]
    )
    centred = totals - means[strata]
    result: FloatArray = (centred * design.factor[strata][:, None]).T @ centred
    return result


def active_units(design: PreparedDesign, active: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """Number of PSUs and of strata holding at least one row in ``active``."""
    h = design.n_psu.shape[0]
    if design.psu is None:
        psus = int(active.sum())
        strata = np.bincount(design.psu_stratum[active], minlength=h) > 0
    else:
        present = np.bincount(design.psu[active], minlength=design.psu_stratum.shape[0]) > 0
        psus = int(present.sum())
        strata = np.bincount(design.psu_stratum[present], minlength=h) > 0
    return psus, int(strata.sum())


def design_df(design: PreparedDesign, active: npt.NDArray[np.bool_]) -> int:
    """Degrees of freedom: PSUs minus strata, counting only those with a row in ``active``
    (as ``survey::degf``)."""
    psus, strata = active_units(design, active)
    return psus - strata


def cell_share_covariance(
    design: PreparedDesign, cell: IntArray, n_cells: int
) -> tuple[FloatArray, FloatArray]:
    """Weighted cell shares p (summing to 1) and their linearised covariance matrix.

    ``cell`` gives each row's cell (0..n_cells-1; -1 leaves the row out, keeping its PSU in the
    design). This is ``survey::svymean`` of the cell indicators. Without clusters it works from
    per-stratum sums of w and w^2 per cell, so the cost is one pass over rows whatever the
    number of cells.
    """
    valid = cell >= 0
    w = np.where(valid, design.weights, 0.0)
    safe_cell = np.where(valid, cell, 0)
    total = float(w.sum())
    if total <= 0:
        return np.full(n_cells, np.nan), np.full((n_cells, n_cells), np.nan)
    p = np.bincount(safe_cell, weights=w, minlength=n_cells) / total
    if design.calibration_x is not None:
        # Calibrated: the residuals depend on the rows' values, so the linearised values of
        # the k shares are formed row by row (rows x k), z_i = w_i (e_c(i) - p) / W.
        z = -np.outer(w, p)
        z[np.flatnonzero(valid), safe_cell[valid]] += w[valid]
        return p, stratified_covariance(design, psu_totals(design, z / total))
    if design.psu is not None:
        n_psus = int(design.psu_stratum.shape[0])
        sums = np.bincount(design.psu * n_cells + safe_cell, weights=w, minlength=n_psus * n_cells)
        t = sums.reshape(n_psus, n_cells)
        return p, stratified_covariance(design, (t - t.sum(axis=1)[:, None] * p) / total)
    # Every row is a PSU: z_i = w_i (e_c(i) - p) / W, so sum_i z_i z_i' within stratum h is
    # (1/W^2) sum_c S2_hc (e_c - p)(e_c - p)' with S2_hc the sum of w^2 in stratum h, cell c.
    h = design.n_psu.shape[0]
    key = design.psu_stratum * n_cells + safe_cell
    s1 = np.bincount(key, weights=w, minlength=h * n_cells).reshape(h, n_cells)
    s2 = np.bincount(key, weights=w * w, minlength=h * n_cells).reshape(h, n_cells)
    cov = np.zeros((n_cells, n_cells))
    for stratum in range(h):
        s = s2[stratum]
        cross = np.diag(s) - np.outer(s, p) - np.outer(p, s) + s.sum() * np.outer(p, p)
        u = s1[stratum] - s1[stratum].sum() * p
        centred = cross - np.outer(u, u) / max(int(design.n_psu[stratum]), 1)
        cov += design.factor[stratum] * centred / (total * total)
    return p, cov
