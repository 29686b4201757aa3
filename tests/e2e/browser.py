"""What the browser tests share: Debian's Chromium with the flags this machine needs, and the app
served on 127.0.0.1 from a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (`make test` installs it)",
)


@contextmanager
def serving_campaign(make_app: Any, database_url: str, campaign_file: Path) -> Iterator[Any]:
    """An app on a database of the test's own with this campaign file loaded, served (see
    `serving`); yields ``(app, base URL)``. Unlike the other tests these commit for real."""
    from forms.publishing import load_campaign_file
    from minsheng.db import get_session

    app = make_app(DATABASE_URL=database_url)
    with app.app_context():
        load_campaign_file(get_session(), str(campaign_file))
        get_session().commit()
    with served(app) as base:
        yield app, base


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` on 127.0.0.1 and a random port, in a thread; yields its base URL. The server
    thread has its own connections, so what the test stores is committed for real."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def log_in(page: Any, base: str, username: str, password: str) -> None:
    """Log `page` in through the login form, in English."""
    page.goto(f"{base}/login?lang=en")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Log in").click()


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`serving(app)`, then the app's pooled connections closed: each browser test's database
    is its own (`own_database_url`) and is deleted with its folder."""
    from minsheng.db import get_database

    try:
        with serving(app) as base:
            yield base
    finally:
        get_database(app).engine.dispose()


@contextmanager
def logged_in_page(base: str, username: str, locale: str = "en") -> Iterator[Any]:
    """A Chromium page with `locale`, logged in as `username` (the factories' password)."""
    from playwright.sync_api import sync_playwright

    from tests.factories import PASSWORD

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale=locale)
        page.set_default_timeout(15_000)
        log_in(page, base, username, PASSWORD)
        yield page
        browser.close()
