"""Weights: post-stratification and raking (iterative proportional fitting) to population
margins, computed on the table of cell counts so the cost does not grow with the number of rows;
bounded weights (trim and re-rake), a convergence report, Kish effective n and design effect."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

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
from analysis.errors import MarginError, UnknownOptionError, check_columns
from analysis.results import Result, nan_to_none
from minsheng.problems import Problem

#: Population margins: margin variable (or tuple of variables for a joint margin such as
#: district x age group) -> {category (tuple for joint margins): population count}.
Margins = Mapping[str | tuple[str, ...], Mapping[Any, float]]


def kish_effective_n(weights: npt.ArrayLike) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 (0 for no positive weight).

    References: Kish, L. (1965). Survey Sampling. Wiley, section 11.7.
    """
    w = np.asarray(weights, dtype=np.float64)
    squares = float(np.dot(w, w))
    return float(w.sum()) ** 2 / squares if squares > 0 else 0.0


def kish_design_effect(weights: npt.ArrayLike) -> float:
    """Kish's design effect of unequal weighting, n sum w^2 / (sum w)^2 = 1 + cv^2 (cv with
    divisor n); NaN for no positive weight."""
    w = np.asarray(weights, dtype=np.float64)
    effective = kish_effective_n(w)
    return w.shape[0] / effective if effective > 0 else float("nan")


@dataclass(frozen=True)
class WeightSummary(Result):
    """Distribution of a weight vector and what it costs in precision."""

    n: int
    total: float
    minimum: float | None
    maximum: float | None
    mean: float | None
    cv: float | None
    effective_n: float
    design_effect: float | None


def weight_summary(weights: npt.ArrayLike) -> WeightSummary:
    """Summary of weights: total, range, coefficient of variation (divisor n), Kish effective
    n and design effect (``design_effect == 1 + cv**2``)."""
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    mean = float(w.mean()) if n else float("nan")
    return WeightSummary(
        n=n,
        total=float(w.sum()),
        minimum=nan_to_none(w.min()) if n else None,
        maximum=nan_to_none(w.max()) if n else None,
        mean=nan_to_none(mean),
        cv=nan_to_none(w.std() / mean) if n and mean > 0 else None,
        effective_n=kish_effective_n(w),
        design_effect=nan_to_none(kish_design_effect(w)),
    )


@dataclass(frozen=True)
class RakingReport(Result):
    """How weighting went: convergence, fit to every margin, and the resulting weights.

    ``max_margin_error`` is the largest |achieved - target| over all margin categories divided
    by the population total; ``margin_errors`` gives the same per margin.
    """

    method: str
    converged: bool
    iterations: int
    max_margin_error: float
    tolerance: float
    margin_errors: dict[str, float]
    n_rows: int
    n_cells: int
    bounds: tuple[float, float] | None
    cells_at_bounds: int
    weights: WeightSummary


@dataclass(frozen=True)
class WeightingResult:
    """Row weights (aligned with the input frame's index) and the report.

    ``to_dict()`` returns the report only: the weights are data, not a summary.
    """

    weights: pd.Series[float]
    report: RakingReport

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


@dataclass(frozen=True)
class _CellTable:
    """Sample cells (one per observed combination of the margin variables)."""

    row_cell: IntArray  # cell index of every row
    base: FloatArray  # sum of base weights per cell
    margin_codes: list[IntArray]  # per margin, the target index of every cell
    targets: list[FloatArray]  # per margin, the population counts


def _margin_list(
    margins: Margins,
) -> list[tuple[str, tuple[str, ...], Mapping[Any, float]]]:
    out = []
    for key, targets in margins.items():
        variables = (key,) if isinstance(key, str) else tuple(key)
        out.append((" x ".join(variables), variables, targets))
    return out


def _observed_cells(
    frame: pd.DataFrame, variables: list[str], base: FloatArray
) -> tuple[IntArray, FloatArray, dict[str, list[Hashable]], dict[str, IntArray]]:
    """Group rows into cells by the margin variables: one bincount over a combined code."""
    codes: list[IntArray] = []
    cats: dict[str, list[Hashable]] = {}
    problems = []
    for var in variables:
        c, k = category_codes(frame[var])
        if (c < 0).any():
            problems.append(
                Problem(
                    f"margin `{var}`",
                    f"{int((c < 0).sum())} rows have no value; fill or drop them before weighting",
                )
            )
        codes.append(c)
        cats[var] = k
    if problems:
        raise MarginError(problems)
    dims = tuple(max(len(cats[v]), 1) for v in variables)
    flat = np.ravel_multi_index(tuple(codes), dims) if codes else np.zeros(len(frame), np.int64)
    present, row_cell = compact_codes(flat, int(np.prod(dims)))
    cell_base = np.asarray(
        np.bincount(row_cell, weights=base, minlength=present.shape[0]), dtype=np.float64
    )
    cell_codes = np.unravel_index(present, dims)
    return (
        row_cell,
        cell_base,
        cats,
        dict(zip(variables, cell_codes, strict=True)),
    )


def _margin_codes(
    name: str,
    variables: tuple[str, ...],
    targets: Mapping[Any, float],
    cats: dict[str, list[Hashable]],
    cell_codes: dict[str, IntArray],
    problems: list[Problem],
) -> tuple[IntArray, FloatArray]:
    """Index of every cell's category in this margin's targets; collects mismatches."""
    keys = list(targets)
    index = {
        key if len(variables) > 1 or not isinstance(key, tuple) else key[0]: i
        for i, key in enumerate(keys)
    }
    values = np.array([float(targets[k]) for k in keys], dtype=np.float64)
    for key, value in zip(keys, values, strict=True):
        if not np.isfinite(value) or value < 0:
            problems.append(
                Problem(
                    f"margin `{name}`",
                    f"category {key!r}: target {value!r} must be >= 0",
                )
            )
    if len(variables) == 1:
        levels = cats[variables[0]]
        per_level = np.array([index.get(level, -1) for level in levels], dtype=np.int64)
        codes = per_level[cell_codes[variables[0]]]
        cell_keys: list[Any] = [levels[c] for c in cell_codes[variables[0]]]
    else:
        cell_keys = list(
            zip(
                *(np.asarray(cats[v], dtype=object)[cell_codes[v]] for v in variables),
                strict=True,
            )
        )
        codes = np.array([index.get(key, -1) for key in cell_keys], dtype=np.int64)
    for key in dict.fromkeys(k for k, c in zip(cell_keys, codes, strict=True) if c < 0):
        problems.append(
            Problem(
                f"margin `{name}`",
                f"category {key!r} occurs in the sample but has no population target; "
                f"targets are given for {', '.join(repr(k) for k in keys)}",
            )
        )
    seen = np.zeros(len(keys), dtype=bool)
    seen[codes[codes >= 0]] = True
    for i in np.flatnonzero(~seen & (values > 0)):
        problems.append(
            Problem(
                f"margin `{name}`",
                f"category {keys[i]!r} has population target {values[i]:g} but no respondents; "
                "merge it with a neighbouring category or drop it from every margin",
            )
        )
    return codes, values


def _cell_table(frame: pd.DataFrame, margins: Margins, base: FloatArray) -> _CellTable:
    listed = _margin_list(margins)
    if not listed:
        raise MarginError([Problem("margins", "no margin given; give at least one")])
    variables = list(dict.fromkeys(v for _, vs, _ in listed for v in vs))
    check_columns(list(frame.columns), variables)
    row_cell, cell_base, cats, cell_codes = _observed_cells(frame, variables, base)
    problems: list[Problem] = []
    margin_codes, targets = [], []
    for name, vs, t in listed:
        codes, values = _margin_codes(name, vs, t, cats, cell_codes, problems)
        margin_codes.append(codes)
        targets.append(values)
    totals = [float(t.sum()) for t in targets]
    if max(totals) - min(totals) > 1e-9 * max(max(totals), 1.0):
        listing = "; ".join(
            f"`{name}` sums to {tot:g}" for (name, _, _), tot in zip(listed, totals, strict=True)
        )
        problems.append(
            Problem("margins", f"margins must sum to the same population total: {listing}")
        )
    if problems:
        raise MarginError(problems)
    return _CellTable(row_cell, cell_base, margin_codes, targets)


def _margin_errors(table: _CellTable, adjusted: FloatArray) -> list[float]:
    total = float(table.targets[0].sum()) or 1.0
    return [
        float(np.abs(np.bincount(c, weights=adjusted, minlength=t.shape[0]) - t).max(initial=0.0))
        / total
        for c, t in zip(table.margin_codes, table.targets, strict=True)
    ]


def _rake_cells(
    table: _CellTable,
    bounds: tuple[float, float] | None,
    tolerance: float,
    max_iterations: int,
) -> tuple[FloatArray, int, list[float], int]:
    """Iterative proportional fitting of the cell adjustment factors g (weight = base * g)."""
    base_total = float(table.base.sum())
    scale = float(table.targets[0].sum()) / base_total if base_total > 0 else 1.0
    g = np.full(table.base.shape[0], scale)
    errors = _margin_errors(table, table.base * g)
    iterations = 0
    while iterations < max_iterations and max(errors) > tolerance:
        iterations += 1
        for codes, target in zip(table.margin_codes, table.targets, strict=True):
            achieved = np.bincount(codes, weights=table.base * g, minlength=target.shape[0])
            factor = np.divide(target, achieved, out=np.ones_like(target), where=achieved > 0)
            g = g * factor[codes]
        if bounds is not None:
            # Trim, then rake again on the next pass (bounded raking as in survey::calibrate
            # with bounds=): g is constant within a cell, so trimming stays on the cell table.
            g = np.clip(g, bounds[0] * scale, bounds[1] * scale)
        errors = _margin_errors(table, table.base * g)
    at_bounds = 0
    if bounds is not None:
        at_bounds = int(
            np.isclose(g, bounds[0] * scale).sum() + np.isclose(g, bounds[1] * scale).sum()
        )
    return g, iterations, errors, at_bounds


def raked_weights(
    frame: pd.DataFrame,
    margins: Margins,
    base_weights: npt.ArrayLike | None = None,
    *,
    bounds: tuple[float, float] | None = None,
    tolerance: float = 1e-10,
    max_iterations: int = 1000,
) -> WeightingResult:
    """Rake weights so that weighted totals match every population margin.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent, holding the margin variables.
    margins : mapping
        ``{variable: {category: population count}}``; a tuple of variables names a joint margin
        (``{("district", "age_group"): {("A", "18-34"): 1200, ...}}``). Every margin must sum to
        the same total, which becomes the sum of the weights.
    base_weights : array-like, optional
        Design weights to start from (default 1 for every row).
    bounds : (lower, upper), optional
        Trim adjustment factors to [lower, upper] times the overall scale factor
        (population total / base-weight total) and rake again, until margins fit within
        ``tolerance`` or ``max_iterations`` passes are used. With unit base weights this bounds
        every weight to [lower, upper] times the mean weight. Requires lower <= 1 <= upper.
    tolerance : float
        Stop when every margin category is within ``tolerance`` x population total.
    max_iterations : int
        Maximum number of passes over all margins.

    Returns
    -------
    WeightingResult
        ``weights`` (a Series aligned with ``frame.index``) and a ``report`` with the
        convergence flag, number of passes, margin errors and a weight summary.

    Raises
    ------
    MarginError
        A sample category without a target, a positive target without respondents, negative
        targets, margins with different totals, or missing values in a margin variable; every
        problem names the margin and category.

    Notes
    -----
    Rows are first grouped into cells by the margin variables (one ``numpy.bincount``), and the
    raking of Deming & Stephan (1940) runs on the cell table: each pass multiplies the cell
    factors by target / achieved for each margin in turn. The cost of a pass depends on the
    number of cells, not rows. Raking does not converge when the margins are incompatible with
    the sample's empty cells, or when ``bounds`` are too tight; ``converged`` is then False
    and the weights are those of the last pass. This matches ``survey::rake`` (Lumley 2010) for
    one-way margins and ``survey::calibrate(calfun="raking", bounds=)`` in spirit for bounds.

    References
    ----------
    Deming, W. E., Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
    table when the expected marginal totals are known. Ann. Math. Statist. 11(4), 427-444.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, chapter 7.
    """
    _check_bounds(bounds)
    base = weight_array(base_weights, len(frame))
    base = np.ones(len(frame)) if base is None else base
    table = _cell_table(frame, margins, base)
    g, iterations, errors, at_bounds = _rake_cells(table, bounds, tolerance, max_iterations)
    weights = base * g[table.row_cell]
    report = _raking_report(
        margins,
        (iterations, errors, at_bounds),
        tolerance,
        bounds,
        n_rows=len(frame),
        n_cells=int(table.base.shape[0]),
        weights=weight_summary(weights),
    )
    return WeightingResult(pd.Series(weights, index=frame.index, name="weight"), report)


def _raking_report(
    margins: Margins,
    outcome: tuple[int, list[float], int],
    tolerance: float,
    bounds: tuple[float, float] | None,
    *,
    n_rows: int,
    n_cells: int,
    weights: WeightSummary,
) -> RakingReport:
    """The report of one raking: ``outcome`` is the passes, the margin errors and the cells at
    a bound, as `_rake_cells` gives them."""
    iterations, errors, at_bounds = outcome
    return RakingReport(
        method="raking",
        converged=max(errors) <= tolerance,
        iterations=iterations,
        max_margin_error=max(errors),
        tolerance=tolerance,
        margin_errors={
            name: e for (name, _, _), e in zip(_margin_list(margins), errors, strict=True)
        },
        n_rows=n_rows,
        n_cells=n_cells,
        bounds=bounds,
        cells_at_bounds=at_bounds,
        weights=weights,
    )


def raked_cell_weights(
    cells: pd.DataFrame,
    counts: npt.ArrayLike,
    margins: Margins,
    *,
    bounds: tuple[float, float] | None = None,
    tolerance: float = 1e-10,
    max_iterations: int = 1000,
) -> WeightingResult:
    """`raked_weights` for respondents given as a table of cells: one row per combination of
    the margin variables (categorical columns of ``cells``) with ``counts`` respondents in it.

    Returns the weight of each respondent of each cell (a Series aligned with ``cells.index``)
    and the same report as `raked_weights` on the respondents one by one (unit base weights):
    ``n_rows`` and the weight summary count respondents, not cells.
    """
    _check_bounds(bounds)
    n = weight_array(counts, len(cells))
    assert n is not None
    table = _cell_table(cells, margins, n)
    g, iterations, errors, at_bounds = _rake_cells(table, bounds, tolerance, max_iterations)
    weights = g[table.row_cell]
    report = _raking_report(
        margins,
        (iterations, errors, at_bounds),
        tolerance,
        bounds,
        n_rows=round(float(n.sum())),
        n_cells=int(np.count_nonzero(table.base)),
        weights=weight_summary_of_cells(weights, n),
    )
    return WeightingResult(pd.Series(weights, index=cells.index, name="weight"), report)


def weight_summary_of_cells(weights: npt.ArrayLike, counts: npt.ArrayLike) -> WeightSummary:
    """`weight_summary` of ``counts[i]`` respondents carrying weight ``weights[i]`` each."""
    w = np.asarray(weights, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    present = c > 0
    n = round(float(c.sum()))
    total = float(c @ w)
    squares = float(c @ w**2)
    mean = total / n if n else float("nan")
    effective = total**2 / squares if squares > 0 else 0.0
    cv = None
    if n and mean > 0:
        cv = nan_to_none(float(np.sqrt(float(c @ (w - mean) ** 2) / n)) / mean)
    return WeightSummary(
        n=n,
        total=total,
        minimum=nan_to_none(w[present].min()) if n else None,
        maximum=nan_to_none(w[present].max()) if n else None,
        mean=nan_to_none(mean),
        cv=cv,
        effective_n=effective,
        design_effect=nan_to_none(n / effective) if effective > 0 else None,
    )


def _check_bounds(bounds: tuple[float, float] | None) -> None:
    if bounds is not None and not (0 <= bounds[0] <= 1 <= bounds[1]):
        raise UnknownOptionError(
            [
                Problem(
                    "bounds",
                    f"got {bounds!r}; expected (lower, upper) with 0 <= lower <= 1 <= upper",
                )
            ]
        )


def poststratified_weights(
    frame: pd.DataFrame,
    variables: str | Sequence[str],
    population: Mapping[Any, float],
    base_weights: npt.ArrayLike | None = None,
) -> WeightingResult:
    """Post-stratify: weight every cell of ``variables`` up to its population count.

    ``population`` maps each cell (a category, or a tuple for several variables) to its
    population count. Each row's weight is base weight x N_c / (sum of base weights in cell c),
    so the weighted cell totals equal the population exactly (Holt & Smith 1979). It is raking
    on a single joint margin, which converges in one pass; errors are those of `raked_weights`.

    References: Holt, D., Smith, T. M. F. (1979). Post stratification. JRSS A 142(1), 33-46.
    """
    key: str | tuple[str, ...] = variables if isinstance(variables, str) else tuple(variables)
    result = raked_weights(frame, {key: population}, base_weights)
    return replace(result, report=replace(result.report, method="post-stratification"))
