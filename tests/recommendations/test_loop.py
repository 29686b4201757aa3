"""The loop through domain functions: decision, assignment, progress with evidence, feedback,
evaluation, recognition, and the rates computed from them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from minsheng.errors import InputError
from minsheng.files import file_store
from recommendations.assignments import (
    accept,
    assign_to_departments,
    decide_extension,
    lead_assignment,
    record_progress,
    reply,
    request_extension,
    return_assignment,
    review_reply,
)
from recommendations.evidence import Upload, evidence_key
from recommendations.feedback import (
    close,
    evaluate,
    public_feedback,
    publish_feedback,
    recognise,
    reopen,
)
from recommendations.history import history
from recommendations.proposals import create_recommendation, decide
from recommendations.rates import campaign_rates, department_rates
from reviews.experts import assign_expert, close_review_round
from reviews.golden_ideas import choose_golden_ideas, nominate
from tests.factories import UserFactory
from tests.recommendations.conftest import TODAY, complete, department_user


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


def test_assigned_on_the_eve_of_the_spring_festival_gets_the_deadlines_of_the_2026_notice(
    session, make_recommendation, departments
):
    # Friday 13 February 2026, the last working day before the 9-day holiday (15-23 February);
    # Saturday 14th is a make-up working day. Default policy: accept in 2, reply in 15, co 10.
    recommendation = make_recommendation()
    decide(session, recommendation, "adopted")
    lead, co = assign_to_departments(
        session,
        recommendation,
        departments["transport"],
        [departments["planning"]],
        tasks={departments["planning"].id: "提供线网规划意见"},
        today=date(2026, 2, 13),
    )
    assert (lead.role, co.role, co.task) == ("lead", "co", "提供线网规划意见")
    assert lead.accept_due == date(2026, 2, 24)
    assert lead.deadline == date(2026, 3, 12)
    assert co.deadline == date(2026, 3, 5)
    assert recommendation.status == "assigned"
    (event,) = [e for e in history(session, recommendation, None) if e.action == "assign"]
    assert event.deadline == date(2026, 3, 12) and event.public


def test_assignment_refuses_undecided_bad_deadlines_and_repeated_departments(
    session, make_recommendation, departments
):
    recommendation = make_recommendation()
    with pytest.raises(InputError) as caught:
        assign_to_departments(
            session,
            recommendation,
            departments["transport"],
            deadline=date(2026, 6, 1),
            today=TODAY,
        )
    messages = str(caught.value)
    assert "is 'proposed'; it is assigned once adopted" in messages
    assert "2026-06-01 is not a working day after today (2026-07-01)" in messages
    decide(session, recommendation, "adopted")
    with pytest.raises(InputError, match="does not know yet"):
        assign_to_departments(
            session, recommendation, departments["transport"], today=date(2026, 12, 24)
        )
    assign_to_departments(
        session, recommendation, departments["transport"], deadline=date(2026, 7, 10), today=TODAY
    )
    with pytest.raises(InputError) as caught:
        assign_to_departments(session, recommendation, departments["transport"], today=TODAY)
    assert "is the lead already" in str(caught.value)
    assert r"市交通运输局 (transport) handles it already" in str(caught.value)
    assert recommendation.status == "assigned"


def test_a_returned_lead_is_replaced_and_the_reason_kept(session, make_recommendation, departments):
    recommendation = make_recommendation()
    decide(session, recommendation, "adopted")
    (first,) = assign_to_departments(session, recommendation, departments["transport"], today=TODAY)
    transport_user = department_user(session, "transport")
    with pytest.raises(InputError, match="'return' needs a reason"):
        return_assignment(session, first, transport_user, " ")
    return_assignment(session, first, transport_user, "属于规划部门职责")
    assert (first.status, first.reason) == ("returned", "属于规划部门职责")
    assert lead_assignment(recommendation) is None
    (second,) = assign_to_departments(session, recommendation, departments["planning"], today=TODAY)
    assert lead_assignment(recommendation) is second


def test_progress_with_evidence_and_a_co_handlers_late_part_holds_the_leads_completion(
    app, session, assigned, departments
):
    transport_user = department_user(session, "transport")
    planning_user = department_user(session, "planning")
    organizer = UserFactory(role="organizer")
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
            percent=120,
        )
    assert "type '.exe'; allowed .pdf" in str(caught.value)
    assert "the file is empty" in str(caught.value)
    assert "got 120; expected 0 to 100" in str(caught.value)

    update = record_progress(
        session,
        transport,
        transport_user,
        "已调整时刻表",
        [Upload("../时刻表.pdf", b"%PDF-1.4")],
        percent=60,
    )
    assert update.attachments == [f"evidence/{transport.id}/1-时刻表.pdf"]
    assert (update.number, transport.progress) == (1, 60)
    with file_store().open(evidence_key(transport, "1-时刻表.pdf")) as stored:
        assert stored.stream.read() == b"%PDF-1.4"
    assert evidence_key(transport, "../../secret") is None
    assert evidence_key(planning, "1-时刻表.pdf") is None
    assert assigned.status == "in_progress"

    with pytest.raises(InputError, match="the co-handlers' parts are not in yet: 市规划"):
        reply(session, transport, transport_user, "末班车延长至23:30")
    reply(session, planning, planning_user, "线网规划无异议")
    assert planning.status == "completed"
    reply(session, transport, transport_user, "末班车延长至23:30")
    assert (transport.status, assigned.status) == ("replied", "in_progress")
    review_reply(session, transport, organizer, False, "请补充客流数据")
    assert transport.status == "in_progress"
    reply(session, transport, transport_user, "末班车延长至23:30，附客流数据")
    review_reply(session, transport, organizer, True, today=date(2026, 7, 20))
    assert (transport.status, assigned.status) == ("completed", "completed")
    assert assigned.feedback_due == date(2026, 7, 27)
    with pytest.raises(InputError, match="is 'completed'; it allows reopen, not 'progress'"):
        record_progress(session, planning, planning_user, "再报")


def test_an_evidence_file_is_removed_when_the_update_rolls_back(app, session, assigned):
    transport = assigned.assignments[0]
    user = department_user(session, "transport")
    session.commit()
    record_progress(session, transport, user, "上传", [Upload("a.pdf", b"%PDF-1.4")])
    key = f"evidence/{transport.id}/1-a.pdf"
    assert file_store().exists(key)
    session.rollback()
    assert not file_store().exists(key)
    record_progress(session, transport, user, "上传", [Upload("a.pdf", b"%PDF-1.4")])
    session.commit()
    assert file_store().exists(key)


def test_an_extension_pauses_the_clock_and_a_refusal_gives_the_paused_days_back(session, assigned):
    transport = assigned.assignments[0]
    user = department_user(session, "transport")
    organizer = UserFactory(role="organizer")
    with pytest.raises(InputError, match="is not after the deadline 2026-07-15"):
        request_extension(session, transport, user, date(2026, 7, 14), "x", today=TODAY)
    request_extension(
        session, transport, user, date(2026, 7, 31), "需协调资金", today=date(2026, 7, 6)
    )
    assert transport.status == "extension_requested"
    with pytest.raises(InputError, match="taken by organizer, not by handler"):
        decide_extension(session, transport, user, True)
    # Refused on Friday 10 July: 4 working days paused (7-10 July) are added to 15 July.
    decide_extension(session, transport, organizer, False, "不予延期", today=date(2026, 7, 10))
    assert (transport.status, transport.deadline) == ("in_progress", date(2026, 7, 21))
    request_extension(
        session, transport, user, date(2026, 7, 31), "再次申请", today=date(2026, 7, 13)
    )
    decide_extension(session, transport, organizer, True, today=date(2026, 7, 14))
    assert transport.deadline == date(2026, 7, 31)
    steps = [e.action for e in history(session, assigned, organizer)]
    assert steps.count("request_extension") == 2 and "grant_extension" in steps


_complete = complete


def test_feedback_evaluation_and_recognition_close_the_loop(session, campaign, assigned, responses):
    with pytest.raises(InputError, match="feedback follows completion"):
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
    with pytest.raises(InputError, match="recognition follows closing"):
        recognise(session, assigned, "expert", expert=expert)
    close(session, assigned)
    with pytest.raises(InputError, match="name a response of this campaign"):
        recognise(session, assigned, "suggester", response_id=999999)
    recognise(session, assigned, "suggester", response_id=responses[0].id, note="金点子提出者")
    recognise(session, assigned, "expert", expert=expert)
    assert assigned.status == "recognised"


def test_a_reopening_is_decided_on_the_record_and_hands_the_lead_a_new_clock(session, assigned):
    _complete(session, assigned)
    publish_feedback(session, assigned, "已延长")
    organizer = UserFactory(role="organizer")
    with pytest.raises(InputError, match="'reopen' needs a reason"):
        reopen(session, assigned, "", organizer.id)
    reopen(session, assigned, "多数建议人不满意", organizer.id, today=date(2026, 9, 30))
    lead = lead_assignment(assigned)
    assert (assigned.status, assigned.round, lead.status) == ("reopened", 2, "in_progress")
    # 15 working days after 30 September, across National Day and its make-up Saturday 10th.
    assert lead.deadline == date(2026, 10, 27)
    (event,) = [e for e in history(session, assigned, None) if e.action == "reopen"]
    assert (event.note, event.public, event.actor_role) == ("多数建议人不满意", True, "organizer")


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
    for rec, co in ((recs[0], []), (recs[1], [departments["planning"]]), (recs[2], [])):
        assign_to_departments(
            session, rec, departments["transport"], co, deadline=deadline, today=TODAY
        )
        for assignment in rec.assignments:
            accept(session, assignment, department_user(session, assignment.department.code))
    a_on_time, a_late, b_planning = recs[0].assignments[0], *recs[1].assignments
    _complete(session, recs[0])
    a_on_time.completed_at = datetime(2026, 7, 10, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    _complete(session, recs[1])
    a_late.completed_at = datetime(2026, 7, 10, 16, 30, tzinfo=UTC)  # 00:30 next day in Beijing
    b_planning.completed_at = datetime(2026, 7, 2, tzinfo=UTC)
    publish_feedback(session, recs[0], "已办结")
    for score in (5, 4, 2):
        evaluate(session, recs[0], score, "suggester")
    session.flush()

    rates = campaign_rates(session, campaign)
    assert (rates.adoption.count, rates.adoption.nobs) == (3, 4)
    assert rates.adoption.method == "wilson"
    assert rates.adoption.ci_low == pytest.approx(0.30064, abs=1e-5)  # Wilson, 3 of 4
    assert (rates.resolution.count, rates.resolution.nobs) == (3, 4)  # late ones count too
    assert (rates.on_time.count, rates.on_time.nobs) == (2, 3)
    assert (rates.satisfaction.count, rates.satisfaction.nobs) == (2, 3)

    by_code = {r.scope: r for r in department_rates(session, campaign)}
    assert set(by_code) == {"transport", "planning"}
    assert by_code["transport"].adoption is None
    assert (by_code["transport"].resolution.count, by_code["transport"].resolution.nobs) == (2, 3)
    assert (by_code["planning"].on_time.count, by_code["planning"].on_time.nobs) == (1, 1)
    assert by_code["transport"].satisfaction.nobs == 3
    assert by_code["planning"].satisfaction.nobs == 0
