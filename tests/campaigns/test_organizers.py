"""`minsheng campaign load --owner`: a loaded campaign is run by its owner and co-organizers
only, and a user name that is not an organizer writes nothing."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaigns.models import Campaign
from tests.factories import PASSWORD, UserFactory

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"


def _logged_in(app, user) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def test_a_campaign_loaded_with_an_owner_is_run_by_its_owner_and_co_organizers_only(
    app, runner, session, instance_folder
):
    owner, helper, other = (UserFactory(role="organizer") for _ in range(3))
    session.commit()
    result = runner.invoke(
        args=[
            "campaign", "load", str(EXAMPLE),
            "--owner", owner.username, "--co-organizer", helper.username,
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    for user, status in ((owner, 200), (helper, 200), (other, 403)):
        page = _logged_in(app, user).get("/campaigns/transport-2026/sending")
        assert page.status_code == status, user.username

    # Loading the file again without --owner keeps the organizers it has.
    assert runner.invoke(args=["campaign", "load", str(EXAMPLE)]).exit_code == 0
    assert _logged_in(app, other).get("/campaigns/transport-2026/sending").status_code == 403


def test_an_owner_who_is_no_organizer_is_refused_and_nothing_is_loaded(runner, session):
    expert = UserFactory(role="expert")
    session.commit()
    result = runner.invoke(
        args=[
            "campaign",
            "load",
            str(EXAMPLE),
            "--owner",
            expert.username,
            "--co-organizer",
            "nobody",
        ]
    )
    assert result.exit_code == 2
    assert (
        f"--owner: user '{expert.username}' has role expert; expected an organizer" in result.output
    )
    assert "--co-organizer: no user 'nobody'" in result.output
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
