"""`POST /api/v1/campaigns/<slug>/responses` and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from campaigns.models import CollectionPoint
from forms.models import Response

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
URL = "/api/v1/campaigns/transport-2026/responses"

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


def count(session):
    return session.scalar(select(func.count()).select_from(Response))


def body(**extra):
    return {"answers": ANSWERS, "submission_id": "api-0000000001", **extra}


def test_valid_submission_is_created_with_channel_and_duration(client, session, campaign):
    reply = client.post(URL, json=body(started_at="2026-05-01T09:30:00+08:00", language="en"))
    assert reply.status_code == 201, reply.json
    assert reply.json["created"] is True
    assert reply.json["version"] == 1
    stored = session.get(Response, reply.json["id"])
    assert stored.channel == "api"
    assert stored.language == "en"
    assert stored.answers["commute_mode_other"] == "轮滑"
    assert stored.duration_seconds > 0
    receipt = client.get(reply.headers["Location"])
    assert receipt.status_code == 200, receipt.json
    assert receipt.json == {**reply.json, "created": False}
    assert "answers" not in receipt.json


def test_the_location_of_an_unknown_submission_is_not_found(client, campaign):
    assert client.get(f"{URL}/never-sent-000").status_code == 404


def test_repeated_submission_id_answers_200_and_stores_one(client, session, campaign):
    first = client.post(URL, json=body())
    again = client.post(URL, json=body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert again.json["created"] is False
    assert count(session) == 1


def test_every_problem_is_reported_per_field(client, session, campaign):
    answers = {**ANSWERS, "district": "atlantis", "problems": ["a", "parking"], "age_group": None}
    reply = client.post(
        URL,
        json={"answers": answers, "submission_id": "short", "language": "fr", "colour": "red"},
    )
    assert reply.status_code == 422
    locations = {e["location"] for e in reply.json["errors"]}
    assert {"submission_id", "language", "colour"} <= locations
    reply = client.post(URL, json={"answers": answers, "submission_id": "api-0000000002"})
    assert reply.status_code == 422
    errors = {e["location"]: e["message"] for e in reply.json["errors"]}
    assert set(errors) == {"answers.district", "answers.problems", "answers.age_group"}
    assert "'atlantis' 不是本题的选项" in errors["answers.district"]
    reply = client.post(
        URL, json={"answers": answers, "submission_id": "api-0000000003", "language": "en"}
    )
    errors = {e["location"]: e["message"] for e in reply.json["errors"]}
    assert "'atlantis' is not one of the choices" in errors["answers.district"]
    assert count(session) == 0


def test_a_body_that_is_not_json_gets_400(client, campaign):
    reply = client.post(URL, data="answers=1", content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 400
    assert reply.json["errors"][0]["message"].startswith("expected a JSON object")


def test_unknown_campaign_gets_404_in_the_error_shape(client):
    reply = client.post("/api/v1/campaigns/nope/responses", json=body())
    assert reply.status_code == 404
    assert reply.json == {
        "errors": [{"location": "", "message": "no campaign 'nope' with a questionnaire"}]
    }


def test_closed_campaign_gets_409(client, session, campaign):
    campaign.status = "closed"
    session.commit()
    reply = client.post(URL, json=body())
    assert reply.status_code == 409
    assert count(session) == 0


def test_collection_point_is_recorded_and_unknown_codes_are_refused(client, session, campaign):
    reply = client.post(URL, json=body(collection_point="jinniu-tea", channel="qr"))
    assert reply.status_code == 201
    stored = session.get(Response, reply.json["id"])
    point = session.get(CollectionPoint, stored.collection_point_id)
    assert (stored.channel, point.code) == ("qr", "jinniu-tea")
    reply = client.post(URL, json=body(submission_id="api-0000000009", collection_point="x"))
    assert reply.status_code == 422
    assert "jinniu-tea" in reply.json["errors"][0]["message"]


def test_the_api_needs_no_csrf_token(make_app, bind_app, session, campaign):
    app = bind_app(make_app(WTF_CSRF_ENABLED=True))
    with app.app_context():
        assert app.test_client().post(URL, json=body()).status_code == 201


def test_openapi_document_is_valid_openapi_3_1_and_describes_the_endpoint(client):
    document = client.get("/api/v1/openapi.json").json
    validate(document)
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/campaigns/{slug}/responses"]["post"]
    assert set(operation["responses"]) == {"200", "201", "400", "404", "409", "413", "422", "429"}


def test_questionnaire_endpoint_lists_the_question_names(client, campaign):
    reply = client.get("/api/v1/campaigns/transport-2026/questionnaire")
    assert reply.status_code == 200
    names = [q["name"] for g in reply.json["questionnaire"]["survey"] for q in g["questions"]]
    assert "commute_mode" in names


def test_closing_a_campaign_takes_effect_for_the_very_next_submission(client, session, campaign):
    assert client.post(URL, json=body()).status_code == 201
    campaign.status = "closed"
    session.commit()
    reply = client.post(URL, json=body(submission_id="api-0000000003"))
    assert reply.status_code == 409
    assert count(session) == 1


def test_a_quota_added_after_a_submission_applies_to_the_next_one(client, session, campaign):
    from invitations.quotas import set_quota

    assert client.post(URL, json=body()).status_code == 201
    quota = set_quota(session, campaign, {"district": "wuhou"}, 1)
    session.commit()
    assert client.post(URL, json=body(submission_id="api-0000000004")).status_code == 201
    session.refresh(quota)
    assert quota.completed == 1
    reply = client.post(URL, json=body(submission_id="api-0000000005"))
    assert reply.status_code == 409
    assert "quota" in reply.json["errors"][0]["message"]
    assert count(session) == 2


def test_other_packages_can_describe_their_endpoints_but_not_overwrite_one(client):
    from minsheng import openapi

    item = {"get": {"responses": {"200": {"description": "ok"}}}}
    openapi.add_openapi({"/test/things": item})
    try:
        assert "/test/things" in client.get("/api/v1/openapi.json").json["paths"]
        with pytest.raises(ValueError, match="already described"):
            openapi.add_openapi({"/campaigns/{slug}/responses": item})
    finally:
        del openapi.OPENAPI_PATHS["/test/things"]
