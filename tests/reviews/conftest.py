from __future__ import annotations

import pytest

from reviews.experts import assign_expert
from tests.reviews.builders import load_transport, make_user, submit_suggestions


@pytest.fixture()
def campaign(session):
    campaign = load_transport(session)
    session.commit()
    return campaign


@pytest.fixture()
def responses(session, campaign):
    """Six responses; five carry a suggestion (two with a phone number or e-mail in the text)."""
    stored = submit_suggestions(session, campaign)
    session.commit()
    return stored


@pytest.fixture()
def experts(session, campaign):
    """Three experts assigned to the campaign."""
    users = [make_user(session, "expert") for _ in range(3)]
    for user in users:
        assign_expert(session, campaign, user)
    session.commit()
    return users
