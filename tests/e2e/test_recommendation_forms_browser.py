"""An organizer in Chromium refuses and then records an adoption decision: the old address of
the recommendation moves under its campaign, the error summary has the focus and links to the
field, the choice stays, the message is under its field, and the decision is stored and audited
once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import AuditEvent
from minsheng.db import get_database, get_session
from recommendations.models import Recommendation
from tests.factories import PASSWORD, CampaignFactory, RecommendationFactory, UserFactory

from .browser import ARGS, CHROMIUM, needs_chromium, serving

pytestmark = needs_chromium
SLUG = "e2e-recommendation-forms"


@pytest.fixture()
def live_app(make_app: Any) -> Iterator[tuple[Any, str, str, int]]:
    """The app with CSRF on, a campaign with one proposed recommendation and an organizer, all
    committed for real and removed afterwards with what hangs off them."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        campaign = CampaignFactory(slug=SLUG)
        recommendation = RecommendationFactory(campaign=campaign, title="公交站台加装遮阳棚")
        organizer = UserFactory(role="organizer")
        get_session().commit()
        campaign_id, user_id, username = campaign.id, organizer.id, organizer.username
        rec_id = recommendation.id
    try:
        with serving(app) as base:
            yield app, base, username, rec_id
    finally:
        with app.app_context():
            session = get_session()
            session.execute(delete(Campaign).where(Campaign.id == campaign_id))
            session.execute(
                delete(AuditEvent).where(
                    (AuditEvent.actor_id == user_id)
                    | (
                        (AuditEvent.object_type == "recommendation")
                        & (AuditEvent.object_id == str(rec_id))
                    )
                    | (
                        (AuditEvent.object_type == "campaign")
                        & (AuditEvent.object_id == str(campaign_id))
                    )
                )
            )
            session.execute(delete(User).where(User.id == user_id))
            session.commit()
        get_database(app).engine.dispose()


def test_a_refused_decision_keeps_the_choice_and_leads_to_the_reason(
    live_app: tuple[Any, str, str, int], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base, username, rec_id = live_app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en")
        page.set_default_timeout(15_000)
        page.goto(f"{base}/login?lang=en")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.goto(f"{base}/recommendations/{rec_id}")  # a link from before the move
        assert page.url == f"{base}/campaigns/{SLUG}/recommendations/{rec_id}"
        page.select_option("#decision", "not_adopted")
        page.get_by_role("button", name="Record decision").click()

        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("a not_adopted decision needs a reason")
        expect(page.locator("#decision")).to_have_value("not_adopted")
        expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#reason-error")).to_have_text("a not_adopted decision needs a reason")
        summary.get_by_role("link").click()
        expect(page.locator("#reason")).to_be_focused()
        page.screenshot(path=str(tmp_path / "refused-decision.png"), full_page=True)

        page.fill("#reason", "与现行规划冲突，已转入下一年度研究。")
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_text("Status: Not adopted")).to_be_visible()
        expect(page.locator("#error-summary")).to_have_count(0)
        browser.close()

    with app.app_context():
        session = get_session()
        recommendation = session.get(Recommendation, rec_id)
        assert recommendation is not None and recommendation.status == "not_adopted"
        assert recommendation.decision_reason == "与现行规划冲突，已转入下一年度研究。"
        actions = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "recommendation",
                AuditEvent.object_id == str(rec_id),
                AuditEvent.action == "recommendation.not_adopted",
            )
        ).all()
        assert actions == ["recommendation.not_adopted"]
