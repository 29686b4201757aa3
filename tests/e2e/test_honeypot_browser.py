"""A phone-sized Chromium on a public link (issue 11, point 4): the honeypot field is off screen,
out of the accessibility tree and of the tab order, so a person typing at a person's pace is
stored unflagged; a script that fills every field is thanked the same way and left out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from analysis.summary import summarize
from campaigns.models import Campaign
from forms.models import Response
from forms.provenance import HONEYPOT_FIELD
from minsheng.db import get_session

from .browser import ARGS, CHROMIUM, needs_chromium, serving_campaign

FIXTURE = Path(__file__).parent / "fixtures" / "public_link.yaml"
URL = "/s/e2e-public-link"

pytestmark = needs_chromium


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str]]:
    with serving_campaign(make_app, own_database_url, FIXTURE) as served:
        yield served


def _focus_order(page: Any, steps: int) -> list[str]:
    """The ids Tab moves through from the first field."""
    page.locator("#district-0").focus()
    seen = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.name"))
    return seen


def test_a_person_is_stored_unflagged_and_a_form_filling_script_is_thanked_and_left_out(
    live_app: tuple[Any, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base = live_app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "locale": "zh-CN"}

        person = browser.new_context(**phone).new_page()
        began = time.monotonic()
        person.goto(f"{base}{URL}")
        trap = person.locator(f"#{HONEYPOT_FIELD}")
        box = trap.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 0  # off screen, not display:none
        assert "留空" not in person.locator("form").aria_snapshot()
        assert person.get_by_role("textbox").count() == 2  # age and suggestion only
        assert HONEYPOT_FIELD not in _focus_order(person, 6)
        person.screenshot(path=str(tmp_path / "person.png"), full_page=True)
        person.get_by_label("武侯区").check()
        person.locator("#age").press_sequentially("35", delay=120)
        # Typed at a person's pace (about 8 characters a second), not filled in at once.
        person.locator("#suggestion").press_sequentially("建议地铁末班车延后半小时。", delay=120)
        person.get_by_role("button", name="提交").click()
        expect(person.locator(".thanks")).to_contain_text("感谢您的参与")
        elapsed = time.monotonic() - began

        bot = browser.new_context(**phone).new_page()
        bot.goto(f"{base}{URL}")
        bot.locator("#district-1").check()
        bot.evaluate(
            """() => { for (const box of document.querySelectorAll('input[type=text], textarea'))
                         box.value = box.id === 'age' ? '30' : 'http://cheap-pills.example'; }"""
        )
        bot.locator("button[value=submit]").click()
        expect(bot.locator(".thanks")).to_contain_text("感谢您的参与")
        browser.close()

    with app.app_context():
        session = get_session()
        campaign = session.scalars(select(Campaign).where(Campaign.slug == "e2e-public-link")).one()
        stored = session.scalars(
            select(Response).where(Response.campaign_id == campaign.id).order_by(Response.id)
        ).all()
        assert [r.honeypot for r in stored] == [False, True]
        assert stored[0].answers["suggestion"] == "建议地铁末班车延后半小时。"
        # The start the page was served with came back signed: the server timed what the
        # browser took, and no more.
        assert stored[0].duration_seconds is not None
        assert 1.5 < stored[0].duration_seconds <= elapsed + 0.5
        assert stored[0].address_hash is not None and "127.0.0.1" not in stored[0].address_hash
        summary = summarize(session, campaign)
        flags = {f.flag: f.count for f in summary.quality.flags}
        # The person is flagged for nothing; the script, for the honeypot (and for speed when it
        # took under the minimum of 1 s, as it does on a machine not otherwise busy).
        assert flags == {
            "speeder": int(stored[1].duration_seconds < 1),
            "straightliner": 0,
            "duplicate": 0,
            "near_duplicate": 0,
            "honeypot": 1,
        }
        assert summary.n_responses == 1
