"""Scores, the ranking, agreement, golden ideas and annotations, through domain functions."""

from __future__ import annotations

import pytest

from minsheng.errors import InputError
from reviews.annotations import annotate, campaign_annotations
from reviews.experts import assign_expert, close_review_round, reopen_review_round
from reviews.golden_ideas import choose_golden_ideas, golden_ideas, nominate
from reviews.ranking import campaign_agreement, item_score_interval, item_scores
from reviews.scoring import campaign_reviews, submit_review
from reviews.suggestions import campaign_suggestions, suggestion_of_answer
from tests.factories import UserFactory
from tests.reviews.builders import start_round

GOOD = {"authenticity": 5, "cause": 4, "feasibility": 5}


def test_only_expert_accounts_can_be_assigned(session, campaign):
    organizer = UserFactory(role="organizer")
    with pytest.raises(InputError, match="only role 'expert'"):
        assign_expert(session, campaign, organizer)


def test_a_response_without_a_suggestion_has_no_record(session, campaign, responses, experts):
    start_round(session, campaign)
    blank = responses[-1]
    with pytest.raises(InputError, match=f"response {blank.id} .* has no answer"):
        suggestion_of_answer(session, campaign, blank.id, "suggestion")
    with pytest.raises(InputError, match="open-text questions: suggestion"):
        suggestion_of_answer(session, campaign, responses[0].id, "district")


def test_scores_are_frozen_once_the_round_is_closed_and_editable_after_reopening(
    session, campaign, responses, experts
):
    start_round(session, campaign)
    item = campaign_suggestions(session, campaign)[0]
    submit_review(session, campaign, experts[0], item.id, GOOD)
    close_review_round(session, campaign)
    with pytest.raises(InputError, match="review round of 'transport-2026' is closed"):
        submit_review(session, campaign, experts[0], item.id, GOOD)
    reopen_review_round(session, campaign)
    assert submit_review(session, campaign, experts[0], item.id, GOOD).version == 2


def _score_all(session, campaign, experts):
    # Expert i gives suggestion j the score base[j] + offset[i] (clipped), so experts agree on
    # the order but not fully on the level.
    start_round(session, campaign, k=3)
    base = [5, 3, 4, 2, 1]
    items = campaign_suggestions(session, campaign)
    for i, expert in enumerate(experts):
        for j, item in enumerate(items):
            value = max(1, min(5, base[j] + (i - 1) * (j % 2)))
            scores = {"authenticity": value, "cause": value, "feasibility": base[j]}
            submit_review(session, campaign, expert, item.id, scores)
    return items


def test_the_ranking_uses_the_median_with_a_bootstrap_interval_inside_the_scale(
    session, campaign, responses, experts
):
    items = _score_all(session, campaign, experts)
    ranked = item_scores(campaign_reviews(session, campaign))
    assert [r.suggestion_id for r in ranked] == [items[i].id for i in (0, 2, 1, 3, 4)]
    assert ranked[0].estimate == pytest.approx(5.0) and ranked[0].n_raters == 3
    for row in ranked:
        assert 1 <= row.ci_low <= row.estimate <= row.ci_high <= 5
    # Suggestion 2: totals (2+2+3)/3, 3, (4+4+3)/3: median 3, and the interval spans the
    # totals' range, never the t interval's -11.99 to 17.66.
    third = ranked[2]
    assert third.estimate == pytest.approx(3.0)
    assert third.ci_low == pytest.approx(7 / 3) and third.ci_high == pytest.approx(11 / 3)
    # Its interval overlaps the fourth one's (2 ± 2/3): they share ranks 3-4.
    assert (third.rank_best, third.rank_worst) == (3, 4)
    assert ranked[0].rank_best == ranked[0].rank_worst == 1


def test_one_score_gives_a_degenerate_interval_and_trimmed_mean_is_available():
    assert item_score_interval([2.83]) == (2.83, 2.83, 2.83)
    estimate, low, high = item_score_interval([1, 2, 5, 5, 5], "trimmed_mean")
    assert estimate == pytest.approx(4.0)  # 20 % off each end: mean of 2, 5, 5
    assert 1 <= low <= high <= 5
    with pytest.raises(ValueError, match="expected one of median, trimmed_mean"):
        item_score_interval([1, 2], "mode")


def test_disagreeing_experts_flag_the_item_and_standardising_evens_out_a_lenient_expert(
    session, campaign, responses, experts
):
    start_round(session, campaign, k=3)
    items = campaign_suggestions(session, campaign)
    low, high = {"authenticity": 1, "cause": 1, "feasibility": 1}, {c: 5 for c in GOOD}
    submit_review(session, campaign, experts[0], items[0].id, low)
    submit_review(session, campaign, experts[1], items[0].id, high)
    submit_review(session, campaign, experts[2], items[0].id, high)
    (row,) = item_scores(campaign_reviews(session, campaign))
    assert row.flagged and row.spread == pytest.approx(4.0)
    assert row.n_gated == 1
    assert (
        "standardised"
        in item_scores(campaign_reviews(session, campaign), standardise=True)[0].method
    )


def test_agreement_is_computed_per_criterion_and_for_the_total_at_every_level(
    session, campaign, responses, experts
):
    _score_all(session, campaign, experts)
    rows = {row.criterion: row for row in campaign_agreement(session, campaign)}
    assert set(rows) == {"authenticity", "cause", "feasibility", None}
    assert rows["feasibility"].icc.estimate == pytest.approx(1.0)
    assert rows["feasibility"].alpha["ordinal"].estimate == pytest.approx(1.0)
    assert set(rows[None].alpha) == {"nominal", "ordinal", "interval", "ratio"}
    assert 0 < rows["authenticity"].icc.estimate < 1
    assert (rows["authenticity"].icc.n_targets, rows["authenticity"].icc.n_judges) == (5, 3)


def test_golden_ideas_need_a_nomination_a_closed_round_and_a_citation(
    session, campaign, responses, experts
):
    _score_all(session, campaign, experts)
    nomination = nominate(session, campaign, responses[0].id, "suggestion", reason="街道推荐")
    assert nominate(session, campaign, responses[0].id, "suggestion").id == nomination.id
    with pytest.raises(InputError) as caught:
        choose_golden_ideas(session, campaign, {nomination.id: " ", 999999: "x"})
    messages = str(caught.value)
    assert "close the review round first" in messages
    assert "needs a citation text" in messages
    assert "nomination 999999: is not a nomination of campaign 'transport-2026'" in messages
    close_review_round(session, campaign)
    choose_golden_ideas(session, campaign, {nomination.id: "末班车延时，惠及夜归通勤者"})
    assert [g.citation for g in golden_ideas(session, campaign)] == ["末班车延时，惠及夜归通勤者"]


def test_annotations_need_an_assigned_expert_a_real_question_and_text(session, campaign, experts):
    annotate(session, campaign, experts[0], "sat_bus", "公交满意度偏低，与班次少一致")
    with pytest.raises(InputError) as caught:
        annotate(session, campaign, UserFactory(role="expert"), "no_such", "  ")
    assert {p.location for p in caught.value.problems} == {"author", "question", "text"}
    assert [a.text for a in campaign_annotations(session, campaign)] == [
        "公交满意度偏低，与班次少一致"
    ]
