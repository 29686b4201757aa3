"""NUL and lone surrogates: refused at every response door, and harmless when already stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from forms.models import Response
from forms.publishing import current_version, form_of, load_campaign_file
from forms.webforms import page_field_names

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
SLUG = "transport-2026"
URL = f"/api/v1/campaigns/{SLUG}/responses"
ANSWERS = {
    "district": "wuhou",
    "age_group": "a30_44",
    "commute_mode": "other",
    "commute_mode_other": "轮滑",
    "commute_time": "m30_60",
    "problems": ["parking", "congestion"],
    "sat_bus": "3",
    "sat_metro": 4,
    "sat_parking": "2",
    "suggestion": "建议在地铁站周边增加非机动车停放区。",
}


@pytest.fixture()
def campaign(session):
    campaign, _ = load_campaign_file(session, str(EXAMPLE))
    session.commit()
    return campaign


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
