"""An organizer in Chromium pauses a campaign from its Status tab: the confirmation says how many
invitations are unsent, the campaign is paused once confirmed, and its respondent page then says
it is not accepting answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minsheng.db import get_session
from tests.factories import CampaignFactory, InvitationFactory, UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium
SLUG = "e2e-lifecycle"


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, str]]:
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        campaign = CampaignFactory(slug=SLUG)
        for _ in range(4):
            InvitationFactory(campaign=campaign)
        username = UserFactory(role="organizer").username
        get_session().commit()
    with served(app) as base:
        yield base, username


def test_an_organizer_pauses_a_campaign_after_reading_what_it_does(
    live_app: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, username = live_app
    with logged_in_page(base, username, locale="zh-CN") as page:
        page.goto(f"{base}/campaigns/{SLUG}/results?lang=zh_CN")
        page.get_by_role("navigation", name="本次征集").get_by_role("link", name="状态").click()
        expect(page.locator(".campaign-status")).to_have_text("征集中")
        page.get_by_role("link", name="暂停征集…").click()
        expect(page.locator(".status-notes")).to_contain_text("4 份邀请尚未发送，将不会发送。")
        page.screenshot(path=str(tmp_path / "pause-confirmation.png"), full_page=True)
        page.get_by_role("button", name="确认：暂停征集").click()
        expect(page.locator(".campaign-status")).to_have_text("已暂停")

        page.goto(f"{base}/s/{SLUG}?lang=zh_CN")
        expect(page.get_by_role("alert")).to_contain_text("本问卷暂停收集，请稍后再来。")
