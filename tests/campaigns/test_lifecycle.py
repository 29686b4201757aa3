"""The campaign lifecycle as a declared table, taken from the status page with a confirmation
that says what a step does: unsent invitations before pausing or closing, no opening without a
questionnaire, a paused campaign accepting no answer and sending nothing, every step audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campaigns.lifecycle import (
    TRANSITIONS,
    LifecycleError,
    change_status,
    next_steps,
    status_check,
)
from campaigns.models import Campaign
from invitations.send_runs import plan_send_run
from minsheng.audit import AuditEvent
from minsheng.errors import InputError
from tests.factories import InvitationFactory


def test_the_table_allows_pausing_resuming_and_reopening_but_never_leaving_archived():
    assert TRANSITIONS == {
        "draft": ("open",),
        "open": ("paused", "closed"),
        "paused": ("open", "closed"),
        "closed": ("open", "archived"),
        "archived": (),
    }


def test_a_step_outside_the_table_names_the_allowed_ones(session, campaign):
    assert campaign.status == "open"
    with pytest.raises(LifecycleError) as refused:
        change_status(session, campaign, "archived", actor_id=None)
    assert "it can move to paused, closed, not archived" in str(refused.value.problems[0])


def test_a_campaign_without_a_questionnaire_cannot_open(session):
    bare = Campaign(slug="bare", title={"zh": "空"}, theme="test", status="draft")
    session.add(bare)
    session.flush()
    with pytest.raises(LifecycleError) as refused:
        change_status(session, bare, "open", actor_id=None)
    assert refused.value.problems[0].location == "questionnaire"
    assert bare.status == "draft"


def test_a_paused_campaign_accepts_no_answer_and_sends_nothing(client, session, campaign):
    change_status(session, campaign, "paused", actor_id=None)
    session.commit()
    response = client.post(
        f"/api/v1/campaigns/{campaign.slug}/responses",
        json={"submission_id": "paused-0001", "answers": {}},
    )
    assert response.status_code == 409
    with pytest.raises(InputError) as refused:
        plan_send_run(session, campaign, "invitation")
    assert "sent only while it is open" in str(refused.value.problems[0])
    change_status(session, campaign, "open", actor_id=None)
    assert [s.target for s in next_steps(campaign)] == ["paused", "closed"]


def test_pausing_says_how_many_invitations_are_unsent(session, campaign):
    for _ in range(3):
        InvitationFactory(campaign=campaign)
    session.flush()
    notes = [str(n) for n in status_check(session, campaign, "paused").notes]
    assert "3 invitation(s) have not been sent yet and will not be" in notes


def test_the_status_page_offers_the_next_steps_and_closing_is_confirmed_and_audited(
    client, login, session, campaign
):
    InvitationFactory(campaign=campaign)
    InvitationFactory(campaign=campaign)
    session.commit()
    organizer = login("organizer")
    page = client.get(f"/campaigns/{campaign.slug}/status?lang=en")
    assert page.status_code == 200
    assert f"/campaigns/{campaign.slug}/status/closed" in page.text
    assert f"/campaigns/{campaign.slug}/status/paused" in page.text

    confirm = client.get(f"/campaigns/{campaign.slug}/status/closed?lang=en")
    assert confirm.status_code == 200
    assert "2 invitation(s) have not been sent yet and will not be" in confirm.text
    assert campaign.status == "open"  # looking at the confirmation changes nothing

    done = client.post(f"/campaigns/{campaign.slug}/status/closed")
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Campaign, campaign.id).status == "closed"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.status")).one()
    assert event.actor_id == organizer.id
    assert (event.detail["before"], event.detail["after"]) == ("open", "closed")


def test_a_refused_step_is_explained_and_no_button_is_offered(client, login, session):
    bare = Campaign(slug="bare", title={"zh": "空"}, theme="test", status="draft")
    session.add(bare)
    session.commit()
    login("admin")
    confirm = client.get("/campaigns/bare/status/open?lang=en")
    assert "there is no published questionnaire to answer yet" in confirm.text
    assert "Confirm" not in confirm.text
    refused = client.post("/campaigns/bare/status/open")
    assert refused.status_code == 422
    session.expire_all()
    assert session.get(Campaign, bare.id).status == "draft"


def test_a_step_not_in_the_table_is_404_and_other_roles_may_not_take_steps(
    client, login, session, campaign
):
    login("organizer")
    assert client.get(f"/campaigns/{campaign.slug}/status/archived").status_code == 404
    assert client.get(f"/campaigns/{campaign.slug}/status/nonsense").status_code == 404
    client.post("/logout")
    login("expert")
    assert client.get(f"/campaigns/{campaign.slug}/status").status_code == 403
    assert client.post(f"/campaigns/{campaign.slug}/status/closed").status_code == 403


def test_the_cli_prints_the_notes_before_the_step(runner, session, campaign):
    InvitationFactory(campaign=campaign)
    session.commit()
    result = runner.invoke(args=["campaign", "status", campaign.slug, "paused"])
    assert result.exit_code == 0, result.output
    assert "note: 1 invitation(s) have not been sent yet and will not be" in result.output
    session.expire_all()
    assert session.get(Campaign, campaign.id).status == "paused"
