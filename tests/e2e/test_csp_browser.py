"""Chromium opens the main pages under the app's Content-Security-Policy (issue 11) and fails on
any violation, console error or script error, while each page still does its job: login, the
campaign list, the results bars, the message preview's framed e-mail, a report rendered from its
button, and the respondent form's skip logic, cascading choices and error summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.synthetic import add_synthetic_responses
from forms.publishing import current_version, load_campaign_file
from minsheng.db import get_database, get_session
from tests.factories import PASSWORD, CampaignFactory, UserFactory

from .browser import ARGS, CHROMIUM, log_in, needs_chromium, serving

pytestmark = needs_chromium
FIXTURE = Path(__file__).parent / "fixtures" / "community.yaml"
SLUG = "e2e-csp"
# Runs in every frame before the page's own scripts, outside the page's policy (the browser
# injects it), so that each violation is also a console error this test collects.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI
                + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, str]]:
    """The app with CSRF on, the transport campaign with 300 responses, the respondent test
    campaign and an admin, committed for real in a database of this test's own."""
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory(slug=SLUG)
        add_synthetic_responses(session, campaign, current_version(session, campaign), 300, 7)
        load_campaign_file(session, str(FIXTURE))
        admin = UserFactory(role="admin")
        session.commit()
        username = admin.username
    try:
        with serving(app) as base:
            yield base, username
    finally:
        get_database(app).engine.dispose()


class Watch:
    """What went wrong in the browser, page by page: console errors (violations among them),
    uncaught script errors, and documents served without the policy."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self.refused_documents: set[str] = set()
        self.documents: list[Any] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        page.on("response", self._response)
        self.page = page

    def _console(self, message: Any) -> None:
        # Chromium reports a page answered 4xx (a refused form: 422) as a failed load; that page
        # is the app's answer, shown to the person. Failed scripts, styles or frames are not.
        answered = message.location.get("url") in self.refused_documents
        if message.type == "error" and not (answered and "status of 4" in message.text):
            self.problems.append(f"{self.page.url}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document" and response.url.startswith("http"):
            self.documents.append(response)
            if 400 <= response.status < 500:
                self.refused_documents.add(response.url)

    def all_problems(self) -> list[str]:
        """The problems, and every document served without a policy (read after the pages,
        since a handler may not wait for the browser)."""
        # Chromium's PDF viewer takes over a PDF's stream and hands on its response without
        # the server's headers; the test reads a PDF's headers with a request of its own.
        unguarded = [
            f"{document.url}: served without a policy"
            for document in self.documents
            if "content-security-policy" not in document.all_headers()
            and not document.url.endswith(".pdf")
        ]
        return self.problems + unguarded


def test_the_main_pages_work_in_chromium_without_a_single_policy_violation(
    live_app: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, username = live_app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(locale="en")
        context.add_init_script(REPORT_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(60_000)  # two cores shared by many
        watch = Watch(page)

        # The detector itself: an inline style set from a script is refused and reported.
        page.goto(f"{base}/login?lang=en")
        page.evaluate("document.body.setAttribute('style', 'color: red')")
        page.wait_for_timeout(200)
        assert any("CSP violation: style-src" in p for p in watch.problems), watch.problems
        watch.problems.clear()

        # Login, then the campaign list.
        log_in(page, base, username, PASSWORD)
        page.goto(f"{base}/campaigns/")
        expect(
            page.get_by_role("link", name="Transport and Mobility Campaign").first
        ).to_be_visible()

        # The results page: every answer has its bar, as long as its share of the base.
        page.goto(f"{base}/campaigns/{SLUG}/results")
        expect(page.locator(".n-responses")).to_have_text("300")
        bars = page.locator("#q-district svg.bar")
        assert bars.count() >= 2
        cell = page.locator("#q-district td.bar-cell").first.bounding_box()
        bar = bars.first.bounding_box()
        drawn = bars.first.locator("rect").bounding_box()
        share = float(bars.first.locator("rect").get_attribute("width") or 0)
        assert cell and bar and drawn and 0 < share < 100
        assert bar["width"] > 0.8 * cell["width"]  # the CSS rule reached the bar
        assert drawn["width"] == pytest.approx(bar["width"] * share / 100, abs=2)
        page.screenshot(path=str(tmp_path / "results.png"), full_page=True)

        # The message preview: the e-mail's HTML in its frame, with the inline styles it needs.
        page.goto(f"{base}/campaigns/{SLUG}/messages?language=en")
        page.select_option("select[name=kind]", "reminder")
        page.get_by_role("button", name="Show").click()
        frame = page.frame_locator("iframe.message-html")
        button = frame.get_by_role("link", name="Answer the questionnaire")
        expect(button).to_be_visible()
        expect(button).to_have_css("background-color", "rgb(158, 27, 27)")
        expect(frame.get_by_text("If you have already answered")).to_be_visible()

        # The collection points' QR posters, a PDF shown inline by Chromium's own viewer.
        posters = f"{base}/campaigns/{SLUG}/posters.pdf"
        page.goto(posters)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(tmp_path / "posters.png"))
        assert (
            "frame-ancestors 'none'" in page.request.get(posters).headers["content-security-policy"]
        )

        # The report page: its button renders a report (in-process here), listed as done.
        page.goto(f"{base}/campaigns/{SLUG}/reports")
        page.get_by_role("button", name="Render report").click(timeout=120_000)
        expect(page.get_by_role("link", name="Download PDF")).to_be_visible(timeout=120_000)

        # The respondent form: choices follow the district, a missing answer is summarised
        # with the focus on the summary (both from the page's scripts).
        page.goto(f"{base}/s/e2e-community?lang=en")
        page.get_by_label("Wuhou").check()
        streets = page.eval_on_selector_all(
            "#street option", "opts => opts.filter(o => !o.disabled).map(o => o.value)"
        )
        assert streets == ["", "jiangxi", "yulin"]
        page.get_by_role("button", name="Next").click()
        expect(page.locator("#error-summary")).to_be_focused()
        page.goto(f"{base}/s/e2e-community/resume?lang=en")
        expect(page.get_by_label("Resume code")).to_be_visible()

        problems = watch.all_problems()
        assert problems == [], "\n".join(problems)
        assert len(watch.documents) >= 10
        browser.close()
