"""The loop through domain functions: decision, assignment, progress with evidence, feedback,
evaluation, recognition, and the rates computed from them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from minsheng.errors import InputError
from minsheng.files import file_store
from recommendations.assignments import assign_to_departments, record_progress
from recommendations.evidence import Upload, evidence_key
from recommendations.feedback import evaluate, public_feedback, publish_feedback, recognise
from recommendations.proposals import create_recommendation, decide
from recommendations.rates import campaign_rates, department_rates
from reviews.experts import assign_expert, close_review_round
from reviews.golden_ideas import choose_golden_ideas, nominate
from tests.factories import UserFactory
from tests.recommendations.conftest import TODAY, department_user


def test_a_golden_idea_source_must_name_a_golden_idea_of_the_campaign(session, campaign, responses):
    with pytest.raises(InputError) as caught:
        create_recommendation(session, campaign, " ", "", "petition", golden_idea_id=3)
    messages = str(caught.value)
    assert "a recommendation needs a title" in messages
    assert (
        "unknown source 'petition'; expected one of golden_idea, suggestion_cluster, expert"
        in messages
    )
    with pytest.raises(InputError, match="golden ideas of 'transport-2026': none yet"):
        create_recommendation(session, campaign, "t", "x", "golden_idea", golden_idea_id=1)

    assign_expert(session, campaign, UserFactory(role="expert"))
    nomination = nominate(session, campaign, responses[0].id, "suggestion")
    close_review_round(session, campaign)
    (golden,) = choose_golden_ideas(session, campaign, {nomination.id: "好建议"})
    made = create_recommendation(
        session, campaign, "末班车", "延长", "golden_idea", golden_idea_id=golden.id
    )
    assert made.golden_idea_id == golden.id


def test_not_adopting_needs_a_reason(session, make_recommendation):
    recommendation = make_recommendation()
    with pytest.raises(InputError, match="a not_adopted decision needs a reason"):
        decide(session, recommendation, "not_adopted")
    with pytest.raises(InputError, match="unknown decision 'maybe'"):
        decide(session, recommendation, "maybe")
    decide(session, recommendation, "not_adopted", "已有同类项目在建")
    assert (recommendation.status, recommendation.decision) == ("not_adopted", "not_adopted")


def test_assignment_refuses_undecided_past_deadlines_and_repeated_departments(
    session, make_recommendation, departments
):
    recommendation = make_recommendation()
    with pytest.raises(InputError) as caught:
        assign_to_departments(
            session, recommendation, [departments["transport"]], date(2026, 6, 1), today=TODAY
        )
    messages = str(caught.value)
    assert "is 'proposed'; it can move to adopted, partly_adopted, not_adopted" in messages
    assert "2026-06-01 is in the past (today is 2026-07-01)" in messages
    decide(session, recommendation, "adopted")
    assign_to_departments(
        session, recommendation, [departments["transport"]], date(2026, 7, 10), today=TODAY
    )
    with pytest.raises(InputError, match=r"市交通运输局 \(transport\) is already assigned"):
        assign_to_departments(
            session, recommendation, [departments["transport"]], date(2026, 7, 10), today=TODAY
        )
    assert recommendation.status == "assigned"


def test_progress_with_evidence_moves_the_recommendation_to_completed(
    app, session, assigned, departments
):
    transport_user = department_user(session, "transport")
    planning_user = department_user(session, "planning")
    transport, planning = assigned.assignments
    with pytest.raises(InputError, match=r"'department-.*' is not in 'transport'"):
        record_progress(session, transport, planning_user, "越权上报")
    with pytest.raises(InputError) as caught:
        record_progress(
            session,
            transport,
            transport_user,
            "x",
            [Upload("run.exe", b"MZ"), Upload("a.pdf", b"")],
        )
    assert "type '.exe'; allowed .pdf" in str(caught.value)
    assert "the file is empty" in str(caught.value)

    update = record_progress(
        session, transport, transport_user, "已调整时刻表", [Upload("../时刻表.pdf", b"%PDF-1.4")]
    )
    assert update.attachments == [f"evidence/{transport.id}/1-时刻表.pdf"]
    with file_store().open(evidence_key(transport, "1-时刻表.pdf")) as stored:
        assert stored.stream.read() == b"%PDF-1.4"
    assert evidence_key(transport, "../../secret") is None
    assert evidence_key(planning, "1-时刻表.pdf") is None
    assert assigned.status == "in_progress"

    record_progress(session, transport, transport_user, "已完成", completes=True)
    assert assigned.status == "in_progress"  # planning has not finished
    record_progress(session, planning, planning_user, "规划已批复", completes=True)
    assert assigned.status == "completed"
    with pytest.raises(InputError, match="already completed"):
        record_progress(session, planning, planning_user, "再报")


def _complete(session, recommendation):
    organizer = UserFactory(role="organizer")
    for assignment in recommendation.assignments:
        record_progress(session, assignment, organizer, "办结", completes=True)


def test_feedback_evaluation_and_recognition_close_the_loop(session, campaign, assigned, responses):
    with pytest.raises(InputError, match="is 'assigned'; it can move to in_progress, completed"):
        publish_feedback(session, assigned, "已办结")
    _complete(session, assigned)
    with pytest.raises(InputError, match="evaluated once feedback was given"):
        evaluate(session, assigned, 5, "suggester")
    publish_feedback(session, assigned, "末班车已延后30分钟，感谢您的建议。")
    assert [r.public_feedback for r in public_feedback(session, campaign)] == [
        "末班车已延后30分钟，感谢您的建议。"
    ]
    with pytest.raises(InputError) as caught:
        evaluate(session, assigned, 6, "mayor")
    assert {p.location for p in caught.value.problems} == {"rater", "satisfaction"}
    evaluate(session, assigned, 5, "suggester")
    evaluate(session, assigned, 2, "organizer", "进度偏慢")
    assert assigned.status == "evaluated"

    expert = UserFactory(role="expert")
    with pytest.raises(InputError, match="name a response of this campaign"):
        recognise(session, assigned, "suggester", response_id=999999)
    recognise(session, assigned, "suggester", response_id=responses[0].id, note="金点子提出者")
    recognise(session, assigned, "expert", expert=expert)
    assert assigned.status == "recognised"


def test_rates_per_campaign_and_department_with_wilson_intervals(
    session, campaign, make_recommendation, departments
):
    # Four decided (3 adopted incl. one partly, 1 not), one still proposed.
    recs = [make_recommendation(f"建议{i}") for i in range(5)]
    decide(session, recs[0], "adopted")
    decide(session, recs[1], "adopted")
    decide(session, recs[2], "partly_adopted", "部分可行")
    decide(session, recs[3], "not_adopted", "不具备条件")
    deadline = date(2026, 7, 10)
    for rec, codes in ((recs[0], ["transport"]), (recs[1], ["transport", "planning"])):
        assign_to_departments(session, rec, [departments[c] for c in codes], deadline, today=TODAY)
    assign_to_departments(session, recs[2], [departments["transport"]], deadline, today=TODAY)
    organizer = UserFactory(role="organizer")
    a_on_time, a_late, b_planning = recs[0].assignments[0], *recs[1].assignments
    record_progress(session, a_on_time, organizer, "办结", completes=True)
    a_on_time.completed_at = datetime(2026, 7, 10, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    record_progress(session, a_late, organizer, "办结", completes=True)
    a_late.completed_at = datetime(2026, 7, 10, 16, 30, tzinfo=UTC)  # 00:30 next day in Beijing
    record_progress(session, b_planning, organizer, "办结", completes=True)
    b_planning.completed_at = datetime(2026, 7, 2, tzinfo=UTC)
    publish_feedback(session, recs[0], "已办结")
    for score in (5, 4, 2):
        evaluate(session, recs[0], score, "suggester")
    session.flush()

    rates = campaign_rates(session, campaign)
    assert (rates.adoption.count, rates.adoption.nobs) == (3, 4)
    assert rates.adoption.method == "wilson"
    assert rates.adoption.ci_low == pytest.approx(0.30064, abs=1e-5)  # Wilson, 3 of 4
    assert (rates.resolution.count, rates.resolution.nobs) == (2, 4)
    assert (rates.on_time.count, rates.on_time.nobs) == (2, 3)
    assert (rates.satisfaction.count, rates.satisfaction.nobs) == (2, 3)

    by_code = {r.scope: r for r in department_rates(session, campaign)}
    assert set(by_code) == {"transport", "planning"}
    assert by_code["transport"].adoption is None
    assert (by_code["transport"].resolution.count, by_code["transport"].resolution.nobs) == (1, 3)
    assert (by_code["planning"].on_time.count, by_code["planning"].on_time.nobs) == (1, 1)
    assert by_code["transport"].satisfaction.nobs == 3
    assert by_code["planning"].satisfaction.nobs == 0
