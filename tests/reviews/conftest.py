from __future__ import annotations

import pytest

from reviews.experts import assign_expert
from tests.factories import UserFactory
from tests.reviews.builders import submit_suggestions


@pytest.fixture()
def responses(session, campaign):
    """Six responses; five carry a suggestion (two with a phone number or e-mail in the text)."""
    stored = submit_suggestions(session, campaign)
    session.commit()
    return stored


@pytest.fixture()
def experts(session, campaign):
    """Three experts assigned to the campaign."""
    users = [UserFactory(role="expert") for _ in range(3)]
    for user in users:
        assign_expert(session, campaign, user)
    session.commit()
    return users
