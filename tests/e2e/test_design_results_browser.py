"""An organizer in Chromium reads a campaign's design-based results: standard errors, design
effects and the method note, and switches to the unweighted figures and back."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minsheng.db import get_session
from tests.analysis.conftest import add_responses, random_answers
from tests.factories import CampaignFactory, UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium
SLUG = "e2e-design-results"
POPULATION = {"jinjiang": 300000, "qingyang": 200000, "wuhou": 400000, "pidu": 100000}


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, str]]:
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory(slug=SLUG)
        rng = random.Random(4)
        add_responses(session, campaign, [random_answers(rng) for _ in range(60)])
        campaign.settings = {
            **(campaign.settings or {}),
            "design": {"strata": "district", "population": POPULATION},
        }
        username = UserFactory(role="organizer").username
        session.commit()
    with served(app) as base:
        yield base, username


def test_an_organizer_reads_design_based_results_and_switches_to_unweighted(
    live_app: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, username = live_app
    with logged_in_page(base, username) as page:
        page.goto(f"{base}/campaigns/{SLUG}/results?lang=en")
        expect(page.locator(".methods-note")).to_contain_text(
            "Design-based estimates: Taylor linearisation; strata: district (4)"
        )
        expect(page.locator(".methods-note")).to_contain_text("t with 56 degrees of freedom")
        district = page.locator("#q-district")
        expect(district.locator("th.design-effect")).to_have_text("Design effect")
        expect(district.locator("tr", has_text="Wuhou").locator("td").nth(2)).to_have_text("40.0")
        page.screenshot(path=str(tmp_path / "design-results.png"), full_page=True)
        page.get_by_role("link", name="Unweighted").click()
        expect(page.locator(".methods-note")).to_contain_text("Wilson confidence intervals")
        expect(page.locator("th.design-effect")).to_have_count(0)
        page.get_by_role("link", name="Design-based (weighted)").click()
        expect(page.locator(".methods-note")).to_contain_text("Taylor linearisation")
