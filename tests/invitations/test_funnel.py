"""The delivery funnel and AAPOR RR1/RR2, per campaign, stratum and channel, on the page, the API
and the CLI."""

from __future__ import annotations

import pytest

from invitations.funnel import funnel

from .sending_helpers import build_worked_campaign, invited_campaign


@pytest.fixture()
def worked_campaign(app, session):
    return build_worked_campaign(app, session)


def test_funnel_counts_each_stage_and_aapor_dispositions(session, worked_campaign):
    camp, _ids = worked_campaign
    result = funnel(session, camp)
    total = result.total
    assert (total.created, total.sent, total.delivered, total.bounced) == (12, 11, 10, 1)
    assert (total.opened, total.started, total.completed, total.opted_out) == (7, 6, 4, 1)
    # I: 4 completed; P: 2 started only; R: 1 opened + 1 opted out; UO: 1 bounce;
    # UH: 2 delivered with no sign (resident6, resident10) + 1 never sent (resident11).
    assert total.dispositions == {"I": 4, "P": 2, "R": 2, "NC": 0, "O": 0, "UH": 3, "UO": 1}
    assert total.rr1 == pytest.approx(4 / 12)
    assert total.rr2 == pytest.approx(6 / 12)


def test_funnel_splits_by_channel_and_stratum(session, worked_campaign):
    camp, _ids = worked_campaign
    result = funnel(session, camp)
    email, sms = result.by_channel["email"], result.by_channel["sms"]
    assert (email.created, email.sent, email.bounced, email.completed) == (8, 8, 1, 3)
    assert (sms.created, sms.sent, sms.completed, sms.started) == (3, 3, 1, 2)
    assert result.by_channel["(not sent)"].created == 1
    assert email.rr1 == pytest.approx(3 / 8)
    # people() spreads residents over the four districts in turn: 0,4,8 are in 锦江区.
    jinjiang = result.by_stratum['{"district":"锦江区"}']
    assert (jinjiang.created, jinjiang.completed, jinjiang.opened) == (3, 2, 3)
    assert sum(c.created for c in result.cells.values()) == 12


def test_funnel_of_a_campaign_without_invitations_has_no_rates(session):
    camp, _ = invited_campaign(session, 0)
    result = funnel(session, camp)
    assert result.total.created == 0
    assert result.total.rr1 is None and result.total.rr2 is None


def test_funnel_api_and_page_for_organizers(client, login, worked_campaign):
    camp, _ids = worked_campaign
    assert client.get(f"/api/v1/campaigns/{camp.slug}/funnel").status_code == 401
    login("organizer")
    body = client.get(f"/api/v1/campaigns/{camp.slug}/funnel").get_json()
    assert body["total"]["completed"] == 4
    assert body["total"]["rr1"] == pytest.approx(1 / 3)
    assert body["by_channel"]["sms"]["sent"] == 3
    assert {c["channel"] for c in body["cells"]} == {"email", "sms", "(not sent)"}
    assert client.get("/api/v1/campaigns/nope/funnel").status_code == 404

    page = client.get(f"/campaigns/{camp.slug}/funnel")
    assert page.status_code == 200
    assert "发送漏斗" in page.text
    assert "33.3%" in page.text and "50.0%" in page.text
    assert "district=锦江区" in page.text
    assert f'href="/campaigns/{camp.slug}/posters.pdf"' in page.text
    posters = client.get(f"/campaigns/{camp.slug}/posters.pdf?point=jinniu-tea")
    assert posters.mimetype == "application/pdf"
    assert posters.data.startswith(b"%PDF")
    assert client.get(f"/campaigns/{camp.slug}/posters.pdf?point=nope").status_code == 404


def test_funnel_is_for_organizers_only(client, login, worked_campaign):
    camp, _ids = worked_campaign
    login("expert")
    assert client.get(f"/campaigns/{camp.slug}/funnel").status_code == 403
    assert client.get(f"/api/v1/campaigns/{camp.slug}/funnel").status_code == 403
