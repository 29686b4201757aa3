"""Rating scales, NPS, numeric summaries and rankings against scipy, numpy and hand formulas."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.design import SamplingDesign, design_mean
from analysis.errors import UnknownCategoryError
from analysis.proportions import proportion_ci
from analysis.scales import (
    matrix_summary,
    mean_ci,
    net_promoter_score,
    numeric_summary,
    ranking_summary,
    rating_summary,
    top_box,
)

RATINGS = pd.Series([5, 4, 4, 3, 5, 2, 1, 4, np.nan, 5, 3, 4])
WEIGHTS = np.array([1.2, 0.8, 1.0, 1.5, 0.7, 2.0, 1.1, 0.9, 3.0, 1.3, 0.6, 1.0])


def test_mean_interval_matches_scipy_t_interval():
    values = RATINGS.dropna().to_numpy()
    result = mean_ci(RATINGS)
    low, high = stats.t.interval(0.95, len(values) - 1, values.mean(), stats.sem(values))
    assert result.estimate == pytest.approx(values.mean(), rel=1e-12)
    assert result.se == pytest.approx(stats.sem(values), rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert (result.n_unweighted, result.n_missing) == (11, 1)


def test_weighted_mean_matches_linearised_design_estimate_and_hand_formula():
    result = mean_ci(RATINGS, WEIGHTS)
    frame = pd.DataFrame({"r": RATINGS, "w": WEIGHTS}).dropna()
    design = design_mean(frame, "r", SamplingDesign(weights="w"))
    assert result.estimate == pytest.approx(design.estimate, rel=1e-12)
    assert result.se == pytest.approx(design.se, rel=1e-9)
    assert result.ci_low == pytest.approx(design.ci_low, rel=1e-9)
    y, w = RATINGS.dropna().to_numpy(), WEIGHTS[RATINGS.notna().to_numpy()]
    mean = (w * y).sum() / w.sum()
    n = len(y)
    se = np.sqrt(n / (n - 1) * ((w * (y - mean)) ** 2).sum()) / w.sum()
    assert result.se == pytest.approx(se, rel=1e-12)


def test_mean_of_no_answers_and_of_one_answer_are_defined():
    empty = mean_ci(pd.Series([np.nan, None]))
    assert (empty.estimate, empty.ci_low, empty.note) == (None, None, "no valid answers")
    one = mean_ci(pd.Series([4.0]))
    assert one.estimate == 4.0
    assert (one.se, one.ci_low) == (None, None)
    assert one.note == "one answer: no interval"
    json.dumps(one.to_dict(), allow_nan=False)


def test_top_two_box_is_share_of_top_answers_with_wilson_interval():
    result = top_box(RATINGS, (4, 5))
    reference = proportion_ci(7, 11)
    assert result.estimate == pytest.approx(7 / 11)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (reference.ci_low, reference.ci_high), abs=1e-12
    )


def test_rating_summary_of_all_top_answers_and_of_nobody():
    everyone = rating_summary(pd.Series([5, 5, 4]), scale=[1, 2, 3, 4, 5])
    assert everyone.top == (4, 5)
    assert everyone.top_box.estimate == 1.0
    assert everyone.top_box.ci_high == 1.0
    nobody = rating_summary(pd.Series([np.nan] * 3), scale=[1, 2, 3, 4, 5])
    assert nobody.top_box.estimate is None
    assert nobody.mean.estimate is None
    assert [r.count for r in nobody.distribution.rows] == [0] * 5
    json.dumps(nobody.to_dict(), allow_nan=False)


def test_rating_outside_scale_is_refused():
    with pytest.raises(UnknownCategoryError, match="7"):
        rating_summary(pd.Series([1, 7], name="q3"), scale=[1, 2, 3, 4, 5])


def test_matrix_summary_is_rating_summary_per_statement():
    grid = pd.DataFrame({"parks": [5, 4, 2, np.nan], "roads": [1, 2, 2, 3]})
    rows = matrix_summary(grid, scale=[1, 2, 3, 4, 5])
    assert [r.row for r in rows] == ["parks", "roads"]
    assert rows[0].summary == rating_summary(grid["parks"], scale=[1, 2, 3, 4, 5])
    assert rows[0].summary.mean.n_unweighted == 3
    assert rows[1].summary.top_box.estimate == 0.0


def test_net_promoter_score_and_multinomial_wald_interval():
    answers = pd.Series([10, 9, 8, 7, 6, 0, 10, 9, 3, 10, np.nan, 8])
    result = net_promoter_score(answers)
    valid = answers.dropna().to_numpy()
    score = np.where(valid >= 9, 1, np.where(valid <= 6, -1, 0))
    # Rocks (2016): Var(NPS) = Var(score) / n, with Var the population variance of +1/0/-1.
    se = np.sqrt(score.var(ddof=0) / len(score))
    z = stats.norm.ppf(0.975)
    assert result.estimate == pytest.approx(100 * score.mean(), rel=1e-12)
    assert result.se == pytest.approx(100 * se, rel=1e-12)
    assert result.ci_low == pytest.approx(100 * (score.mean() - z * se), rel=1e-9)
    assert result.promoters_percent == pytest.approx(500 / 11)
    assert result.detractors_percent == pytest.approx(300 / 11)
    assert result.n_unweighted == 11


def test_weighted_net_promoter_score_uses_linearised_se_of_the_score():
    answers = pd.Series([10, 9, 8, 7, 6, 0, 10, 9, 3, 10])
    weights = np.linspace(0.5, 2.0, 10)
    result = net_promoter_score(answers, weights)
    score = np.where(answers >= 9, 1.0, np.where(answers <= 6, -1.0, 0.0))
    frame = pd.DataFrame({"s": score, "w": weights})
    reference = design_mean(frame, "s", SamplingDesign(weights="w"))
    assert result.estimate == pytest.approx(100 * reference.estimate, rel=1e-12)
    assert result.se == pytest.approx(100 * reference.se, rel=1e-9)


def test_net_promoter_score_edge_cases():
    allpromoters = net_promoter_score(pd.Series([9, 10, 10]))
    assert (allpromoters.estimate, allpromoters.ci_low, allpromoters.ci_high) == (100, 100, 100)
    assert net_promoter_score(pd.Series([], dtype=float)).note == "no valid answers"
    with pytest.raises(UnknownCategoryError, match="0 to 10"):
        net_promoter_score(pd.Series([3, 11]))


def test_numeric_summary_quartiles_match_numpy():
    rng = np.random.default_rng(2)
    values = pd.Series(rng.gamma(2, 30, 301))
    values[[5, 9]] = np.nan
    result = numeric_summary(values)
    q = np.nanquantile(values, [0, 0.25, 0.5, 0.75, 1])
    got = [result.minimum, result.q1, result.median, result.q3, result.maximum]
    assert got == pytest.approx(list(q), rel=1e-12)
    assert result.mean.n_missing == 2


def test_weighted_quartiles_equal_unweighted_quartiles_of_replicated_rows():
    values = pd.Series([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0])
    weights = np.array([2, 1, 3, 1, 1, 4, 2], dtype=float)
    result = numeric_summary(values, weights)
    expanded = np.repeat(values.to_numpy(), weights.astype(int))
    q = np.quantile(expanded, [0, 0.25, 0.5, 0.75, 1], method="inverted_cdf")
    got = [result.minimum, result.q1, result.median, result.q3, result.maximum]
    assert got == pytest.approx(list(q), rel=1e-12)
    assert result.mean.estimate == pytest.approx(expanded.mean(), rel=1e-12)


def test_numeric_summary_of_no_answers_is_all_none():
    result = numeric_summary(pd.Series([np.nan]))
    assert [result.minimum, result.median, result.maximum] == [None, None, None]
    json.dumps(result.to_dict(), allow_nan=False)


def test_ranking_mean_rank_and_share_ranked_first():
    ranks = pd.DataFrame(
        {
            "housing": [1, 2, 1, np.nan, 1],
            "transport": [2, 1, 3, np.nan, 2],
            "schools": [3, np.nan, 2, np.nan, 3],
        }
    )
    items = ranking_summary(ranks)
    assert [i.item for i in items] == ["housing", "transport", "schools"]
    by_item = {i.item: i for i in items}
    assert by_item["housing"].mean_rank.estimate == pytest.approx(ranks["housing"].mean())
    assert by_item["housing"].ranked_first.estimate == pytest.approx(3 / 4)
    assert by_item["transport"].ranked_first.estimate == pytest.approx(1 / 4)
    assert by_item["schools"].mean_rank.n_unweighted == 3
    assert by_item["schools"].ranked_first.n_unweighted == 4
    json.dumps([i.to_dict() for i in items], allow_nan=False)


def test_zero_weights_leave_no_valid_answer_without_counting_them_missing():
    result = mean_ci(pd.Series([1.0, 2.0, np.nan]), weights=[0.0, 0.0, 1.0])
    assert (result.estimate, result.n_unweighted, result.n_missing) == (None, 0, 1)
    nps = net_promoter_score(pd.Series([9.0, np.nan]), weights=[0.0, 1.0])
    assert (nps.estimate, nps.n_missing, nps.note) == (None, 1, "no valid answers")
