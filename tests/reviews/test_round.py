"""A review round through its domain functions: suggestions as records, the rubric as versioned
data, blind balanced assignment with conflicts excluded, hand-backs, independent scores and
their revisions, nominations by units."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pytest
from sqlalchemy import select

from minsheng.accounts.users import get_or_create_department
from minsheng.errors import InputError
from reviews.assignment import expert_tasks, mark_overdue, step_down, task_of
from reviews.experts import (
    assign_expert,
    close_review_round,
    configure_round,
    review_round,
    set_expert_profile,
    start_review_round,
)
from reviews.golden_ideas import nominate, nominate_suggestion
from reviews.models import Review, ReviewTask
from reviews.rubrics import DEFAULT_RUBRIC, save_rubric, scored
from reviews.scoring import campaign_reviews, peer_scores, post_discussion, submit_review
from reviews.suggestions import campaign_suggestions
from tests.factories import UserFactory
from tests.reviews.builders import MANY, start_round, submit_suggestions

GOOD = {"authenticity": 5, "cause": 4, "feasibility": 5}


def _experts(session, campaign, n):
    users = [UserFactory(role="expert") for _ in range(n)]
    for user in users:
        assign_expert(session, campaign, user)
    return users


def test_suggestions_become_records_with_duplicates_merged_credit_kept_and_text_masked(
    session, campaign
):
    texts = [*MANY[:3], "建议增加地铁末班车的班次！", "希望公交站台增加遮阳棚，联系13812345678"]
    responses = submit_suggestions(session, campaign, texts)
    start_review_round(session, campaign)
    records = campaign_suggestions(session, campaign)
    metro = [r for r in records if "末班车" in r.text]
    assert len(metro) == 1
    assert {s.response_id for s in metro[0].sources} == {responses[0].id, responses[3].id}
    assert metro[0].n_sources == 2
    joined = " ".join(r.text for r in records)
    assert "13812345678" not in joined and "138****5678" in joined
    # A later answer tops the records up; the same wording joins its record.
    late = submit_suggestions(session, campaign, ["建议增加地铁末班车的班次"])
    start_review_round(session, campaign)
    assert len(campaign_suggestions(session, campaign)) == len(records)
    assert late[0].id in {s.response_id for s in metro[0].sources}


def test_a_rubric_is_versioned_data_with_weights_anchors_and_gates(session, campaign):
    first = save_rubric(session, campaign, DEFAULT_RUBRIC)
    heavier = [{**c, "weight": 2.0} if c["key"] == "feasibility" else c for c in DEFAULT_RUBRIC]
    second = save_rubric(session, campaign, heavier)
    assert (first.version, second.version) == (1, 2)
    assert save_rubric(session, campaign, heavier) is second
    assert first.criteria[0].anchors[0]["zh"] == "无事实依据，问题不存在"
    result = scored(second, {"authenticity": 1, "cause": 3, "feasibility": 5})
    assert result.total == pytest.approx((1 + 3 + 2 * 5) / 4)
    assert result.gated and result.failed_gates == ("authenticity",)


def test_a_bad_rubric_is_refused_naming_every_place(session, campaign):
    bad = [
        {"key": "Real", "label": {"en": "x"}, "weight": 0, "gate": 1, "anchors": ["a"] * 4},
        {"key": "cause", "label": "原因", "anchors": ["a", "b", "c", "d", "e"], "colour": "red"},
    ]
    with pytest.raises(InputError) as caught:
        save_rubric(session, campaign, bad)
    where = {p.location for p in caught.value.problems}
    assert {
        "criteria[1].key",
        "criteria[1].label",
        "criteria[1].weight",
        "criteria[1].gate",
        "criteria[1].anchors",
        "criteria[2]",
    } <= where
    assert "expected 5 anchor texts" in str(caught.value)


def test_the_rubric_in_use_cannot_change_mid_round_and_each_review_keeps_its_version(
    session, campaign
):
    submit_suggestions(session, campaign, MANY[:2])
    (expert,) = _experts(session, campaign, 1)
    start_round(session, campaign, k=1)
    item = campaign_suggestions(session, campaign)[0]
    review = submit_review(session, campaign, expert, item.id, GOOD)
    newer = save_rubric(session, campaign, [{**DEFAULT_RUBRIC[0], "weight": 3.0}])
    with pytest.raises(InputError, match="it stays for this round"):
        configure_round(
            session,
            campaign,
            reviews_per_item=1,
            max_per_expert=None,
            working_days=10,
            nomination_quota=10,
            rubric_version=newer.version,
        )
    assert review.rubric.version == 1
    assert review_round(session, campaign).rubric.version == 1


def test_assignment_gives_k_reviews_balanced_with_every_pair_of_experts_sharing_items(
    session, campaign
):
    submit_suggestions(session, campaign, MANY)
    experts = _experts(session, campaign, 4)
    plan = start_round(session, campaign, k=2)
    assert plan.created == 24 and not plan.short and not plan.excluded
    tasks = list(session.scalars(select(ReviewTask)))
    per_item: dict[int, set[int]] = {}
    for t in tasks:
        per_item.setdefault(t.suggestion_id, set()).add(t.expert_id)
    assert all(len(v) == 2 for v in per_item.values())
    loads = [len(expert_tasks(session, campaign, e)) for e in experts]
    assert loads == [6, 6, 6, 6]
    for a, b in combinations([e.id for e in experts], 2):
        assert any({a, b} <= v for v in per_item.values()), (a, b)
    # Running it again changes nothing.
    assert start_round(session, campaign, k=2).created == 0


def test_a_conflict_of_interest_is_excluded_and_recorded(session, campaign):
    responses = submit_suggestions(session, campaign, MANY[:3], district="jinjiang")
    near, far = _experts(session, campaign, 2)
    set_expert_profile(session, near, "成都大学", "jinjiang")
    set_expert_profile(session, far, "西南交大", "wuhou")
    plan = start_round(session, campaign, k=2)
    assert len(plan.excluded) == 3 and len(plan.short) == 3
    assert {expert for _, expert, _ in plan.excluded} == {near.id}
    assert "same district as a suggester" in plan.excluded[0][2]
    assert expert_tasks(session, campaign, near) == []
    assert len(expert_tasks(session, campaign, far)) == 3
    del responses


def test_the_expert_who_is_the_suggester_or_works_in_the_nominating_unit_is_excluded(
    session, campaign
):
    submit_suggestions(session, campaign, MANY[:1])
    department = campaign.departments[0]
    clerk = UserFactory(role="department", department=department)
    (insider,) = _experts(session, campaign, 1)
    set_expert_profile(session, insider, department.name, "")
    start_review_round(session, campaign)
    (item,) = campaign_suggestions(session, campaign)
    nominate_suggestion(session, campaign, item.id, clerk, "很好")
    plan = start_round(session, campaign, k=1)
    assert plan.excluded[0][2].startswith("works in the nominating unit")


def test_declining_or_recusing_hands_the_item_to_another_expert(session, campaign):
    submit_suggestions(session, campaign, MANY[:4])
    experts = _experts(session, campaign, 3)
    start_round(session, campaign, k=1)
    task = expert_tasks(session, campaign, experts[0])[0]
    with pytest.raises(InputError, match="say why"):
        step_down(session, campaign, task, experts[0], "recused", " ")
    other = step_down(session, campaign, task, experts[0], "recused", "提出人是我的学生")
    assert other is not None and other.expert_id != experts[0].id
    assert other.suggestion_id == task.suggestion_id
    assert task.status == "recused" and task.reason == "提出人是我的学生"
    assert task_of(session, campaign, experts[0], task.suggestion_id) is None


def test_an_overdue_review_goes_to_another_expert_by_working_days(session, campaign):
    submit_suggestions(session, campaign, MANY[:2])
    experts = _experts(session, campaign, 3)
    start_round(session, campaign, k=1)
    tasks = list(session.scalars(select(ReviewTask).order_by(ReviewTask.id)))
    # Assigned on Friday 25 September 2026 with 10 working days: the Mid-Autumn and National
    # Day holidays skipped and the make-up Saturday 10 October counted: Thursday 15 October.
    from minsheng.workdays import add_working_days

    assert add_working_days(date(2026, 9, 25), 10) == date(2026, 10, 15)
    tasks[0].due_on = date(2026, 10, 15)
    assert mark_overdue(session, campaign, today=date(2026, 10, 15)) == 0
    assert mark_overdue(session, campaign, today=date(2026, 10, 16)) >= 1
    assert tasks[0].status == "overdue"
    replacement = session.scalar(
        select(ReviewTask).where(
            ReviewTask.suggestion_id == tasks[0].suggestion_id, ReviewTask.status == "assigned"
        )
    )
    assert replacement is not None and replacement.expert_id != tasks[0].expert_id
    del experts


def test_independent_first_then_discussion_then_a_revision_kept_as_a_new_version(session, campaign):
    submit_suggestions(session, campaign, MANY[:1])
    a, b = _experts(session, campaign, 2)
    start_round(session, campaign, k=2)
    (item,) = campaign_suggestions(session, campaign)
    submit_review(session, campaign, a, item.id, GOOD, "很好")
    # b has not scored: sees nobody's scores and cannot post.
    assert peer_scores(session, campaign, b, item.id) is None
    with pytest.raises(InputError, match="submit your own score first"):
        post_discussion(session, campaign, b, item.id, "我觉得一般")
    first = submit_review(session, campaign, b, item.id, {**GOOD, "feasibility": 1})
    (seen,) = peer_scores(session, campaign, b, item.id)
    assert seen.scores == GOOD and seen.label == 1
    post_discussion(session, campaign, b, item.id, "成本可能更低")
    revised = submit_review(session, campaign, b, item.id, {**GOOD, "feasibility": 4})
    assert (revised.version, revised.previous_id) == (2, first.id)
    assert session.scalar(select(Review).where(Review.id == first.id)).scores["feasibility"] == 1
    latest = {r.expert_id: r.scores["feasibility"] for r in campaign_reviews(session, campaign)}
    independent = {
        r.expert_id: r.scores["feasibility"] for r in campaign_reviews(session, campaign, "first")
    }
    assert latest == {a.id: 5, b.id: 4} and independent == {a.id: 5, b.id: 1}


def test_an_unassigned_item_cannot_be_scored_and_bad_scores_name_every_problem(session, campaign):
    submit_suggestions(session, campaign, MANY[:2])
    a, b = _experts(session, campaign, 2)
    start_round(session, campaign, k=1)
    theirs = expert_tasks(session, campaign, b)[0].suggestion_id
    with pytest.raises(InputError) as caught:
        submit_review(session, campaign, a, theirs, {"authenticity": 7, "cause": "x", "novelty": 3})
    where = {p.location for p in caught.value.problems}
    assert where == {"suggestion", "authenticity", "cause", "feasibility", "scores"}
    assert "is not assigned to" in str(caught.value)


def test_departments_nominate_within_their_quota_while_the_round_is_open_experts_never(
    session, campaign
):
    responses = submit_suggestions(session, campaign, MANY[:3])
    (expert,) = _experts(session, campaign, 1)
    department = campaign.departments[0]
    clerk = UserFactory(role="department", department=department)
    outsider = UserFactory(
        role="department", department=get_or_create_department(session, "elsewhere", "别处")
    )
    start_round(session, campaign, k=1)
    current = review_round(session, campaign)
    current.nomination_quota = 1
    items = campaign_suggestions(session, campaign)
    made = nominate_suggestion(session, campaign, items[0].id, clerk, "市民反映集中")
    assert (made.unit, made.department_id) == (department.code, department.id)
    with pytest.raises(InputError, match="has used its 1 nominations"):
        nominate_suggestion(session, campaign, items[1].id, clerk, "也不错")
    with pytest.raises(InputError, match="cannot nominate; units nominate, experts score"):
        nominate_suggestion(session, campaign, items[1].id, expert, "我推荐")
    with pytest.raises(InputError, match="is not linked to campaign"):
        nominate_suggestion(session, campaign, items[1].id, outsider, "我推荐")
    # The organizers are a unit of their own; after closing nobody nominates.
    nominate(session, campaign, responses[1].id, "suggestion")
    close_review_round(session, campaign)
    with pytest.raises(InputError, match="nominations are over"):
        nominate(session, campaign, responses[2].id, "suggestion")
