"""Crosstabs and tests against Agresti's published example, scipy, statsmodels and an
independent dense implementation of the Rao-Scott correction."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import linalg, stats
from statsmodels.stats.contingency_tables import Table

from analysis.crosstabs import benjamini_hochberg, crosstab, crosstab_scan
from analysis.design import SamplingDesign

# Agresti (2007), An Introduction to Categorical Data Analysis, 2nd ed., Tables 2.5 and 2.6:
# party identification by gender, X^2 = 30.1 on 2 df, adjusted residuals below.
PARTY = ["democrat", "independent", "republican"]
PARTY_COUNTS = {"female": [762, 327, 468], "male": [484, 239, 477]}
PARTY_RESIDUALS = [[4.50, -4.50], [0.70, -0.70], [-5.32, 5.32]]


def frame_from_counts(counts, rows, row_name="answer", col_name="segment"):
    parts = [
        pd.DataFrame({row_name: [r] * n, col_name: [col] * n})
        for col, column_counts in counts.items()
        for r, n in zip(rows, column_counts, strict=True)
    ]
    return pd.concat(parts, ignore_index=True)


def test_pearson_chi_square_and_residuals_match_agresti_and_statsmodels():
    frame = frame_from_counts(PARTY_COUNTS, PARTY)
    result = crosstab(frame, "answer", "segment")
    table = np.array(result.counts, dtype=float)
    assert table.tolist() == np.array(list(PARTY_COUNTS.values())).T.tolist()
    reference = stats.chi2_contingency(table, correction=False)
    assert result.test.method == "pearson-chi-square"
    assert result.test.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.test.statistic == pytest.approx(30.1, abs=0.05)
    assert result.test.df == 2
    assert result.test.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    residuals = np.array(result.adjusted_residuals)
    np.testing.assert_allclose(residuals, Table(table).standardized_resids, rtol=1e-9)
    np.testing.assert_allclose(residuals, PARTY_RESIDUALS, atol=0.006)
    assert result.marks[0] == ("+", "-")
    assert result.marks[1] == ("", "")
    assert result.cramers_v == pytest.approx(
        stats.contingency.association(table.astype(int), method="cramer"), rel=1e-9
    )
    assert result.column_percents[0][0] == pytest.approx(100 * 762 / (762 + 327 + 468))
    assert result.column_n == (1557, 1200)


def test_sparse_two_by_two_uses_fisher_exact_test():
    # Fisher's tea-tasting experiment (Agresti 2007, Table 2.8): two-sided P = 0.486.
    frame = frame_from_counts({"milk first": [3, 1], "tea first": [1, 3]}, ["milk", "tea"])
    result = crosstab(frame, "answer", "segment")
    assert result.test.method == "fisher-exact"
    # Hypergeometric probabilities of the (1,1) cell given all margins are 4: C(4,k)C(4,4-k)/70.
    probabilities = np.array([1, 16, 36, 16, 1]) / 70
    expected = probabilities[probabilities <= probabilities[3] + 1e-12].sum()
    assert result.test.p_value == pytest.approx(expected, rel=1e-9)
    assert result.test.p_value == pytest.approx(0.486, abs=5e-4)
    assert result.test.statistic == pytest.approx(9.0)
    assert result.test.df is None


def test_empty_segment_is_kept_in_the_table_but_left_out_of_the_test():
    frame = frame_from_counts(PARTY_COUNTS, PARTY)
    frame["segment"] = pd.Categorical(frame["segment"], categories=["female", "male", "other"])
    result = crosstab(frame, "answer", "segment")
    assert result.column_categories == ("female", "male", "other")
    assert result.column_n == (1557, 1200, 0)
    assert all(row[2] is None for row in result.column_percents)
    assert all(row[2] is None for row in result.adjusted_residuals)
    assert result.test.df == 2
    json.dumps(result.to_dict(), allow_nan=False)


def test_one_category_and_all_missing_give_no_test_but_a_table():
    frame = pd.DataFrame({"answer": ["yes"] * 5, "segment": list("aabbb")})
    one = crosstab(frame, "answer", "segment")
    assert one.test.method == "none"
    assert one.test.p_value is None
    assert one.cramers_v is None
    assert one.counts == ((2, 3),)
    missing = crosstab(
        pd.DataFrame({"answer": [None, None], "segment": ["a", "b"]}), "answer", "segment"
    )
    assert missing.n_unweighted == 0
    assert missing.n_missing == 2
    assert missing.test.method == "none"
    json.dumps(missing.to_dict(), allow_nan=False)


def test_rao_scott_with_unit_weights_reduces_to_scaled_pearson():
    frame = frame_from_counts(PARTY_COUNTS, PARTY).assign(w=1.0)
    result = crosstab(frame, "answer", "segment", design=SamplingDesign(weights="w"))
    n, df = len(frame), 2
    x2 = stats.chi2_contingency(np.array(result.counts), correction=False).statistic
    # With unit weights and rows as PSUs, Delta = n / (n - 1) I (Rao & Scott 1984, sec. 3).
    assert result.test.method == "rao-scott-f"
    assert result.test.statistic == pytest.approx(x2 * (n - 1) / (n * df), rel=1e-9)
    assert result.test.df == pytest.approx(df, rel=1e-9)
    assert result.test.df_denominator == pytest.approx(df * (n - 1), rel=1e-9)
    assert result.test.mean_design_effect == pytest.approx(n / (n - 1), rel=1e-9)


def independent_rao_scott(frame, row, col, weight, strata, cluster):
    """svychisq(statistic = "F") written with dense matrices and Kronecker contrasts."""
    valid = frame[row].notna() & frame[col].notna()
    rows = sorted(frame.loc[valid, row].unique())
    cols = sorted(frame.loc[valid, col].unique())
    r, c = len(rows), len(cols)
    # Column-major cell order, unlike the implementation under test.
    cell = frame[col].map({v: j for j, v in enumerate(cols)}) * r + frame[row].map(
        {v: i for i, v in enumerate(rows)}
    )
    w = frame[weight].where(valid, 0.0).to_numpy()
    onehot = np.zeros((len(frame), r * c))
    onehot[np.flatnonzero(valid), cell[valid].astype(int)] = 1.0
    total = w.sum()
    p = w @ onehot / total
    z = pd.DataFrame(w[:, None] * (onehot - p) / total)
    psu = z.groupby([frame[strata], frame[cluster]]).sum()
    cov = np.zeros((r * c, r * c))
    for _, block in psu.groupby(level=0):
        centred = block.to_numpy() - block.to_numpy().mean(axis=0)
        cov += len(block) / (len(block) - 1) * centred.T @ centred
    contrasts = np.kron(linalg.null_space(np.ones((1, c))), linalg.null_space(np.ones((1, r))))
    n = int(valid.sum())
    d_inv = np.diag(1 / p)
    delta = np.linalg.inv(contrasts.T @ d_inv @ contrasts / n) @ (
        contrasts.T @ d_inv @ cov @ d_inv @ contrasts
    )
    table = (p * n).reshape(c, r).T
    x2 = stats.chi2_contingency(table, correction=False).statistic
    d0 = np.trace(delta) ** 2 / np.trace(delta @ delta)
    nu = len(psu) - frame[strata].nunique()
    f = x2 / np.trace(delta)
    return f, d0, d0 * nu, stats.f.sf(f, d0, d0 * nu)


def test_rao_scott_on_stratified_cluster_sample_matches_dense_implementation():
    rng = np.random.default_rng(21)
    rows = 2100
    community = rng.integers(0, 100, rows)
    district = community % 4
    lean = rng.normal(0, 0.6, 100)[community]
    answer = np.where(rng.random(rows) < 0.4 + 0.1 * np.tanh(lean), "agree", "disagree")
    answer = np.where(rng.random(rows) < 0.15, "unsure", answer)
    frame = pd.DataFrame(
        {
            "answer": answer,
            "age": rng.choice(["18-34", "35-59", "60+"], rows),
            "district": district,
            "community": community,
            "w": rng.uniform(0.5, 2.5, rows),
        }
    )
    frame.loc[rng.choice(rows, 50, replace=False), "answer"] = None
    design = SamplingDesign(weights="w", strata="district", clusters="community")
    result = crosstab(frame, "answer", "age", design=design)
    f, d0, ddf, p = independent_rao_scott(frame, "answer", "age", "w", "district", "community")
    assert result.test.statistic == pytest.approx(f, rel=1e-8)
    assert result.test.df == pytest.approx(d0, rel=1e-8)
    assert result.test.df_denominator == pytest.approx(ddf, rel=1e-8)
    assert result.test.p_value == pytest.approx(p, rel=1e-7)
    weighted = frame.dropna().groupby(["answer", "age"])["w"].sum().unstack()
    np.testing.assert_allclose(np.array(result.weighted_counts), weighted.to_numpy(), rtol=1e-12)
    assert result.n_unweighted == rows - 50


def test_benjamini_hochberg_matches_step_up_rule_and_skips_missing_p_values():
    p_values = [0.01, 0.04, None, 0.03, 0.2, 0.001, 0.049]
    result = benjamini_hochberg(p_values, alpha=0.05)
    present = np.array([p for p in p_values if p is not None])
    m = len(present)
    order = np.argsort(present)
    ranked = present[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    expected = np.empty(m)
    expected[order] = adjusted
    got = np.array([p for p in result.p_adjusted if p is not None])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert result.p_adjusted[2] is None
    pairs = zip(p_values, result.p_adjusted, strict=True)
    assert result.significant == tuple(p is not None and a <= 0.05 for p, a in pairs)


def test_scan_adjusts_all_crosstab_p_values_together():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "q1": rng.choice(["a", "b"], 400),
            "q2": rng.choice(["x", "y", "z"], 400),
            "district": rng.choice(["n", "s"], 400),
            "channel": rng.choice(["web", "paper", "phone"], 400),
        }
    )
    scan = crosstab_scan(frame, ["q1", "q2"], ["district", "channel"])
    assert [(t.row_variable, t.column_variable) for t in scan.tables] == [
        ("q1", "district"),
        ("q1", "channel"),
        ("q2", "district"),
        ("q2", "channel"),
    ]
    raw = [t.test.p_value for t in scan.tables]
    assert scan.comparison.p_adjusted == benjamini_hochberg(raw).p_adjusted
    json.dumps(scan.to_dict(), allow_nan=False)


def test_sparse_weighted_table_carries_a_warning_note():
    frame = pd.DataFrame(
        {"a": ["x", "x", "y", "y", "z"], "b": ["p", "q", "p", "q", "p"], "w": [1, 2, 1, 0.5, 1.0]}
    )
    result = crosstab(frame, "a", "b", design=SamplingDesign(weights="w"))
    assert result.test.method == "rao-scott-f"
    assert result.test.note.startswith("more than 20% of expected counts below 5")
    assert result.weighted_counts[2] == (1.0, 0.0)


def test_weighted_table_from_a_single_cluster_has_no_design_based_test():
    frame = pd.DataFrame(
        {"a": ["x", "y", "x", "y"], "b": ["p", "p", "q", "q"], "c": 1, "w": [1.0, 2.0, 1.0, 1.0]}
    )
    result = crosstab(frame, "a", "b", design=SamplingDesign(weights="w", clusters="c"))
    assert result.test.method == "none"
    assert "no between-PSU variance" in result.test.note
    assert all(r is None for row in result.adjusted_residuals for r in row)
    json.dumps(result.to_dict(), allow_nan=False)
