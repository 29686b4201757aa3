"""Who sees what, in Chromium (issue 11): an expert assigned to another campaign finds only that
one in their list and gets a 403 page saying why on this one's results; a department finds only
the campaign linked to it, opens its results by clicking, and is refused the other's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minsheng.accounts.users import get_or_create_department
from minsheng.db import get_session
from reviews.experts import assign_expert
from tests.factories import CampaignFactory, ResponseFactory, UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium
LINKED = "transport-2026"
OTHER = "e2e-other-campaign"


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Two campaigns of one organizer, committed for real: the transport department is linked
    to the first only, the expert assigned to the second only; another organizer owns none."""
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        session = get_session()
        owner = UserFactory(role="organizer")
        linked, other = CampaignFactory(), CampaignFactory(slug=OTHER)
        other.departments = []
        for campaign in (linked, other):
            campaign.owner = owner
            for _ in range(3):
                ResponseFactory(campaign=campaign)
        expert = UserFactory(role="expert")
        assign_expert(session, other, expert, owner.id)
        department = UserFactory(
            role="department", department=get_or_create_department(session, "transport", "")
        )
        stranger = UserFactory(role="organizer")
        session.commit()
        names = {
            "expert": expert.username,
            "department": department.username,
            "organizer": stranger.username,
        }
    with served(app) as base:
        yield base, names


def _campaign_links(page: Any) -> list[str]:
    hrefs = page.locator("main table a").evaluate_all("links => links.map(a => a.pathname)")
    return [h for h in hrefs if h.startswith("/campaigns/")]


def test_an_expert_not_assigned_gets_a_403_page_saying_why(
    live_app: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, names = live_app
    with logged_in_page(base, names["expert"]) as page:
        page.goto(f"{base}/campaigns/?lang=en")
        links = _campaign_links(page)
        assert links and all(link.startswith(f"/campaigns/{OTHER}/") for link in links)

        answer = page.goto(f"{base}/campaigns/{LINKED}/results")
        assert answer is not None and answer.status == 403
        expect(page.locator("h1")).to_have_text("403 Forbidden")
        expect(page.locator("main")).to_contain_text(
            "This campaign is not one of yours: only its organizers, the experts assigned to it"
        )
        expect(page.locator("main")).to_contain_text("Ask the campaign's organizer for access.")
        # The refusal shows nothing of the campaign: no tabs, no figures.
        expect(page.locator("main table")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "expert-403.png"), full_page=True)

        answer = page.goto(f"{base}/campaigns/{OTHER}/reviews/queue")
        assert answer is not None and answer.status == 200


def test_a_department_sees_its_linked_campaign_only(
    live_app: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, names = live_app
    with logged_in_page(base, names["department"]) as page:
        page.goto(f"{base}/campaigns/?lang=en")
        links = _campaign_links(page)
        assert links and all(link.startswith(f"/campaigns/{LINKED}/") for link in links)

        page.locator("main table a").first.click()
        expect(page).to_have_url(f"{base}/campaigns/{LINKED}/results")
        expect(page.locator("main")).to_contain_text("Responses: 3")
        # A department reads the suppressed view: cells below the threshold are not shown.
        expect(page.locator("main")).to_contain_text("are suppressed (shown as —)")
        page.screenshot(path=str(tmp_path / "department-results.png"), full_page=True)

        answer = page.goto(f"{base}/campaigns/{OTHER}/results")
        assert answer is not None and answer.status == 403
        expect(page.locator("main")).to_contain_text("This campaign is not one of yours")


def test_an_organizer_not_owner_finds_no_campaign_and_is_refused_its_pages(
    live_app: tuple[str, dict[str, str]],
) -> None:
    from playwright.sync_api import expect

    base, names = live_app
    with logged_in_page(base, names["organizer"]) as page:
        page.goto(f"{base}/campaigns/?lang=en")
        assert _campaign_links(page) == []
        for path in ("status", "results", "reports"):
            answer = page.goto(f"{base}/campaigns/{LINKED}/{path}")
            assert answer is not None and answer.status == 403, path
            expect(page.locator("main")).to_contain_text("This campaign is not one of yours")
