"""A new organizer in Chromium creates a campaign from the campaign list, builds its first
questions with skip logic in the editor (a broken expression is flagged as it is typed), previews
it at phone width, publishes it and opens the campaign, all without the command line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from minsheng.db import get_session
from tests.factories import UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, str]]:
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        username = UserFactory(role="organizer").username
        get_session().commit()
    with served(app) as base:
        yield base, username


def test_an_organizer_creates_builds_previews_and_opens_a_campaign(
    live_app: tuple[str, str],
) -> None:
    from playwright.sync_api import expect

    base, username = live_app
    with logged_in_page(base, username) as page:
        page.goto(f"{base}/campaigns/?lang=en")
        page.get_by_role("link", name="New campaign").click()
        page.fill("#slug", "parks-2027")
        page.fill("#title_zh", "公园绿地专项征集")
        page.fill("#title_en", "Parks")
        page.fill("#theme", "公园绿地")
        page.get_by_role("button", name="Create the campaign").click()
        expect(page.locator(".campaign-status")).to_have_text("draft")

        page.get_by_role("navigation", name="This campaign").get_by_role(
            "link", name="Questionnaire"
        ).click()
        survey = page.locator('table[data-sheet="survey"] tbody tr')
        first = survey.nth(0)
        first.locator('td[data-column="type"] input').fill("select_one yesno")
        first.locator('td[data-column="name"] input').fill("visits")
        first.locator('td[data-column="label::en"] input').fill("Do you visit parks?")
        first.locator('td[data-column="label::zh"] input').fill("您去公园吗？")
        second = survey.nth(1)
        second.locator('td[data-column="type"] input').fill("text")
        second.locator('td[data-column="name"] input').fill("why_not")
        second.locator('td[data-column="label::en"] input').fill("Why not?")
        second.locator('td[data-column="label::zh"] input').fill("为什么不去？")
        relevant = second.locator('td[data-column="relevant"] input')
        relevant.fill("${visits} = 'no' and")
        expect(second.locator('td[data-column="relevant"] .check')).to_contain_text(
            "ends too early"
        )
        relevant.fill("${visits} = 'no'")
        expect(second.locator('td[data-column="relevant"] .check')).to_have_text("✓")
        choices = page.locator('table[data-sheet="choices"] tbody tr')
        for row, (name, zh, en) in enumerate((("yes", "去", "Yes"), ("no", "不去", "No"))):
            line = choices.nth(row)
            line.locator('td[data-column="list_name"] input').fill("yesno")
            line.locator('td[data-column="name"] input').fill(name)
            line.locator('td[data-column="label::zh"] input').fill(zh)
            line.locator('td[data-column="label::en"] input').fill(en)

        page.select_option("#preview_language", "en")
        page.get_by_role("button", name="Preview on a phone").click()
        preview = page.frame_locator('iframe[name="preview"]')
        expect(preview.get_by_text("Do you visit parks?")).to_be_visible()
        expect(preview.get_by_text("Why not?")).to_be_hidden()
        preview.get_by_role("radio", name="No", exact=True).check()
        expect(preview.get_by_text("Why not?")).to_be_visible()

        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.get_by_role("alert").first).to_contain_text("Version 1 is published.")

        page.get_by_role("navigation", name="This campaign").get_by_role(
            "link", name="Status"
        ).click()
        page.get_by_role("link", name="Open…").click()
        page.get_by_role("button", name="Confirm: Open").click()
        expect(page.locator(".campaign-status")).to_have_text("open")

        page.goto(f"{base}/s/parks-2027?lang=en")
        expect(page.get_by_text("Do you visit parks?")).to_be_visible()
