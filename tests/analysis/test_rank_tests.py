"""Kruskal-Wallis and Mann-Whitney from count tables against scipy on the raw answers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import UnknownCategoryError
from analysis.rank_tests import kruskal_wallis, mann_whitney


def likert(seed=3, n=600):
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C"], n)
    shift = pd.Series(group).map({"A": 0.0, "B": 0.4, "C": 0.8}).to_numpy()
    answer = np.clip(np.round(rng.normal(3 + shift, 1.1)), 1, 5)
    answer[rng.choice(n, 20, replace=False)] = np.nan
    return pd.Series(answer), pd.Series(group)


def test_kruskal_wallis_matches_scipy_with_ties():
    values, groups = likert()
    result = kruskal_wallis(values, groups)
    samples = [values[(groups == g) & values.notna()].to_numpy() for g in ["A", "B", "C"]]
    reference = stats.kruskal(*samples)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-7)
    assert result.df == 2
    n = sum(len(s) for s in samples)
    assert result.effect_size == pytest.approx(reference.statistic / (n - 1), rel=1e-9)
    assert result.group_n == tuple(len(s) for s in samples)


def test_mann_whitney_matches_scipy_and_pairwise_rank_biserial():
    values, groups = likert(seed=8, n=300)
    result = mann_whitney(values, groups, "C", "A")
    x = values[(groups == "C") & values.notna()].to_numpy()
    y = values[(groups == "A") & values.notna()].to_numpy()
    reference = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-7)
    greater = (x[:, None] > y[None, :]).mean()
    less = (x[:, None] < y[None, :]).mean()
    assert result.effect_size == pytest.approx(greater - less, rel=1e-12)
    assert result.effect_size > 0
    assert result.groups == ("C", "A")


def test_rank_tests_accept_ordered_categorical_answers():
    labels = ["very poor", "poor", "fair", "good", "very good"]
    values, groups = likert(seed=1, n=200)
    ordered = pd.Series(
        pd.Categorical.from_codes(values.fillna(0).astype(int) - 1, categories=labels, ordered=True)
    )
    numeric = kruskal_wallis(values, groups)
    categorical = kruskal_wallis(ordered, groups)
    assert categorical.statistic == pytest.approx(numeric.statistic, rel=1e-12)


def test_rank_tests_with_one_group_or_all_ties_are_defined():
    values = pd.Series([3, 3, 3, 3])
    groups = pd.Series(["A", "A", "B", "B"])
    tied = kruskal_wallis(values, groups)
    assert (tied.statistic, tied.p_value) == (None, None)
    assert "all answers equal" in tied.note
    one = kruskal_wallis(pd.Series([1, 2, 3]), pd.Series(["A", "A", "A"]))
    assert one.p_value is None
    empty = mann_whitney(pd.Series([1, 2, 3]), pd.Series(["A", "A", "A"]), "A", "B")
    assert empty.p_value is None
    assert empty.group_n == (3, 0)


def test_unordered_text_answers_are_refused_for_rank_tests():
    with pytest.raises(UnknownCategoryError, match="ordered"):
        kruskal_wallis(pd.Series(["good", "bad"], name="q1"), pd.Series(["A", "B"]))
    unordered = pd.Series(pd.Categorical(["good", "bad"]), name="q1")
    with pytest.raises(UnknownCategoryError, match="ordered"):
        mann_whitney(unordered, pd.Series(["A", "B"]), "A", "B")
