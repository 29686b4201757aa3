"""A campaign set up in the browser: created as a draft its creator owns, its settings edited
while it is a draft or paused with each problem under its field, the page and the campaign file
editing the same thing, and who runs it named on its Organizers page."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select

from campaigns.definition import definition_to_dict, read_campaign_file
from campaigns.models import Campaign
from campaigns.setup import page_values, save_campaign_settings
from campaigns.store import campaign_definition
from minsheng.audit import AuditEvent
from tests.factories import PASSWORD, CampaignFactory, UserFactory

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"

NEW = {
    "slug": "parks-2027",
    "title_zh": "公园绿地专项征集",
    "title_en": "Parks campaign",
    "theme": "公园绿地",
    "description_zh": "听取居民对公园的意见",
    "starts_on": "2027-03-01",
    "ends_on": "2027-05-31",
    "anonymous": "y",
    "timezone": "Asia/Shanghai",
    "target_groups": "residents | 社区居民 | Residents | 常住居民\nvisitors | 游客",
    "collection_points": "park-gate | 人民公园东门 | 青羊区",
    "departments": "parks | 市公园城市建设管理局",
    "settings": "weighting:\n  margins:\n    district: {qingyang: 950000, wuhou: 1200000}\n",
}


def test_an_organizer_creates_a_draft_campaign_that_is_theirs(client, login, session):
    organizer = login("organizer")
    page = client.post("/campaigns/new", data=NEW)
    assert page.status_code == 302, page.text
    assert page.headers["Location"] == "/campaigns/parks-2027/settings"

    campaign = session.scalar(select(Campaign).where(Campaign.slug == "parks-2027"))
    assert campaign.status == "draft"
    assert campaign.owner_id == organizer.id
    assert campaign.title == {"zh": "公园绿地专项征集", "en": "Parks campaign"}
    assert [(g.code, g.name, g.description) for g in campaign.target_groups] == [
        ("residents", {"zh": "社区居民", "en": "Residents"}, "常住居民"),
        ("visitors", {"zh": "游客"}, ""),
    ]
    assert [(p.code, p.name, p.address) for p in campaign.collection_points] == [
        ("park-gate", "人民公园东门", "青羊区")
    ]
    assert [d.code for d in campaign.departments] == ["parks"]
    assert campaign.settings["weighting"]["margins"]["district"]["wuhou"] == 1200000
    assert campaign.timezone == "Asia/Shanghai"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.create"))
    assert event.actor_id == organizer.id

    shown = client.get("/campaigns/parks-2027/settings?lang=zh_CN").get_data(as_text=True)
    assert "人民公园东门" in shown and "草稿" in shown


def test_every_problem_of_the_settings_is_shown_under_its_field(client, login, session):
    login("organizer")
    page = client.post(
        "/campaigns/new?lang=en",
        data={
            **NEW,
            "slug": "X",
            "title_zh": "",
            "ends_on": "2027-01-01",
            "target_groups": "residents | 居民\n\nresidents | 又一个",
            "collection_points": "a | b | c | d",
            "settings": "weighting: [unclosed",
            "timezone": "Mars/Olympus",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "line 1: 4 parts; expected at most 3" in text
    assert "line 2: not valid YAML" not in text and "not valid YAML" in text
    # The problems of the lists and the YAML box are all reported at once, before the rest.
    assert session.scalar(select(Campaign).where(Campaign.slug == "X")) is None

    page = client.post(
        "/campaigns/new?lang=en",
        data={
            **NEW,
            "slug": "X",
            "title_zh": "",
            "ends_on": "2027-01-01",
            "target_groups": "residents | 居民\n\nresidents | 又一个",
            "timezone": "Mars/Olympus",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'id="slug-error"' in text and "expected 3-80 lowercase letters" in text
    assert 'id="title_zh-error"' in text
    assert 'id="ends_on-error"' in text and "is before starts_on" in text
    # The duplicate is the third line of the box (the second is blank).
    assert "line 3: duplicate code &#39;residents&#39;" in text
    assert 'id="timezone-error"' in text


def test_a_slug_already_used_is_refused_and_the_other_campaign_is_untouched(
    client, login, campaign, session
):
    login("organizer")
    page = client.post("/campaigns/new?lang=en", data={**NEW, "slug": campaign.slug})
    assert page.status_code == 422
    assert "is already another campaign" in page.get_data(as_text=True)
    session.refresh(campaign)
    assert campaign.theme == "交通出行"


def test_an_open_campaign_keeps_its_settings_until_it_is_paused(client, login, campaign, session):
    login("admin")
    page = client.post(
        f"/campaigns/{campaign.slug}/settings?lang=en",
        data={**page_values(campaign), "theme": "changed"},
    )
    assert page.status_code == 200
    assert "pause it on its Status page" in page.get_data(as_text=True)
    session.refresh(campaign)
    assert campaign.theme == "交通出行"

    campaign.status = "paused"
    session.commit()
    page = client.post(
        f"/campaigns/{campaign.slug}/settings",
        data={**page_values(campaign), "theme": "出行"},
    )
    assert page.status_code == 302
    session.refresh(campaign)
    assert campaign.theme == "出行"
    assert campaign.slug == "transport-2026"


def test_the_settings_page_and_the_campaign_file_edit_the_same_thing(session, instance_folder):
    """Saving the page's values of a campaign loaded from its file changes nothing the file says."""
    owner = UserFactory(role="organizer")
    campaign = CampaignFactory()
    campaign.status = "paused"
    session.flush()
    form = read_campaign_file(EXAMPLE).form
    before = definition_to_dict(campaign_definition(campaign, form), {})

    save_campaign_settings(session, page_values(campaign), campaign, owner)
    session.flush()
    after = definition_to_dict(campaign_definition(campaign, form), {})
    assert after == before
    original = dataclasses.replace(read_campaign_file(EXAMPLE), status="paused")
    assert after == definition_to_dict(original, {})


def test_the_owner_names_co_organizers_and_other_organizers_lose_the_campaign(
    app, client, login, campaign, session
):
    owner = login("organizer")
    helper, other = UserFactory(role="organizer"), UserFactory(role="organizer")
    session.commit()
    page = client.get(f"/campaigns/{campaign.slug}/organizers?lang=en")
    assert "has no owner yet, so every organizer runs it" in page.get_data(as_text=True)

    page = client.post(
        f"/campaigns/{campaign.slug}/organizers",
        data={"owner": owner.id, "co_organizers": [helper.id]},
    )
    assert page.status_code == 302, page.text
    session.refresh(campaign)
    assert campaign.owner_id == owner.id
    assert [u.id for u in campaign.co_organizers] == [helper.id]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.organizers"))
    assert event.actor_id == owner.id and event.detail["co_organizers"] == [helper.username]

    for user, status in ((helper, 200), (other, 403)):
        visitor = app.test_client()
        visitor.post("/login", data={"username": user.username, "password": PASSWORD})
        assert visitor.get(f"/campaigns/{campaign.slug}/settings").status_code == status
    # A co-organizer sees who runs the campaign but does not change it.
    visitor = app.test_client()
    visitor.post("/login", data={"username": helper.username, "password": PASSWORD})
    page = visitor.post(
        f"/campaigns/{campaign.slug}/organizers?lang=en",
        data={"owner": helper.id, "co_organizers": []},
    )
    assert "Only the owner or an admin" in page.get_data(as_text=True)
    session.refresh(campaign)
    assert campaign.owner_id == owner.id
