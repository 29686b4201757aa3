"""The Exports tab in Chromium: an organizer reaches it by clicking, picks SPSS, the job writes
the file, and the download opens in pyreadstat with the campaign's labels; a linked department is
offered the open-data package alone, downloads it and finds no free text in it."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyreadstat
import pytest

from forms.ingest import Submission, submit_response
from forms.publishing import current_version
from minsheng.accounts.users import get_or_create_department
from minsheng.db import get_database, get_session
from tests.exporters.conftest import DAY_IN_CAMPAIGN, random_answers
from tests.factories import PASSWORD, CampaignFactory, UserFactory

from .browser import ARGS, CHROMIUM, log_in, needs_chromium, serving

pytestmark = needs_chromium
SLUG = "transport-2026"
RESPONSES = 40


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The transport campaign with its organizer and responses, and a user of the transport
    department (linked to it by the campaign file), committed for real."""
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        session = get_session()
        organizer = UserFactory(role="organizer")
        campaign = CampaignFactory()
        campaign.owner = organizer
        version = current_version(session, campaign)
        rng = random.Random(3)
        for i in range(RESPONSES):
            submit_response(
                session,
                campaign,
                version,
                random_answers(rng),
                Submission(submission_id=f"e2e-export-{i:03d}"),
                today=DAY_IN_CAMPAIGN,
            )
        department = UserFactory(
            role="department", department=get_or_create_department(session, "transport", "")
        )
        session.commit()
        names = {"organizer": organizer.username, "department": department.username}
    try:
        with serving(app) as base:
            yield base, names
    finally:
        get_database(app).engine.dispose()


def _open_exports_tab(page: Any, base: str) -> None:
    """From the campaign list to the campaign, then its Exports tab, by clicking."""
    page.goto(f"{base}/campaigns/?lang=en")
    page.locator(f"main table a[href^='/campaigns/{SLUG}/']").first.click()
    page.get_by_role("link", name="Exports", exact=True).click()
    assert page.url.split("?")[0] == f"{base}/campaigns/{SLUG}/exports"


def _download(page: Any, target: Path) -> Path:
    """Click the newest export's Download link once its job is done; save the file."""
    from playwright.sync_api import expect

    row = page.locator("main table tbody tr").first
    expect(row.locator(".export-status")).to_contain_text("Done")
    with page.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    download = info.value
    path = target / download.suggested_filename
    download.save_as(path)
    return path


def test_an_organizer_exports_spss_and_opens_the_download(
    live_app: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, names = live_app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en", accept_downloads=True)
        page.set_default_timeout(20_000)
        log_in(page, base, names["organizer"], PASSWORD)
        _open_exports_tab(page, base)
        offered = page.locator("select[name=format] option").evaluate_all(
            "options => options.map(o => o.value)"
        )
        assert {"csv", "xlsx", "sav", "dta", "parquet", "datapackage"} <= set(offered)
        page.select_option("select[name=format]", "sav")
        page.get_by_role("button", name="Export").click()
        page.screenshot(path=str(tmp_path / "exports-organizer.png"), full_page=True)
        saved = _download(page, tmp_path)
        browser.close()
    assert saved.suffix == ".sav" and saved.name.startswith(f"{SLUG}-export-")
    frame, meta = pyreadstat.read_sav(str(saved))
    assert len(frame) == RESPONSES
    assert meta.variable_value_labels["district"]  # codes with their labels
    assert "suggestion" in frame.columns and not frame["suggestion"].str.contains("@").any()


def test_a_linked_department_gets_only_the_open_data_package(
    live_app: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, names = live_app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en", accept_downloads=True)
        page.set_default_timeout(20_000)
        log_in(page, base, names["department"], PASSWORD)
        _open_exports_tab(page, base)
        offered = page.locator("select[name=format] option").evaluate_all(
            "options => options.map(o => o.value)"
        )
        assert offered == ["datapackage"]
        page.get_by_role("button", name="Export").click()
        saved = _download(page, tmp_path)
        page.screenshot(path=str(tmp_path / "exports-department.png"), full_page=True)
        browser.close()
    with zipfile.ZipFile(saved) as archive:
        package = json.loads(archive.read("datapackage.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("responses.csv").decode("utf-8"))))
    assert len(rows) == RESPONSES == package["resources"][0]["x-rows"]
    assert "suggestion" not in rows[0] and "response_id" not in rows[0]
