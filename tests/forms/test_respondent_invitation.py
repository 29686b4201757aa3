"""Invitation links (`/i/<token>`): resumed from the same link, one response per invitation, the
invitation's status follows; and public-link quotas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forms.models import Draft, Response
from invitations.models import Invitation
from invitations.quotas import set_quota
from tests.factories import InvitationFactory
from tests.forms.test_respondent_page import PAGES, post_page, walk

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"


@pytest.fixture()
def link(session, campaign):
    invitation, token = InvitationFactory.with_token(campaign=campaign)
    session.commit()
    return invitation, f"/i/{token}"


def count(session):
    return session.scalar(select(func.count()).select_from(Response))


def test_opening_the_link_shows_the_first_page_and_marks_it_started(client, session, link):
    invitation, url = link
    text = client.get(url).get_data(as_text=True)
    assert "您居住在哪个区？" in text
    assert f'action="{url}"' in text
    assert "resume-code" not in text
    session.refresh(invitation)
    assert invitation.status == "started"


def test_the_same_link_resumes_on_another_device(app, client, session, link):
    _invitation, url = link
    assert post_page(client, 0, PAGES[0], url=url).headers["Location"].endswith(f"{url}?page=1")
    other = app.test_client()
    text = other.get(url).get_data(as_text=True)
    assert "第 2 页，共 4 页" in text
    for index, answers in enumerate(PAGES[1:], start=1):
        reply = post_page(other, index, answers, "submit" if index == 3 else "next", url=url)
    assert reply.status_code == 302
    stored = session.scalars(select(Response)).one()
    assert stored.answers["district"] == "wuhou"


def test_an_invitation_gives_one_response_and_then_only_thanks(client, session, campaign, link):
    campaign.anonymous = False
    session.commit()
    invitation, url = link
    assert walk(client, url=url).status_code == 302
    stored = session.scalars(select(Response)).one()
    assert (stored.channel, stored.invitation_id) == ("invitation", invitation.id)
    session.refresh(invitation)
    assert invitation.status == "completed"
    again = client.get(url)
    assert "您已填写过本问卷" in again.get_data(as_text=True)
    assert count(session) == 1


def test_an_unknown_link_is_not_found(client, campaign):
    assert client.get("/i/not-a-real-token").status_code == 404


def test_a_full_quota_refuses_the_public_response_and_stores_nothing(client, session, campaign):
    set_quota(session, campaign, {"district": "wuhou"}, 1)
    session.commit()
    assert walk(client).status_code == 302
    reply = walk(client)
    assert reply.status_code == 409
    assert "已达到所需人数" in reply.get_data(as_text=True)
    assert count(session) == 1


def test_invited_responses_do_not_claim_public_quotas(client, session, campaign, link):
    set_quota(session, campaign, {"district": "wuhou"}, 1)
    session.commit()
    assert walk(client).status_code == 302
    assert walk(client, url=link[1]).status_code == 302
    assert session.scalar(select(Invitation.status).where(Invitation.id == link[0].id)) == (
        "completed"
    )


def test_an_anonymous_campaign_keeps_no_link_from_the_response_to_the_invitation(
    client, session, campaign, link
):
    assert campaign.anonymous
    invitation, url = link
    assert post_page(client, 0, PAGES[0], url=url).status_code == 302  # a draft exists mid-way
    assert session.scalar(select(func.count()).select_from(Draft)) == 1
    assert walk(client, url=url).status_code == 302
    stored = session.scalars(select(Response)).one()
    assert (stored.channel, stored.invitation_id) == ("invitation", None)
    # Nothing else ties them together either: the draft that held both is gone.
    assert session.scalar(select(func.count()).select_from(Draft)) == 0
    session.refresh(invitation)
    assert invitation.status == "completed"
    assert "您已填写过本问卷" in client.get(url).get_data(as_text=True)
    assert count(session) == 1
