"""An admin in Chromium, with the second login step required, is sent to enrol, scans (reads) the
key under the QR code, turns the step on with a code, and logs in again with password and code;
five wrong passwords then lock a name out with a message saying how long to wait."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from minsheng.accounts.models import User
from minsheng.db import get_database, get_session
from tests.factories import PASSWORD, UserFactory

from .browser import ARGS, CHROMIUM, needs_chromium, serving

pytestmark = needs_chromium
GUESSED = "nobody-in-e2e"


@pytest.fixture()
def live_admin(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str, str]]:
    """An app requiring the second step of admins (CSRF on) and an admin, committed for real in
    a database of this test's own."""
    app = make_app(
        WTF_CSRF_ENABLED=True, TOTP_REQUIRED_FOR_ADMINS=True, DATABASE_URL=own_database_url
    )
    with app.app_context():
        admin = UserFactory(role="admin")
        get_session().commit()
        username = admin.username
    try:
        with serving(app) as base:
            yield app, base, username
    finally:
        get_database(app).engine.dispose()


@contextmanager
def _english_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="en")
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_enrols_an_authenticator_app_and_logs_in_with_a_code(
    live_admin: tuple[Any, str, str],
) -> None:
    app, base, username = live_admin
    with _english_page() as page:
        _log_in(page, base, username, PASSWORD)
        page.goto(f"{base}/campaigns/")
        assert page.url == f"{base}/account/two-factor"
        qr = page.get_by_role("img", name="QR code for your authenticator app")
        assert qr.get_attribute("src").startswith("data:image/png;base64,")
        secret = page.locator("code").inner_text().replace(" ", "")
        page.fill("#code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on the second login step").click()
        assert "The second login step is on" in page.locator(".flash").inner_text()
        page.get_by_role("button", name="Log out").click()

        with app.app_context():
            # The enrolment used this time step's code; a later step's code logs in.
            admin = get_session().scalar(select(User).where(User.username == username))
            admin.totp_last_step -= 2
            get_session().commit()
        _log_in(page, base, username, PASSWORD)
        assert page.url == f"{base}/login/code"
        page.fill("#code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Log in").click()
        assert page.url == f"{base}/campaigns/"


def test_five_wrong_passwords_lock_a_name_out_and_say_for_how_long(
    live_admin: tuple[Any, str, str],
) -> None:
    _app, base, _username = live_admin
    with _english_page() as page:
        for n in range(4):
            _log_in(page, base, GUESSED, f"guess-{n}")
            assert page.locator(".flash").inner_text() == "Wrong username or password."

        _log_in(page, base, GUESSED, "guess-4")

        message = page.locator(".flash").inner_text()
        assert re.fullmatch(
            r"Too many failed logins for this user name or from this address\. "
            r"Try again in 15 minutes\.",
            message,
        )
