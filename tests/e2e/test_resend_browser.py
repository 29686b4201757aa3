"""An organizer in Chromium sees that a dead worker left two people's invitation uncertain and
sends it to them again from the sending page; nobody else gets a second copy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from invitations.models import Delivery
from minsheng.db import get_session
from tests.factories import UserFactory

from ..invitations.local_servers import SmtpSink, smtp_server
from ..invitations.sending_helpers import invited_campaign
from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str, str, str, SmtpSink]]:
    with smtp_server() as (sink, port):
        app = make_app(
            WTF_CSRF_ENABLED=True,
            DATABASE_URL=own_database_url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port,
        )
        with app.app_context():
            session = get_session()
            camp, _ids = invited_campaign(session, 3)
            username = str(UserFactory(role="organizer").username)
            session.commit()
            slug = camp.slug
        with served(app) as base:
            yield app, base, username, slug, sink


def test_an_organizer_sends_again_where_the_outcome_is_uncertain(
    live_app: tuple[Any, str, str, str, SmtpSink], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    app, base, username, slug, sink = live_app
    with logged_in_page(base, username) as page:
        page.goto(f"{base}/campaigns/{slug}/sending?lang=en")
        page.get_by_label("What to send").select_option("invitation")
        page.get_by_role("button", name="Send now").click()
        expect(page.locator("table.send-runs tbody tr").first).to_contain_text("Invitation message")
        assert len(sink.messages) == 3
        # A worker killed between the hand-over and the outcome, for two of the three.
        with app.app_context():
            session = get_session()
            first_two = sorted(session.scalars(select(Delivery.id)))[:2]
            session.execute(
                update(Delivery).where(Delivery.id.in_(first_two)).values(state="uncertain")
            )
            session.commit()
        page.goto(f"{base}/campaigns/{slug}/sending?lang=en")
        notice = page.locator(".uncertain")
        expect(notice).to_contain_text("2 people may not have received their message")
        page.screenshot(path=str(tmp_path / "uncertain.png"), full_page=True)
        page.get_by_label("What to send").select_option("uncertain")
        page.get_by_role("button", name="Send now").click()
        expect(page.locator("table.send-runs tbody tr").first).to_contain_text(
            "Sent again where uncertain"
        )
        expect(page.locator(".uncertain")).to_have_count(0)
    assert sorted(Counter(m["To"] for m in sink.messages).values()) == [1, 2, 2]
