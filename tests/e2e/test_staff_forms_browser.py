"""An organizer in Chromium refuses and then fixes a quota, and refuses and then records an
adoption decision: the old URL moves to the campaign's page, the error summary has the focus and
links to the field, the typed values stay, the message is under its field, and the corrected
quota or decision is stored and audited once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from invitations.models import Quota
from minsheng.accounts.models import User
from minsheng.audit import AuditEvent
from minsheng.db import get_session
from recommendations.models import Recommendation
from tests.factories import CampaignFactory, RecommendationFactory, UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium
SLUG = "e2e-staff-forms"


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str, str]]:
    """The app with CSRF on, a campaign and an organizer, all committed for real in a database
    of this test's own."""
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        CampaignFactory(slug=SLUG)
        organizer = UserFactory(role="organizer")
        get_session().commit()
        username = organizer.username
    with served(app) as base:
        yield app, base, username


def test_a_refused_quota_keeps_what_was_typed_and_leads_to_the_field(
    live_app: tuple[Any, str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    app, base, username = live_app
    with logged_in_page(base, username) as page:
        page.goto(f"{base}/invitations/campaigns/{SLUG}")  # a bookmark from before the move
        assert page.url == f"{base}/campaigns/{SLUG}/invitations"
        page.fill("#stratum", "锦江区")
        page.fill("#maximum", "5")
        page.get_by_role("button", name="Save quota").click()

        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Please correct the following:")
        expect(summary).to_contain_text("got '锦江区'; expected attribute=value")
        expect(page.locator("#stratum")).to_have_value("锦江区")
        expect(page.locator("#maximum")).to_have_value("5")
        expect(page.locator("#stratum")).to_have_attribute("aria-describedby", "stratum-error")
        expect(page.locator("#stratum")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#stratum-error")).to_have_text(
            "got '锦江区'; expected attribute=value"
        )
        summary.get_by_role("link").click()
        expect(page.locator("#stratum")).to_be_focused()
        page.screenshot(path=str(tmp_path / "refused-quota.png"), full_page=True)

        page.fill("#stratum", "district=锦江区")
        page.get_by_role("button", name="Save quota").click()
        expect(page.locator("table").last).to_contain_text("district=锦江区")
        expect(page.locator("#error-summary")).to_have_count(0)

    with app.app_context():
        session = get_session()
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        quotas = session.scalars(select(Quota).where(Quota.campaign_id == campaign_id)).all()
        assert [(q.attribute_values, q.maximum) for q in quotas] == [({"district": "锦江区"}, 5)]
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "invitations.quota")
        ).all()
        assert actions == ["invitations.quota"]


def test_a_refused_decision_keeps_the_choice_and_leads_to_the_reason(
    live_app: tuple[Any, str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    app, base, username = live_app
    with app.app_context():
        session = get_session()
        campaign = session.scalars(select(Campaign).where(Campaign.slug == SLUG)).one()
        organizer = session.scalars(select(User).where(User.username == username)).one()
        # Created by the organizer, so the fixture removes its audit events with theirs.
        rec_id = RecommendationFactory(campaign=campaign, actor_id=organizer.id).id
        session.commit()
    reason = "与现行规划冲突，已转入下一年度研究。"
    with logged_in_page(base, username) as page:
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

        page.fill("#reason", reason)
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_text("Status: Not adopted")).to_be_visible()
        expect(page.locator("#error-summary")).to_have_count(0)

    with app.app_context():
        session = get_session()
        recommendation = session.get(Recommendation, rec_id)
        assert recommendation is not None
        assert (recommendation.status, recommendation.decision_reason) == ("not_adopted", reason)
        actions = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "recommendation", AuditEvent.object_id == str(rec_id)
            )
        ).all()
        assert actions == ["recommendation.create", "recommendation.reject"]
