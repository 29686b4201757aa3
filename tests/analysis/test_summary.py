"""`summarize` / `summarize_frame` against independent computations (hand formulas, numpy,
scipy), and the edge cases that must give defined results."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.frames import answers_frame
from analysis.summary import summarize, summarize_frame
from campaigns.definition import read_campaign_file

from .conftest import EXAMPLE, PROBLEMS

Z = stats.norm.ppf(0.975)


def wilson(count, n):
    """Wilson score interval written out (Wilson 1927; Agresti & Coull 1998, eq. 2)."""
    p = count / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return max(centre - half, 0.0), min(centre + half, 1.0)


@pytest.fixture(scope="module")
def form():
    return read_campaign_file(EXAMPLE).form


def test_single_choice_counts_percentages_and_wilson_intervals(session, answered):
    campaign, answers = answered
    summary = summarize(session, campaign)
    assert summary.slug == "transport-2026"
    assert summary.n_responses == len(answers)
    district = summary.question("district")
    assert district.kind == "single" and district.n_base == len(answers)
    counts = Counter(a["district"] for a in answers)
    assert [r.name for r in district.rows][:3] == ["jinjiang", "qingyang", "jinniu"]
    for row in district.rows:
        n = len(answers)
        assert row.count == counts.get(row.name, 0)
        assert row.percent == pytest.approx(100 * row.count / n, abs=1e-9)
        low, high = wilson(row.count, n)
        assert row.ci_low == pytest.approx(100 * low, abs=1e-6)
        assert row.ci_high == pytest.approx(100 * high, abs=1e-6)
    assert district.rows[0].label == {"zh": "锦江区", "en": "Jinjiang"}


def test_likert_mean_interval_and_satisfaction_rate(session, answered):
    campaign, answers = answered
    q = summarize(session, campaign).question("sat_bus")
    scores = np.array([int(a["sat_bus"]) for a in answers], dtype=float)
    assert q.kind == "rating"
    assert q.mean.estimate == pytest.approx(scores.mean(), abs=1e-9)
    low, high = stats.t.interval(0.95, len(scores) - 1, scores.mean(), stats.sem(scores))
    assert q.mean.ci_low == pytest.approx(low, abs=1e-6)
    assert q.mean.ci_high == pytest.approx(high, abs=1e-6)
    top = int((scores >= 4).sum())
    assert q.top_box_choices == ("4", "5")
    assert q.top_box.estimate == pytest.approx(top / len(scores), abs=1e-9)
    w_low, w_high = wilson(top, len(scores))
    assert q.top_box.ci_low == pytest.approx(w_low, abs=1e-6)
    assert q.top_box.ci_high == pytest.approx(w_high, abs=1e-6)


def test_multiple_choice_percent_of_respondents_and_of_mentions(session, answered):
    campaign, answers = answered
    q = summarize(session, campaign).question("problems")
    assert q.kind == "multiple"
    ticks = Counter(p for a in answers for p in a["problems"])
    total = sum(ticks.values())
    by_name = {r.name: r for r in q.rows}
    for option in PROBLEMS:
        row = by_name[option]
        assert row.count == ticks[option]
        assert row.percent == pytest.approx(100 * ticks[option] / len(answers), abs=1e-9)
        assert row.percent_of_mentions == pytest.approx(100 * ticks[option] / total, abs=1e-9)
        low, high = wilson(ticks[option], len(answers))
        assert row.ci_low == pytest.approx(100 * low, abs=1e-6)
        assert row.ci_high == pytest.approx(100 * high, abs=1e-6)
    assert by_name["sidewalk"].count == 0 and by_name["sidewalk"].percent == 0


def test_text_question_counts_answers(session, answered):
    campaign, answers = answered
    q = summarize(session, campaign).question("suggestion")
    assert q.kind == "text"
    assert q.n_base == sum("suggestion" in a for a in answers)


def test_summary_is_plain_json_in_form_order(session, answered, form):
    campaign, _ = answered
    data = summarize(session, campaign).to_dict()
    again = json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))
    assert again == data
    assert [q["name"] for q in data["questions"]] == [q.name for q in form.questions()]
    assert data["title"]["zh"] == "交通出行专项征集"


def test_campaign_without_responses_gives_defined_empty_results(session, campaign):
    summary = summarize(session, campaign)
    assert summary.n_responses == 0
    district = summary.question("district")
    assert district.n_base == 0
    assert all(r.count == 0 and r.percent is None for r in district.rows)
    sat = summary.question("sat_bus")
    assert sat.mean.estimate is None and sat.top_box.estimate is None
    json.dumps(summary.to_dict(), allow_nan=False)


def test_all_missing_question_and_single_category(form):
    frame = answers_frame([{"district": "wuhou", "sat_bus": "5"}] * 4, form)
    summary = summarize_frame(frame, form)
    district = summary.question("district")
    wuhou = next(r for r in district.rows if r.name == "wuhou")
    assert wuhou.count == 4 and wuhou.percent == 100
    low, _ = wilson(4, 4)
    assert wuhou.ci_low == pytest.approx(100 * low, abs=1e-6) and wuhou.ci_high == 100
    age = summary.question("age_group")
    assert age.n_base == 0 and age.n_missing == 4
    assert summary.question("sat_bus").top_box.estimate == 1.0
    assert summary.question("problems").n_base == 0
    json.dumps(summary.to_dict(), allow_nan=False)


def test_weighted_shares_use_the_weights_and_keep_unweighted_bases(form):
    answers = [{"district": "wuhou"}] * 3 + [{"district": "pidu"}] * 2
    weights = np.array([1.0, 1.0, 1.0, 3.0, 3.0])
    frame = answers_frame(answers, form)
    q = summarize_frame(frame, form, weights=weights).question("district")
    wuhou = next(r for r in q.rows if r.name == "wuhou")
    assert q.n_base == 5 and q.weighted_base == pytest.approx(9.0)
    assert wuhou.percent == pytest.approx(100 * 3 / 9, abs=1e-9)
    n_eff = weights.sum() ** 2 / (weights**2).sum()
    low, high = wilson(3 / 9 * n_eff, n_eff)
    assert wuhou.ci_low == pytest.approx(100 * low, abs=1e-6)
    assert wuhou.ci_high == pytest.approx(100 * high, abs=1e-6)


def test_segments_give_crosstabs_matching_pandas(session, answered, form):
    campaign, answers = answered
    summary = summarize(session, campaign, segments=("district",))
    table = next(t for t in summary.crosstabs.tables if t.row_variable == "age_group")
    frame = pd.DataFrame(answers)
    expected = pd.crosstab(frame["age_group"], frame["district"])
    for i, age in enumerate(table.row_categories):
        for j, district in enumerate(table.column_categories):
            want = expected.at[age, district] if district in expected.columns else 0
            assert table.counts[i][j] == want
    chi2 = stats.chi2_contingency(expected.to_numpy(), correction=False)
    assert table.test.statistic == pytest.approx(chi2.statistic, abs=1e-6)
    assert table.test.p_value == pytest.approx(chi2.pvalue, abs=1e-6)
    assert all(t.row_variable != "district" for t in summary.crosstabs.tables)
    json.dumps(summary.to_dict(), allow_nan=False)


def test_unknown_segment_is_refused_with_the_known_columns(form):
    frame = answers_frame([{"district": "wuhou"}], form)
    with pytest.raises(KeyError, match="nonexistent"):
        summarize_frame(frame, form, segments=("nonexistent",))


@pytest.mark.parametrize("n", [0, 1, 2, 37])
def test_rating_from_counts_equals_rating_summary_on_the_answers(form, n):
    from analysis.scales import rating_summary

    rng = np.random.default_rng(n)
    values = [str(v) for v in rng.integers(1, 6, n)] + [None, None]
    frame = answers_frame([{"sat_bus": v} if v else {} for v in values], form)
    ours = summarize_frame(frame, form, exclude=()).question("sat_bus")
    scores = pd.Series([float(v) if v else np.nan for v in values])
    reference = rating_summary(scores, [1.0, 2.0, 3.0, 4.0, 5.0])
    for field in ("estimate", "se", "ci_low", "ci_high", "sd"):
        got, want = getattr(ours.mean, field), getattr(reference.mean, field)
        assert (got is None and want is None) or got == pytest.approx(want, abs=1e-9), field
    assert ours.mean.n_unweighted == reference.mean.n_unweighted
    assert ours.mean.n_missing == reference.mean.n_missing
    assert ours.mean.note == reference.mean.note
    assert ours.top_box.to_dict() == pytest.approx(reference.top_box.to_dict(), abs=1e-9)
