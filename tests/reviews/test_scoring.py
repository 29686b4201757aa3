"""Scoring suggestions, the review round, nominations and golden ideas, through domain functions."""

from __future__ import annotations

import pytest

from minsheng.audit import events_for
from minsheng.errors import InputError
from reviews.annotations import annotate, campaign_annotations
from reviews.experts import assign_expert, close_review_round, reopen_review_round
from reviews.golden_ideas import choose_golden_ideas, golden_ideas, nominate, ranking
from reviews.scoring import campaign_agreement, score_suggestion
from reviews.suggestions import campaign_suggestions
from tests.factories import UserFactory

GOOD = {"authenticity": 5, "cause": 4, "feasibility": 5}


def test_suggestions_are_the_non_blank_open_answers_with_contact_details_masked(
    session, campaign, responses
):
    suggestions = campaign_suggestions(session, campaign)
    assert len(suggestions) == 5
    texts = " ".join(s.text for s in suggestions)
    assert "13812345678" not in texts
    assert "138****5678" in texts
    assert "zhang.san@example.com" not in texts
    assert "z***@example.com" in texts


def test_a_second_score_by_the_same_expert_replaces_the_first(
    session, campaign, responses, experts
):
    response = responses[0]
    score_suggestion(session, campaign, experts[0], response.id, "suggestion", GOOD, "真实")
    changed = score_suggestion(
        session, campaign, experts[0], response.id, "suggestion", {**GOOD, "cause": 2}, "改"
    )
    rows = [r for r in ranking(session, campaign) if r.response_id == response.id]
    assert len(rows) == 1
    assert rows[0].n_raters == 1
    assert changed.cause == 2
    actions = [e.action for e in events_for(session, "suggestion", f"{response.id}:suggestion")]
    assert actions == ["review.score", "review.rescore"]


def test_bad_scores_are_refused_with_every_problem_named(session, campaign, responses, experts):
    with pytest.raises(InputError) as caught:
        score_suggestion(
            session,
            campaign,
            experts[0],
            responses[0].id,
            "suggestion",
            {"authenticity": 7, "cause": "x", "novelty": 3},
        )
    locations = {p.location for p in caught.value.problems}
    assert locations == {"authenticity", "cause", "feasibility", "scores"}
    assert "expected a whole number from 1 to 5" in str(caught.value)
    assert "novelty" in str(caught.value)


def test_an_expert_not_assigned_to_the_campaign_cannot_score(session, campaign, responses):
    outsider = UserFactory(role="expert")
    with pytest.raises(InputError, match="not assigned to campaign 'transport-2026'"):
        score_suggestion(session, campaign, outsider, responses[0].id, "suggestion", GOOD)


def test_a_response_without_a_suggestion_cannot_be_scored(session, campaign, responses, experts):
    blank = responses[-1]
    with pytest.raises(InputError, match=f"response {blank.id} .* has no answer"):
        score_suggestion(session, campaign, experts[0], blank.id, "suggestion", GOOD)
    with pytest.raises(InputError, match="open-text questions: suggestion"):
        score_suggestion(session, campaign, experts[0], responses[0].id, "district", GOOD)


def test_only_expert_accounts_can_be_assigned(session, campaign):
    organizer = UserFactory(role="organizer")
    with pytest.raises(InputError, match="only role 'expert'"):
        assign_expert(session, campaign, organizer)


def test_scores_are_frozen_once_the_round_is_closed_and_editable_after_reopening(
    session, campaign, responses, experts
):
    score_suggestion(session, campaign, experts[0], responses[0].id, "suggestion", GOOD)
    close_review_round(session, campaign)
    with pytest.raises(InputError, match="review round of 'transport-2026' is closed"):
        score_suggestion(session, campaign, experts[0], responses[0].id, "suggestion", GOOD)
    reopen_review_round(session, campaign)
    score_suggestion(session, campaign, experts[0], responses[0].id, "suggestion", GOOD)


def _score_all(session, campaign, responses, experts):
    # Expert i gives suggestion j the score base[j] + offset[i] (clipped), so experts agree on
    # the order but not fully on the level.
    base = [5, 3, 4, 2, 1]
    for i, expert in enumerate(experts):
        for j, response in enumerate(responses[:5]):
            value = max(1, min(5, base[j] + (i - 1) * (j % 2)))
            scores = {"authenticity": value, "cause": value, "feasibility": base[j]}
            score_suggestion(session, campaign, expert, response.id, "suggestion", scores)


def test_ranking_orders_by_mean_with_rater_count_and_interval(
    session, campaign, responses, experts
):
    _score_all(session, campaign, responses, experts)
    ranked = ranking(session, campaign)
    order = [0, 2, 1, 3, 4]
    assert [r.response_id for r in ranked] == [responses[i].id for i in order]
    top = ranked[0]
    assert top.n_raters == 3
    assert top.mean == pytest.approx(5.0)
    third = ranked[2]
    # Experts' means for suggestion 2: (2+2+3)/3, (3+3+3)/3, (4+4+3)/3 -> mean 3, sd 2/3, and
    # the t(2) quantile 4.302652729911275 (scipy.stats.t.ppf(0.975, 2)).
    assert third.mean == pytest.approx(3.0)
    half_width = 4.302652729911275 * (2 / 3) / 3**0.5
    assert third.ci_low == pytest.approx(3.0 - half_width)
    assert third.ci_high == pytest.approx(3.0 + half_width)
    assert third.criteria["feasibility"] == pytest.approx(3.0)


def test_agreement_is_computed_per_criterion(session, campaign, responses, experts):
    _score_all(session, campaign, responses, experts)
    rows = {row.criterion: row for row in campaign_agreement(session, campaign)}
    assert set(rows) == {"authenticity", "cause", "feasibility"}
    # Every expert gave the same feasibility scores: perfect agreement.
    assert rows["feasibility"].icc.estimate == pytest.approx(1.0)
    assert rows["feasibility"].alpha.estimate == pytest.approx(1.0)
    assert 0 < rows["authenticity"].icc.estimate < 1
    assert rows["authenticity"].icc.n_targets == 5
    assert rows["authenticity"].icc.n_judges == 3


def test_golden_ideas_need_a_nomination_a_closed_round_and_a_citation(
    session, campaign, responses, experts
):
    _score_all(session, campaign, responses, experts)
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
    top = ranking(session, campaign, nominated_only=True)
    assert len(top) == 1
    assert top[0].citation == "末班车延时，惠及夜归通勤者"


def test_annotations_need_an_assigned_expert_a_real_question_and_text(session, campaign, experts):
    annotate(session, campaign, experts[0], "sat_bus", "公交满意度偏低，与班次少一致")
    with pytest.raises(InputError) as caught:
        annotate(session, campaign, UserFactory(role="expert"), "no_such", "  ")
    assert {p.location for p in caught.value.problems} == {"author", "question", "text"}
    assert [a.text for a in campaign_annotations(session, campaign)] == [
        "公交满意度偏低，与班次少一致"
    ]
