"""The respondent page behind a campaign's public link."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forms.models import Response
from forms.publishing import load_campaign_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"

VALID = {
    "submission_id": "a1b2c3d4e5f60718",
    "district": "wuhou",
    "age_group": "a30_44",
    "commute_mode": "metro",
    "commute_time": "m30_60",
    "problems": ["parking", "congestion"],
    "sat_bus": "3",
    "sat_metro": "4",
    "sat_parking": "2",
    "suggestion": "建议在地铁站周边增加非机动车停放区。",
}


@pytest.fixture()
def campaign(session):
    campaign, _ = load_campaign_file(session, str(EXAMPLE))
    session.commit()
    return campaign


def count(session):
    return session.scalar(select(func.count()).select_from(Response))


def test_page_renders_in_simplified_chinese(client, campaign):
    page = client.get("/s/transport-2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "交通出行专项征集" in text
    assert "您最主要的通勤方式是？" in text
    assert 'name="viewport"' in text
    assert "<legend>" in text


def test_valid_submission_is_stored_before_thanks(client, session, campaign):
    response = client.post("/s/transport-2026", data=VALID)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/s/transport-2026/thanks")
    stored = session.scalars(select(Response)).one()
    assert stored.answers["problems"] == ["parking", "congestion"]
    assert stored.answers["sat_metro"] == "4"
    thanks = client.get(response.headers["Location"])
    assert "您的意见已收到" in thanks.get_data(as_text=True) or thanks.status_code == 200


def test_second_submit_with_same_key_stores_one_response(client, session, campaign):
    assert client.post("/s/transport-2026", data=VALID).status_code == 302
    assert client.post("/s/transport-2026", data=VALID).status_code == 302
    assert count(session) == 1


def test_errors_are_shown_under_each_field_and_nothing_is_stored(client, session, campaign):
    data = {**VALID, "district": "", "problems": ["parking", "congestion", "safety", "sidewalk"]}
    page = client.post("/s/transport-2026", data=data)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "choose at most 3" in text
    assert 'href="#q-district"' in text
    assert count(session) == 0


def test_closed_campaign_refuses_responses(client, session, campaign):
    campaign.status = "closed"
    session.commit()
    page = client.post("/s/transport-2026", data=VALID)
    assert page.status_code == 409
    assert count(session) == 0


def test_csrf_token_is_required_when_protection_is_on(make_app, bind_app, campaign, session):
    app = bind_app(make_app(WTF_CSRF_ENABLED=True))
    client = app.test_client()
    with app.app_context():
        page = client.post("/s/transport-2026", data=VALID)
        assert page.status_code == 400
        form = client.get("/s/transport-2026").get_data(as_text=True)
        token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert (
            client.post("/s/transport-2026", data={**VALID, "csrf_token": token}).status_code == 302
        )
    assert count(session) == 1
