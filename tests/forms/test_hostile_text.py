"""NUL and lone surrogates: refused at every response door, and harmless when already stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from forms.models import Response
from forms.publishing import current_version, form_of
from forms.webforms import page_field_names
from tests.forms.test_api import ANSWERS

SLUG = "transport-2026"
URL = f"/api/v1/campaigns/{SLUG}/responses"


def stored(session):
    return session.scalar(select(func.count()).select_from(Response))


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"])
@pytest.mark.parametrize("field", ["suggestion", "commute_mode_other"])
def test_an_api_answer_with_nul_or_a_lone_surrogate_is_refused_naming_the_field(
    client, session, campaign, bad, field
):
    reply = client.post(
        URL, json={"answers": {**ANSWERS, field: bad}, "submission_id": "hostile-00001"}
    )
    assert reply.status_code == 422, reply.json
    assert f"answers.{field}" in {e["location"] for e in reply.json["errors"]}
    assert stored(session) == 0


@pytest.mark.parametrize("bad", ["hostile-\ud800-01", "hostile-\x00-0001"])
def test_a_submission_id_with_nul_or_a_lone_surrogate_gets_422_not_500(client, campaign, bad):
    reply = client.post(URL, json={"answers": ANSWERS, "submission_id": bad})
    assert reply.status_code == 422
    assert "submission_id" in {e["location"] for e in reply.json["errors"]}


@pytest.mark.parametrize("value", [{"text": "x"}, float("nan"), 42])
def test_a_value_of_the_wrong_type_for_a_text_question_is_refused_not_coerced(
    client, session, campaign, value
):
    body = json.dumps(
        {"answers": {**ANSWERS, "suggestion": value}, "submission_id": "hostile-00002"}
    )
    reply = client.post(URL, data=body, content_type="application/json")
    assert reply.status_code == 422, reply.json
    assert "answers.suggestion" in {e["location"] for e in reply.json["errors"]}
    assert stored(session) == 0


def test_a_nul_in_a_page_post_is_a_field_error(client, session, campaign):
    form = form_of(current_version(session, campaign))
    page = next(i for i in range(len(form.pages())) if "suggestion" in page_field_names(form, i))
    client.get(f"/s/{SLUG}?p=%00")
    reply = client.post(
        f"/s/{SLUG}?p=%00",
        data={**ANSWERS, "suggestion": "a\x00b", "nav": "submit", "page": str(page)},
    )
    assert reply.status_code == 422
    assert stored(session) == 0


def test_bad_text_written_straight_into_the_database_is_read_with_a_replacement(
    client, session, campaign
):
    reply = client.post(URL, json={"answers": ANSWERS, "submission_id": "hostile-00003"})
    assert reply.status_code == 201
    session.execute(
        text("UPDATE responses SET answers = :a"),
        {"a": '{"suggestion": "bad \\ud800 and \\u0000 here", "district": "wuhou"}'},
    )
    session.commit()
    session.expire_all()
    answers = session.scalar(select(Response.answers))
    assert answers["suggestion"] == "bad \ufffd and \ufffd here"
    assert client.get(f"/api/v1/campaigns/{SLUG}/responses/hostile-00003").status_code == 200


def test_the_results_page_and_summary_api_work_with_bad_text_already_stored(
    client, session, campaign, login
):
    for n in range(3):
        sid = f"hostile-1000{n}"
        assert client.post(URL, json={"answers": ANSWERS, "submission_id": sid}).status_code == 201
    session.execute(
        text("UPDATE responses SET answers = :a WHERE submission_id = 'hostile-10000'"),
        {"a": json.dumps({**ANSWERS, "suggestion": "bad \ud800 and \x00 here"})},
    )
    session.commit()
    login("admin")
    assert client.get(f"/api/v1/campaigns/{SLUG}/summary").status_code == 200
    assert client.get(f"/campaigns/{SLUG}/results").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/campaigns/%00/questionnaire",
        "/api/v1/campaigns/a%00b/responses/hostile-00004",
        "/campaigns/a%00b/results",
    ],
)
def test_a_nul_in_a_campaign_slug_is_not_found_on_every_door(client, campaign, login, url):
    login("admin")
    assert client.get(url).status_code == 404
