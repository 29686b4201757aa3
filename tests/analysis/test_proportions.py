"""Proportions and frequency tables against closed-form intervals, scipy, and published values."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import UnknownCategoryError, UnknownOptionError, WeightError
from analysis.proportions import (
    METHODS,
    frequencies,
    indicator_proportion,
    multiple_choice_frequencies,
    proportion_ci,
)

Z = stats.norm.ppf(0.975)
CASES = [(0, 10), (1, 10), (5, 10), (9, 10), (10, 10), (81, 263), (15, 148), (0, 1), (1, 1)]


def wilson(x, n, z=Z):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def clopper_pearson(x, n, alpha=0.05):
    low = 0.0 if x == 0 else stats.beta.ppf(alpha / 2, x, n - x + 1)
    high = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
    return low, high


def agresti_coull(x, n, z=Z):
    n_tilde = n + z * z
    p = (x + z * z / 2) / n_tilde
    half = z * np.sqrt(p * (1 - p) / n_tilde)
    return max(p - half, 0.0), min(p + half, 1.0)


def jeffreys(x, n, alpha=0.05):
    low = 0.0 if x == 0 else stats.beta.ppf(alpha / 2, x + 0.5, n - x + 0.5)
    high = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 0.5, n - x + 0.5)
    return low, high


def wald(x, n, z=Z):
    p = x / n
    half = z * np.sqrt(p * (1 - p) / n)
    return max(p - half, 0.0), min(p + half, 1.0)


REFERENCE = {
    "wilson": wilson,
    "clopper-pearson": clopper_pearson,
    "agresti-coull": agresti_coull,
    "jeffreys": jeffreys,
    "wald": wald,
}


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize(("x", "n"), CASES)
def test_interval_matches_closed_form(method, x, n):
    result = proportion_ci(x, n, method=method)
    low, high = REFERENCE[method](x, n)
    assert result.estimate == pytest.approx(x / n, abs=1e-12)
    assert result.ci_low == pytest.approx(low, abs=1e-6)
    assert result.ci_high == pytest.approx(high, abs=1e-6)
    assert result.n_unweighted == n


def test_interval_at_other_confidence_level():
    z = stats.norm.ppf(0.995)
    result = proportion_ci(30, 70, alpha=0.01)
    low, high = wilson(30, 70, z)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-9)


@pytest.mark.parametrize(
    ("x", "n", "method", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17, 857-872, Table II (4 decimals).
        (81, 263, "wald", 0.2522, 0.3638),
        (81, 263, "wilson", 0.2553, 0.3662),
        (81, 263, "clopper-pearson", 0.2527, 0.3676),
        (15, 148, "wilson", 0.0624, 0.1605),
        (15, 148, "clopper-pearson", 0.0578, 0.1617),
        (0, 20, "wilson", 0.0, 0.1611),
        (0, 20, "clopper-pearson", 0.0, 0.1684),
        (1, 29, "wilson", 0.0061, 0.1718),
        (1, 29, "clopper-pearson", 0.0009, 0.1776),
    ],
)
def test_interval_matches_newcombe_published_table(x, n, method, low, high):
    result = proportion_ci(x, n, method=method)
    assert result.ci_low == pytest.approx(low, abs=6e-5)
    assert result.ci_high == pytest.approx(high, abs=6e-5)


def test_empty_base_gives_no_estimate_and_says_why():
    result = proportion_ci(0, 0)
    assert (result.estimate, result.ci_low, result.ci_high) == (None, None, None)
    assert result.note == "no observations"
    json.dumps(result.to_dict(), allow_nan=False)


def test_unknown_method_is_refused_with_the_allowed_names():
    with pytest.raises(UnknownOptionError) as raised:
        proportion_ci(3, 10, method="exact")
    message = str(raised.value)
    assert "'exact'" in message
    for name in METHODS:
        assert name in message


def test_alpha_outside_unit_interval_is_refused():
    with pytest.raises(UnknownOptionError, match="alpha"):
        proportion_ci(3, 10, alpha=1.5)


def test_frequency_table_counts_percent_and_interval_per_category():
    answers = pd.Series(["bus", "metro", "bus", None, "bike", "bus", "metro", np.nan])
    table = frequencies(answers)
    assert table.n_unweighted == 6
    assert table.n_missing == 2
    rows = {r.category: r for r in table.rows}
    assert [r.category for r in table.rows] == ["bike", "bus", "metro"]
    assert rows["bus"].count == 3
    assert rows["bus"].percent == pytest.approx(50.0)
    low, high = wilson(3, 6)
    assert rows["bus"].percent_ci_low == pytest.approx(100 * low, abs=1e-6)
    assert rows["bus"].percent_ci_high == pytest.approx(100 * high, abs=1e-6)
    counts = answers.value_counts()
    assert {r.category: r.count for r in table.rows} == counts.to_dict()


def test_frequency_table_keeps_declared_categories_nobody_chose():
    answers = pd.Series(pd.Categorical(["a", "a", "b"], categories=["a", "b", "c"]))
    rows = frequencies(answers, method="clopper-pearson").rows
    assert [r.category for r in rows] == ["a", "b", "c"]
    assert rows[2].count == 0
    assert rows[2].percent == 0.0
    assert rows[2].percent_ci_low == 0.0
    assert rows[2].percent_ci_high == pytest.approx(100 * clopper_pearson(0, 3)[1], abs=1e-6)


def test_frequency_table_of_all_missing_answers_is_defined():
    table = frequencies(pd.Series([None, None], dtype=object), categories=["yes", "no"])
    assert table.n_unweighted == 0
    assert table.n_missing == 2
    assert table.note == "no valid answers"
    assert all(r.percent is None and r.count == 0 for r in table.rows)
    json.dumps(table.to_dict(), allow_nan=False)


def test_frequency_table_with_one_category_is_one_hundred_percent():
    table = frequencies(pd.Series(["yes"] * 4))
    (row,) = table.rows
    assert row.percent == 100.0
    assert row.percent_ci_high == 100.0
    assert row.percent_ci_low == pytest.approx(100 * wilson(4, 4)[0], abs=1e-6)


def test_value_outside_declared_categories_is_named():
    with pytest.raises(UnknownCategoryError, match="'taxi'"):
        frequencies(pd.Series(["bus", "taxi"], name="mode"), categories=["bus", "metro"])


def test_weighted_frequencies_use_weighted_share_and_kish_effective_n():
    answers = pd.Series(["a", "b", "a", "c", "b", "a", None])
    weights = np.array([1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 9.0])
    table = frequencies(answers, weights=weights)
    valid = answers.notna().to_numpy()
    w = weights[valid]
    n_eff = w.sum() ** 2 / (w**2).sum()
    share_a = (1.0 + 0.5 + 3.0) / w.sum()
    low, high = wilson(share_a * n_eff, n_eff)
    row = table.rows[0]
    assert table.effective_n == pytest.approx(n_eff, rel=1e-12)
    assert row.weighted_count == pytest.approx(4.5)
    assert row.percent == pytest.approx(100 * share_a, abs=1e-9)
    assert (row.percent_ci_low, row.percent_ci_high) == pytest.approx(
        (100 * low, 100 * high), abs=1e-6
    )
    assert row.count == 3
    assert table.n_unweighted == 6


def test_negative_weight_is_refused():
    with pytest.raises(WeightError, match="negative"):
        frequencies(pd.Series(["a", "b"]), weights=[1.0, -1.0])


def test_multiple_choice_percent_of_respondents_and_of_mentions():
    selected = pd.DataFrame(
        {
            "parks": [1, 1, 0, 1, np.nan],
            "roads": [1, 0, 0, 1, np.nan],
            "schools": [0, 1, 0, 0, np.nan],
        }
    )
    table = multiple_choice_frequencies(selected)
    assert table.n_unweighted == 4  # the last respondent skipped the question
    assert table.n_missing == 1
    assert table.n_mentions == 6
    rows = {r.option: r for r in table.rows}
    assert rows["parks"].percent_of_respondents == pytest.approx(75.0)
    assert rows["parks"].percent_of_mentions == pytest.approx(50.0)
    assert rows["schools"].percent_of_mentions == pytest.approx(100 / 6)
    low, high = wilson(3, 4)
    assert rows["parks"].percent_ci_low == pytest.approx(100 * low, abs=1e-6)
    assert rows["parks"].percent_ci_high == pytest.approx(100 * high, abs=1e-6)
    assert sum(r.percent_of_mentions for r in table.rows) == pytest.approx(100.0)


def test_weighted_multiple_choice_matches_hand_computation():
    selected = pd.DataFrame({"a": [True, False, True], "b": [True, True, False]})
    weights = np.array([2.0, 1.0, 1.0])
    table = multiple_choice_frequencies(selected, weights=weights)
    rows = {r.option: r for r in table.rows}
    assert rows["a"].percent_of_respondents == pytest.approx(75.0)
    assert rows["b"].percent_of_respondents == pytest.approx(75.0)
    assert rows["a"].percent_of_mentions == pytest.approx(50.0)
    assert table.effective_n == pytest.approx(16 / 6)


def test_multiple_choice_nobody_answered_is_defined():
    selected = pd.DataFrame({"a": [np.nan, np.nan], "b": [np.nan, np.nan]})
    table = multiple_choice_frequencies(selected)
    assert table.n_unweighted == 0
    assert all(r.percent_of_respondents is None for r in table.rows)
    assert all(r.percent_of_mentions is None for r in table.rows)
    json.dumps(table.to_dict(), allow_nan=False)


def test_weighted_indicator_share_counts_on_effective_n():
    indicator = pd.Series([True, False, True, None, False])
    weights = np.array([1.0, 2.0, 3.0, 4.0, 2.0])
    result = indicator_proportion(indicator, weights, method="jeffreys")
    w = np.array([1.0, 2.0, 3.0, 2.0])
    n_eff = w.sum() ** 2 / (w**2).sum()
    assert result.estimate == pytest.approx(0.5)
    assert result.nobs == pytest.approx(n_eff)
    low, high = jeffreys(0.5 * n_eff, n_eff)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-6)
    assert result.n_unweighted == 4
