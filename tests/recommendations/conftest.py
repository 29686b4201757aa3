from __future__ import annotations

from datetime import date

import pytest

from minsheng.accounts.users import get_or_create_department
from recommendations.assignments import assign_to_departments
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
    """An adopted recommendation assigned to transport and planning, due 2026-07-15."""
    recommendation = make_recommendation()
    decide(session, recommendation, "adopted")
    assign_to_departments(
        session,
        recommendation,
        [departments["transport"], departments["planning"]],
        date(2026, 7, 15),
        today=TODAY,
    )
    session.commit()
    return recommendation


@pytest.fixture()
def responses(session, campaign):
    stored = submit_suggestions(session, campaign)
    session.commit()
    return stored


def department_user(session, code):
    return UserFactory(role="department", department=get_or_create_department(session, code, code))
