from __future__ import annotations

from datetime import date

import pytest

from minsheng.accounts.users import get_or_create_department
from recommendations.assignments import accept, assign_to_departments
from recommendations.proposals import decide
from tests.factories import RecommendationFactory, UserFactory
from tests.reviews.builders import submit_suggestions

TODAY = date(2026, 7, 1)


@pytest.fixture()
def departments(session, campaign):
    """The campaign's receiving departments by code (transport, traffic-police, planning)."""
    return {d.code: d for d in campaign.departments}


@pytest.fixture()
def make_recommendation(session, campaign):
    def _make(title="延长地铁末班车运营时间", **extra):
        return RecommendationFactory(campaign=campaign, title=title, **extra)

    return _make


@pytest.fixture()
def assigned(session, make_recommendation, departments):
    """An adopted recommendation assigned to transport (lead) and planning (co-handling), the
    lead's reply due 2026-07-15; both accepted it."""
    recommendation = make_recommendation()
    decide(session, recommendation, "adopted")
    assign_to_departments(
        session,
        recommendation,
        departments["transport"],
        [departments["planning"]],
        deadline=date(2026, 7, 15),
        today=TODAY,
    )
    for assignment in recommendation.assignments:
        accept(session, assignment, department_user(session, assignment.department.code))
    session.commit()
    return recommendation


@pytest.fixture()
def responses(session, campaign):
    stored = submit_suggestions(session, campaign)
    session.commit()
    return stored


def department_user(session, code):
    return UserFactory(role="department", department=get_or_create_department(session, code, code))


@pytest.fixture()
def on_day(monkeypatch):
    """Read the clocks of pages and the API on a fixed day: `on_day(date(2026, 7, 1))`."""
    from recommendations import clocks

    def _set(day):
        monkeypatch.setattr(clocks, "today", lambda: day)

    _set(TODAY)
    return _set


def complete(session, recommendation):
    """Co-handlers hand in their parts, the lead replies, an organizer approves."""
    from recommendations.assignments import lead_assignment, reply, review_reply

    organizer = UserFactory(role="organizer")
    lead = lead_assignment(recommendation)
    for assignment in recommendation.assignments:
        if assignment.role == "co":
            user = department_user(session, assignment.department.code)
            reply(session, assignment, user, "协办完成")
    reply(session, lead, department_user(session, lead.department.code), "办结")
    review_reply(session, lead, organizer, True, today=date(2026, 7, 14))
