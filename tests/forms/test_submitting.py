"""Every way in stores a response through `forms.ingest.submit`: the public page in one post, the
page from a draft, an invitation link and the JSON API claim quotas, complete invitations, retry a
stale campaign lookup and keep one response per submission id alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.models import CollectionPoint
from forms.models import Draft, Response
from invitations.quotas import set_quota
from minsheng.audit import AuditEvent
from tests.factories import InvitationFactory
from tests.forms.test_respondent_page import hidden_value

pytestmark = pytest.mark.campaign_file(Path(__file__).parent / "one_page.yaml")

PAGE = "/s/one-page-2026"
API = "/api/v1/campaigns/one-page-2026/responses"
ANSWERS = {"district": "wuhou", "age": "35"}


def count(session, model=Response):
    return session.scalar(select(func.count()).select_from(model))


def filled_in(client, url=PAGE, answers=ANSWERS, submission_id=None):
    """The only page, shown and answered; posting it is the one-post submission."""
    page = client.get(url).get_data(as_text=True)
    return {
        "page": "0",
        "nav": "submit",
        "submission_id": submission_id or hidden_value(page, "submission_id"),
        "started_at": hidden_value(page, "started_at"),
        **answers,
    }


def through_page(client, url=PAGE, answers=ANSWERS, submission_id=None):
    return client.post(url, data=filled_in(client, url, answers, submission_id))


def through_draft(client, url=PAGE, answers=ANSWERS):
    """Save the page first (a draft, as a respondent pausing does), then submit it."""
    page = client.get(url).get_data(as_text=True)
    data = {
        "page": "0",
        "submission_id": hidden_value(page, "submission_id"),
        "started_at": hidden_value(page, "started_at"),
        **answers,
    }
    saved = client.post(url, data={**data, "nav": "save"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    return client.post(url, data={**data, "nav": "submit"})


def through_api(client, submission_id, answers=ANSWERS, **extra):
    return client.post(API, json={"answers": answers, "submission_id": submission_id, **extra})


def test_the_page_a_draft_and_the_api_claim_the_same_quota(app, client, session, campaign):
    quota = set_quota(session, campaign, {"district": "wuhou"}, 3)
    session.commit()
    assert through_page(client).status_code == 302
    assert through_draft(app.test_client()).status_code == 302
    assert through_api(client, "api-00000001").status_code == 201
    session.refresh(quota)
    assert quota.completed == 3
    full_page = through_page(app.test_client())
    assert full_page.status_code == 409
    assert "已达到所需人数" in full_page.get_data(as_text=True)
    assert through_draft(app.test_client()).status_code == 409
    full_api = through_api(client, "api-00000002")
    assert full_api.status_code == 409
    assert "quota" in full_api.json["errors"][0]["message"]
    assert count(session) == 3
    session.refresh(quota)
    assert quota.completed == 3


def test_an_invitation_completes_in_one_post_and_from_a_draft(app, session, campaign):
    set_quota(session, campaign, {"district": "wuhou"}, 1)
    first, first_token = InvitationFactory.with_token(campaign=campaign)
    second, second_token = InvitationFactory.with_token(campaign=campaign)
    session.commit()
    assert through_page(app.test_client(), url=f"/i/{first_token}").status_code == 302
    assert through_draft(app.test_client(), url=f"/i/{second_token}").status_code == 302
    for invitation in (first, second):
        session.refresh(invitation)
        assert invitation.status == "completed"
    stored = session.scalars(select(Response).order_by(Response.id)).all()
    assert [(r.channel, r.invitation_id) for r in stored] == [
        ("invitation", first.id),
        ("invitation", second.id),
    ]
    assert count(session, Draft) == 1  # linked to its response, the answers gone
    assert session.scalar(select(Draft.answers)) == {}
    # Invited responses leave the public quota alone, and each link answers once.
    assert through_page(app.test_client()).status_code == 302
    again = app.test_client().get(f"/i/{first_token}")
    assert "您已填写过本问卷" in again.get_data(as_text=True)
    assert count(session) == 3


def test_a_quota_added_after_the_lookup_was_cached_applies_on_the_page_and_the_api(
    client, session, campaign
):
    # The lookup is cached now with "no quotas": the INSERT refuses, and the retry claims.
    assert through_page(client).status_code == 302
    assert through_api(client, "api-00000003").status_code == 201
    shown = filled_in(client)
    quota = set_quota(session, campaign, {"district": "wuhou"}, 4)
    session.commit()
    assert client.post(PAGE, data=shown).status_code == 302
    assert through_api(client, "api-00000004").status_code == 201
    session.refresh(quota)
    assert quota.completed == 2
    assert count(session) == 4


def test_a_campaign_reopened_after_the_lookup_was_cached_takes_responses_at_once(
    client, session, campaign
):
    shown = [filled_in(client), filled_in(client)]
    campaign.status = "closed"
    session.commit()
    # The cached lookup says open: the INSERT refuses, the fresh lookup says closed.
    assert client.post(PAGE, data=shown[0]).status_code == 409
    assert through_api(client, "api-00000005").status_code == 409
    campaign.status = "open"
    session.commit()
    # The cached lookup says closed: a fresh one says open again.
    assert client.post(PAGE, data=shown[1]).status_code == 302
    assert through_api(client, "api-00000006").status_code == 201
    assert count(session) == 2


def test_a_collection_point_added_after_the_lookup_was_cached_is_known_to_the_api(
    client, session, campaign
):
    assert through_api(client, "api-00000007").status_code == 201
    unknown = through_api(client, "api-00000008", collection_point="poster-2")
    assert unknown.status_code == 422
    assert "poster-1" in unknown.json["errors"][0]["message"]
    session.add(CollectionPoint(campaign_id=campaign.id, code="poster-2", name="新点位"))
    session.commit()
    reply = through_api(client, "api-00000008", collection_point="poster-2", channel="qr")
    assert reply.status_code == 201, reply.json
    assert session.get(Response, reply.json["id"]).channel == "qr"


def test_one_submission_id_stores_one_response_on_the_page_and_the_api(client, session, campaign):
    assert through_page(client, submission_id="same-00000001").status_code == 302
    assert through_page(client, submission_id="same-00000001").status_code == 302
    repeated = through_api(client, "same-00000001")
    assert (repeated.status_code, repeated.json["created"]) == (200, False)
    assert count(session) == 1


def test_an_invalid_answer_is_refused_alike_and_nothing_is_stored(client, session, campaign):
    page = through_page(client, answers={"district": "wuhou", "age": "7"})
    assert page.status_code == 422
    api = through_api(client, "api-00000009", answers={"district": "wuhou", "age": 7})
    assert api.status_code == 422
    assert [e["location"] for e in api.json["errors"]] == ["answers.age"]
    assert count(session) == 0


def test_respondents_submits_leave_no_audit_event(app, client, session, campaign):
    invitation, token = InvitationFactory.with_token(campaign=campaign)
    session.commit()
    before = count(session, AuditEvent)
    through_page(client)
    through_draft(app.test_client())
    through_page(app.test_client(), url=f"/i/{token}")
    through_api(client, "api-00000010")
    assert count(session) == 4
    assert count(session, AuditEvent) == before
    session.refresh(invitation)
    assert invitation.status == "completed"
