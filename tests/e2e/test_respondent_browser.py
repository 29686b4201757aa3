"""A phone-sized Chromium answers a questionnaire: a constraint error, a cascading select, skip
logic on the page and across pages, a page break, a resume with the code on a browser that lost
its cookies, and the stored response checked in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from forms.models import Response
from minsheng.db import get_session

from .browser import ARGS, CHROMIUM, needs_chromium, serving_campaign

FIXTURE = Path(__file__).parent / "fixtures" / "community.yaml"

pytestmark = needs_chromium


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str]]:
    """The app on 127.0.0.1 and a random port, in a thread, on a database of this test's own
    (unlike the other tests this one commits for real: the server thread has its own
    connections)."""
    with serving_campaign(make_app, own_database_url, FIXTURE) as served:
        yield served


def enabled_options(page: Any, select_id: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#{select_id} option", "opts => opts.filter(o => !o.disabled).map(o => o.value)"
    )


def test_a_respondent_on_a_phone_answers_resumes_and_is_stored(
    live_app: tuple[Any, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base = live_app
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15_000)

        # Page 1: the street list follows the district as soon as it is chosen.
        # The car-costs page is not counted until the answers make it relevant.
        page.goto(f"{base}/s/e2e-community")
        expect(page.locator("#progress-label")).to_have_text("第 1 页，共 3 页")
        assert enabled_options(page, "street") == [""]
        page.get_by_label("武侯区").check()
        assert enabled_options(page, "street") == ["", "jiangxi", "yulin"]
        page.select_option("#street", "yulin")

        # A constraint error: the summary gets the focus and links to the field.
        page.fill("#age", "200")
        page.press("#age", "Enter")  # Enter presses "next", the first button of the form
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("年龄应在16到110岁之间")
        summary.get_by_role("link").click()
        expect(page.locator("#age")).to_be_focused()
        page.fill("#age", "35")
        page.get_by_role("button", name="下一页").click()

        # Page 2: the parking question appears and disappears with the answer above it.
        expect(page.locator("#progress-label")).to_have_text("第 2 页，共 3 页")
        parking = page.locator("#q-parking")
        expect(parking).to_be_hidden()
        page.get_by_label("是", exact=True).check()
        expect(parking).to_be_visible()
        page.get_by_label("否", exact=True).check()
        expect(parking).to_be_hidden()
        page.get_by_label("是", exact=True).check()
        page.get_by_label("满意", exact=True).check()
        page.get_by_role("button", name="下一页").click()

        # Page 3 exists because of the car; note the resume code and lose the cookies.
        expect(page.locator("#progress-label")).to_have_text("第 3 页，共 4 页")
        code = page.locator("#resume-code").inner_text()
        assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
        context.clear_cookies()
        page.goto(f"{base}/s/e2e-community")
        expect(page.locator("#progress-label")).to_have_text("第 1 页，共 3 页")
        page.goto(f"{base}/s/e2e-community/resume")
        page.get_by_label("续填码").fill(code.lower())
        page.get_by_role("button", name="继续填写").click()
        expect(page.locator("#progress-label")).to_have_text("第 3 页，共 4 页")
        page.fill("#monthly_cost", "300")
        page.get_by_role("button", name="下一页").click()

        # Page 4: a ranking, an NPS scale, a suggestion; Back keeps them, Submit stores them.
        expect(page.locator("#progress-label")).to_have_text("第 4 页，共 4 页")
        page.select_option("#priorities-0", "sidewalks")
        page.select_option("#priorities-1", "buses")
        page.get_by_label("9", exact=True).check()
        page.fill("#suggestion", "建议在小区周边增设共享单车停放点。")
        page.get_by_role("button", name="上一页").click()
        expect(page.locator("#monthly_cost")).to_have_value("300")
        page.get_by_role("button", name="下一页").click()
        expect(page.locator("#suggestion")).to_have_value("建议在小区周边增设共享单车停放点。")
        page.get_by_role("button", name="提交").click()
        expect(page.locator(".thanks")).to_contain_text("感谢您的参与")
        context.close()

    with app.app_context():
        campaign = get_session().scalars(select(Campaign).where(Campaign.slug == "e2e-community"))
        stored = (
            get_session()
            .scalars(select(Response).where(Response.campaign_id == campaign.one().id))
            .all()
        )
        assert len(stored) == 1
        answers = stored[0].answers
        assert (answers["district"], answers["street"], answers["age"]) == ("wuhou", "yulin", 35)
        assert (answers["has_car"], answers["parking"]) == ("yes", "4")
        assert answers["monthly_cost"] == 300
        assert answers["priorities"] == ["sidewalks", "buses"]
        assert answers["nps"] == 9
        assert answers["suggestion"] == "建议在小区周边增设共享单车停放点。"
        assert stored[0].channel == "web"
        assert stored[0].duration_seconds is not None and stored[0].duration_seconds > 0
