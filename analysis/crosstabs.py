"""Crosstabs by segment with column percentages and tests of independence (Pearson, Fisher's
exact for sparse 2x2, Rao-Scott when weighted), Cramer's V, adjusted standardised residuals,
and Benjamini-Hochberg control when many crosstabs are scanned."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.categories import FloatArray, IntArray, category_codes
from analysis.errors import check_alpha, check_columns
from analysis.results import Result, nan_to_none
from analysis.variance import (
    PreparedDesign,
    SamplingDesign,
    cell_share_covariance,
    design_df,
    prepare_design,
)

Grid = tuple[tuple[float | None, ...], ...]


@dataclass(frozen=True)
class IndependenceTest(Result):
    """Test of independence of a crosstab's rows and columns.

    ``method`` is ``pearson-chi-square``, ``fisher-exact`` (then ``statistic`` is the sample
    odds ratio and there are no degrees of freedom), ``rao-scott-f`` (second-order corrected
    F with ``df`` and ``df_denominator``), or ``none`` when a table has fewer than two
    non-empty rows or columns (``note`` says why).
    """

    method: str
    statistic: float | None
    df: float | None
    df_denominator: float | None
    p_value: float | None
    min_expected: float | None
    cells_expected_below_5: int
    mean_design_effect: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Crosstab(Result):
    """Crosstab of ``row_variable`` (answers) by ``column_variable`` (segment).

    Column percentages are on the 0-100 scale and use the weighted counts when weighted;
    ``column_n`` is the unweighted base of each column. ``marks`` holds "+" (more than expected
    under independence), "-" (fewer) or "" per cell, from the adjusted residuals at
    ``residual_alpha``. Cells in empty rows or columns have None residuals.
    """

    row_variable: str
    column_variable: str
    row_categories: tuple[Hashable, ...]
    column_categories: tuple[Hashable, ...]
    counts: tuple[tuple[int, ...], ...]
    weighted_counts: Grid | None
    column_percents: Grid
    column_n: tuple[int, ...]
    n_unweighted: int
    n_missing: int
    test: IndependenceTest
    cramers_v: float | None
    adjusted_residuals: Grid
    marks: tuple[tuple[str, ...], ...]
    residual_alpha: float


def _grid(values: FloatArray) -> Grid:
    return tuple(tuple(nan_to_none(v) for v in row) for row in values)


def _expected(table: FloatArray) -> FloatArray:
    total = table.sum()
    result: FloatArray = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    return result


def pearson_statistic(table: FloatArray) -> float:
    """Pearson's X^2 = sum (O - E)^2 / E for a table without empty rows or columns."""
    expected = _expected(table)
    return float(((table - expected) ** 2 / expected).sum())


def adjusted_residuals(table: FloatArray) -> FloatArray:
    """Adjusted standardised residuals (O - E) / sqrt(E (1 - r_i/n)(1 - c_j/n)).

    Approximately standard normal under independence (Agresti 2013, section 2.4.5; the same as
    ``statsmodels.stats.contingency_tables.Table.standardized_resids``). Cells in an empty row
    or column are NaN.
    """
    n = table.sum()
    rows, cols = table.sum(axis=1) / n, table.sum(axis=0) / n
    expected = np.outer(rows, cols) * n
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = (table - expected) / np.sqrt(expected * np.outer(1 - rows, 1 - cols))
    return result


def cramers_v(chi_square: float, n: float, shape: tuple[int, int]) -> float:
    """Cramer's V = sqrt(X^2 / (n (min(r, c) - 1))), NaN for a table with one row/column."""
    smaller = min(shape) - 1
    return float(np.sqrt(chi_square / (n * smaller))) if smaller > 0 and n > 0 else float("nan")


def _sparse_note(expected: FloatArray) -> str | None:
    """Cochran's rule for r x c tables: warn when over 20% of expected counts are below 5."""
    if (expected < 5).sum() > 0.2 * expected.size:
        return "more than 20% of expected counts below 5: the approximation is unreliable"
    return None


def _unweighted_test(table: FloatArray) -> IndependenceTest:
    expected = _expected(table)
    low = int((expected < 5).sum())
    if table.shape == (2, 2) and expected.min() < 5:
        # Cochran's rule: with an expected count below 5 the chi-square approximation is poor
        # for a 2x2 table; Fisher's exact test conditions on both margins (Agresti 2013, 3.5).
        odds, p = stats.fisher_exact(table.astype(np.int64), alternative="two-sided")
        return IndependenceTest(
            "fisher-exact", float(odds), None, None, float(p), float(expected.min()), low
        )
    result = stats.chi2_contingency(table, correction=False)
    return IndependenceTest(
        "pearson-chi-square",
        float(result.statistic),
        float(result.dof),
        None,
        float(result.pvalue),
        float(expected.min()),
        low,
        note=_sparse_note(expected),
    )


def _interaction_contrasts(r: int, c: int) -> FloatArray:
    """Interaction dummies made orthogonal to the main effects (``svychisq``'s ``Cmat``)."""
    rows, cols = np.divmod(np.arange(r * c), c)
    row_dummies = (rows[:, None] == np.arange(1, r)).astype(np.float64)
    col_dummies = (cols[:, None] == np.arange(1, c)).astype(np.float64)
    main = np.column_stack([np.ones(r * c), row_dummies, col_dummies])
    interaction = (row_dummies[:, :, None] * col_dummies[:, None, :]).reshape(r * c, -1)
    coef = np.linalg.lstsq(main, interaction, rcond=None)[0]
    result: FloatArray = interaction - main @ coef
    return result


def _rao_scott_test(
    design: PreparedDesign, cell: IntArray, shape: tuple[int, int], active: np.ndarray
) -> tuple[IndependenceTest, float]:
    """Rao-Scott second-order corrected test (``survey::svychisq(statistic = "F")``)."""
    r, c = shape
    n = float(active.sum())
    p, cov = cell_share_covariance(design, cell, r * c)
    contrasts = _interaction_contrasts(r, c)
    inverse = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    scaled = contrasts * inverse[:, None]
    denominator = contrasts.T @ scaled / n
    numerator = scaled.T @ cov @ scaled
    table = p.reshape(r, c) * n
    expected = _expected(table)
    try:
        delta = np.linalg.solve(denominator, numerator)
    except np.linalg.LinAlgError:
        delta = np.zeros_like(numerator)
    trace = float(np.trace(delta))
    squares = float(np.trace(delta @ delta))
    if trace <= 0 or squares <= 0:
        # Many empty cells make the contrast matrix singular, or the design gives no variance
        # at all (a single PSU): there is no design-based reference distribution.
        note = "no design-based test: too many empty cells or no between-PSU variance"
        low = int((expected < 5).sum())
        test = IndependenceTest(
            "none", None, None, None, None, float(expected.min()), low, note=note
        )
        return test, float("nan")
    d0 = trace**2 / squares
    nu = design_df(design, active)
    statistic = pearson_statistic(table) / trace
    p_value = float(stats.f.sf(statistic, d0, d0 * nu)) if nu > 0 else float("nan")
    df = (r - 1) * (c - 1)
    test = IndependenceTest(
        "rao-scott-f",
        statistic,
        d0,
        d0 * nu,
        nan_to_none(p_value),
        float(expected.min()),
        int((expected < 5).sum()),
        mean_design_effect=trace / df,
        note=_sparse_note(expected) if nu > 0 else "the design has no degrees of freedom",
    )
    return test, trace / df


def _test_subtable(
    table: FloatArray,
    design: PreparedDesign | None,
    cell_parts: tuple[IntArray, IntArray, np.ndarray],
) -> tuple[IndependenceTest, float, FloatArray]:
    """Test on the non-empty rows and columns; returns the test, V and residuals (full table)."""
    keep_r, keep_c = table.sum(axis=1) > 0, table.sum(axis=0) > 0
    sub = table[keep_r][:, keep_c]
    row_codes, col_codes, active = cell_parts
    n = float(active.sum())
    if sub.shape[0] < 2 or sub.shape[1] < 2:
        note = "fewer than two non-empty rows or columns: no test"
        test = IndependenceTest("none", None, None, None, None, None, 0, note=note)
        return test, float("nan"), np.full(table.shape, np.nan)
    if design is None:
        test = _unweighted_test(sub)
        residuals = adjusted_residuals(table)
        return test, cramers_v(pearson_statistic(sub), n, sub.shape), residuals
    sub_row = np.cumsum(keep_r) - 1
    sub_col = np.cumsum(keep_c) - 1
    cell = np.where(
        active,
        sub_row[np.maximum(row_codes, 0)] * sub.shape[1] + sub_col[np.maximum(col_codes, 0)],
        -1,
    )
    test, mean_deff = _rao_scott_test(design, cell, sub.shape, active)
    if not np.isfinite(mean_deff):
        return test, float("nan"), np.full(table.shape, np.nan)
    scaled = table / table.sum() * n
    # Residuals of the weighted table rescaled to n, divided by the square root of the mean
    # generalised design effect (first-order Rao-Scott factor): an approximation.
    residuals = adjusted_residuals(scaled) / np.sqrt(mean_deff)
    chi_square = pearson_statistic(sub / sub.sum() * n)
    return test, cramers_v(chi_square, n, sub.shape), residuals


def crosstab(
    frame: pd.DataFrame,
    row: str,
    column: str,
    *,
    design: SamplingDesign | None = None,
    row_categories: Sequence[Hashable] | None = None,
    column_categories: Sequence[Hashable] | None = None,
    residual_alpha: float = 0.05,
) -> Crosstab:
    """Crosstab of an answer (rows) by a segment (columns) with a test of independence.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent.
    row, column : str
        Answer and segment columns (district, age group, target group, channel, point).
        Rows missing either are left out and counted in ``n_missing``.
    design : SamplingDesign, optional
        Weights (and strata / clusters) for a weighted table and a design-based test.
    row_categories, column_categories : sequence, optional
        Categories in order; defaults as in `analysis.proportions.frequencies`.
    residual_alpha : float
        Level at which adjusted residuals mark a cell "+" or "-" (|r| > z_{1 - alpha/2}).

    Returns
    -------
    Crosstab

    Notes
    -----
    Unweighted: Pearson's X^2 (``scipy.stats.chi2_contingency``, no continuity correction) on
    the table without empty rows and columns; for a 2x2 table with an expected count below 5,
    Fisher's exact test (``scipy.stats.fisher_exact``, two-sided) instead. Weighted: the
    Rao-Scott second-order correction of Pearson's X^2 computed on the weighted table scaled to
    the unweighted n, as ``survey::svychisq(statistic = "F")``: F = X^2 / tr(Delta) on
    (d, d nu) degrees of freedom with d = tr(Delta)^2 / tr(Delta^2), where Delta is the
    generalised design-effect matrix of the interaction contrasts (from the linearised
    covariance of the cell shares, `analysis.variance.cell_share_covariance`) and nu the design
    degrees of freedom (PSUs minus strata). Cramer's V uses X^2 of the (rescaled) table.
    Adjusted residuals follow Agresti; when weighted they are divided by sqrt(tr(Delta) / df).
    Marks are per cell without multiplicity correction.

    References
    ----------
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed. Wiley, sections 2.4, 3.5.
    Rao, J. N. K., Scott, A. J. (1984). On chi-squared tests for multiway contingency tables
    with cell proportions estimated from survey data. Annals of Statistics 12(1), 46-60.
    Lumley, T. (2010). Complex Surveys. Wiley, section 6.1 (``svychisq``).
    """
    check_alpha(residual_alpha)
    check_columns(list(frame.columns), [row, column])
    row_codes, row_cats = category_codes(frame[row], row_categories)
    col_codes, col_cats = category_codes(frame[column], column_categories)
    shape = (len(row_cats), len(col_cats))
    prepared = prepare_design(frame, design) if design is not None else None
    valid = (row_codes >= 0) & (col_codes >= 0)
    active = valid if prepared is None else valid & (prepared.weights > 0)
    cell = np.where(active, row_codes * shape[1] + col_codes, 0)
    size = shape[0] * shape[1]
    counts = np.bincount(cell[active], minlength=size).reshape(shape).astype(np.float64)
    weighted = None
    if prepared is not None:
        weights = prepared.weights[active]
        weighted = np.asarray(
            np.bincount(cell[active], weights=weights, minlength=size), dtype=np.float64
        ).reshape(shape)
    table = counts if weighted is None else weighted
    test, v, residuals = _test_subtable(table, prepared, (row_codes, col_codes, active))
    return _crosstab_result(
        (row, column),
        (row_cats, col_cats),
        (counts, weighted),
        int((~valid).sum()),
        (test, v, residuals),
        residual_alpha,
    )


def crosstab_from_counts(
    counts: npt.ArrayLike,
    row: str,
    column: str,
    row_categories: Sequence[Hashable],
    column_categories: Sequence[Hashable],
    *,
    n_missing: int = 0,
    residual_alpha: float = 0.05,
) -> Crosstab:
    """`crosstab` (unweighted) from its table of cell counts, rows by columns, and the number of
    respondents missing either variable: the same result for counts made elsewhere (a GROUP BY
    in a database, Arrow, DuckDB), since every unweighted statistic is a function of the cells.
    """
    check_alpha(residual_alpha)
    table = np.asarray(counts, dtype=np.float64)
    shape = (len(row_categories), len(column_categories))
    if table.shape != shape:
        raise ValueError(f"got a {table.shape} table for {shape} categories")
    n = int(table.sum())
    # Only the number of active respondents matters to the unweighted test.
    active = np.ones(n, dtype=bool)
    empty = np.zeros(0, dtype=np.int64)
    test, v, residuals = _test_subtable(table, None, (empty, empty, active))
    return _crosstab_result(
        (row, column),
        (list(row_categories), list(column_categories)),
        (table, None),
        n_missing,
        (test, v, residuals),
        residual_alpha,
    )


def _crosstab_result(
    variables: tuple[str, str],
    categories: tuple[list[Hashable], list[Hashable]],
    tables: tuple[FloatArray, FloatArray | None],
    n_missing: int,
    tested: tuple[IndependenceTest, float, FloatArray],
    residual_alpha: float,
) -> Crosstab:
    counts, weighted = tables
    test, v, residuals = tested
    table = counts if weighted is None else weighted
    critical = float(stats.norm.ppf(1 - residual_alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        percents = 100 * table / table.sum(axis=0)
    marks = np.where(residuals > critical, "+", np.where(residuals < -critical, "-", ""))
    return Crosstab(
        row_variable=variables[0],
        column_variable=variables[1],
        row_categories=tuple(categories[0]),
        column_categories=tuple(categories[1]),
        counts=tuple(tuple(int(x) for x in r) for r in counts),
        weighted_counts=None if weighted is None else _grid(weighted),
        column_percents=_grid(percents),
        column_n=tuple(int(x) for x in counts.sum(axis=0)),
        n_unweighted=int(counts.sum()),
        n_missing=n_missing,
        test=test,
        cramers_v=nan_to_none(v),
        adjusted_residuals=_grid(residuals),
        marks=tuple(tuple(str(m) for m in r) for r in marks),
        residual_alpha=residual_alpha,
    )


@dataclass(frozen=True)
class MultipleComparison(Result):
    """Benjamini-Hochberg adjusted p-values; None where the input p-value was None."""

    p_values: tuple[float | None, ...]
    p_adjusted: tuple[float | None, ...]
    significant: tuple[bool, ...]
    alpha: float
    method: str


def benjamini_hochberg(p_values: Sequence[float | None], alpha: float = 0.05) -> MultipleComparison:
    """Control the false discovery rate over many tests (Benjamini & Hochberg 1995).

    Parameters
    ----------
    p_values : sequence of float or None
        One p-value per test; None (a test that could not be run) is skipped, is not counted in
        the number of tests, and is never significant.
    alpha : float
        False discovery rate to control.

    Returns
    -------
    MultipleComparison

    Notes
    -----
    ``statsmodels.stats.multitest.multipletests(method="fdr_bh")``: the adjusted p-value of
    the i-th smallest of m p-values is min_{j >= i} min(1, m p_(j) / j); a test is significant
    when its adjusted p-value is <= alpha. Valid under independence or positive dependence.

    References
    ----------
    Benjamini, Y., Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. JRSS B 57(1), 289-300.
    """
    check_alpha(alpha)
    present = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    adjusted: list[float | None] = [None] * len(p_values)
    significant = [False] * len(p_values)
    if present:
        raw = np.array([p_values[i] for i in present], dtype=np.float64)
        reject, corrected, _, _ = multipletests(raw, alpha=alpha, method="fdr_bh")
        for i, rej, adj in zip(present, reject, corrected, strict=True):
            adjusted[i], significant[i] = float(adj), bool(rej)
    return MultipleComparison(
        tuple(nan_to_none(p) if p is not None else None for p in p_values),
        tuple(adjusted),
        tuple(significant),
        alpha,
        "benjamini-hochberg",
    )


@dataclass(frozen=True)
class CrosstabScan(Result):
    """Many crosstabs and the Benjamini-Hochberg control over their tests."""

    tables: tuple[Crosstab, ...]
    comparison: MultipleComparison


def crosstab_scan(
    frame: pd.DataFrame,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    design: SamplingDesign | None = None,
    alpha: float = 0.05,
) -> CrosstabScan:
    """`crosstab` of every answer in ``rows`` by every segment in ``columns``, with the test
    p-values adjusted together by `benjamini_hochberg` at false discovery rate ``alpha``."""
    tables = tuple(crosstab(frame, r, c, design=design) for r in rows for c in columns)
    return CrosstabScan(tables, benjamini_hochberg([t.test.p_value for t in tables], alpha))
