"""An organizer in Chromium queues a background summary by district from the results page and
follows it there to its result; the job is listed with its state and the segments asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minsheng.db import get_session
from tests.factories import CampaignFactory, UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium
SLUG = "e2e-summary-jobs"


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, str]]:
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        CampaignFactory(slug=SLUG)
        username = UserFactory(role="organizer").username
        get_session().commit()
    with served(app) as base:
        yield base, username


def test_an_organizer_queues_a_summary_by_district_and_reads_it(
    live_app: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, username = live_app
    with logged_in_page(base, username) as page:
        page.goto(f"{base}/campaigns/{SLUG}/results?lang=en")
        jobs = page.locator("#summary-jobs")
        jobs.locator("input[value=district]").check()
        jobs.get_by_role("button", name="Queue summary").click()
        row = page.locator("tr.summary-job").first
        expect(row).to_have_attribute("data-state", "done")
        expect(row).to_contain_text("district")
        page.screenshot(path=str(tmp_path / "summary-jobs.png"), full_page=True)

        row.get_by_role("link", name="JSON").click()
        job = json.loads(page.locator("body").inner_text())
        assert job["state"] == "done" and job["segments"] == ["district"]
        assert job["summary"]["segments"] == ["district"]
