"""The expert's flow in Chromium (issue 15): the queue shows "0 / n scored" with a deadline, the
scoring page shows each criterion's anchors on a horizontal 1-5 scale, digits score and Enter
saves and moves to the next item; other experts' scores appear only after one's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minsheng.db import get_session
from reviews.experts import assign_expert
from reviews.models import Review
from reviews.scoring import submit_review
from tests.factories import CampaignFactory, UserFactory
from tests.reviews.builders import MANY, start_round, submit_suggestions

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium
SLUG = "transport-2026"


@pytest.fixture()
def live_review(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """Four suggestions, two experts each reviewing all four; the peer has scored the first."""
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory()
        submit_suggestions(session, campaign, MANY[:4])
        expert, peer = UserFactory(role="expert"), UserFactory(role="expert")
        for user in (expert, peer):
            assign_expert(session, campaign, user)
        start_round(session, campaign, k=2)
        items = sorted(s.id for s in _items(session, campaign))
        submit_review(
            session,
            campaign,
            peer,
            items[0],
            {"authenticity": 2, "cause": 2, "feasibility": 2},
            "成本太高",
        )
        session.commit()
        names = {"expert": expert.username, "expert_id": expert.id, "items": items}
    with served(app) as base:
        yield app, base, names


def _items(session: Any, campaign: Any) -> list[Any]:
    from reviews.suggestions import campaign_suggestions

    return campaign_suggestions(session, campaign)


def test_an_expert_scores_by_keyboard_and_moves_to_the_next_item(
    live_review: tuple[Any, str, dict[str, Any]], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    app, base, names = live_review
    first, second = names["items"][:2]
    with logged_in_page(base, names["expert"], locale="zh-CN") as page:
        page.goto(f"{base}/campaigns/{SLUG}/reviews/queue?lang=zh_CN")
        expect(page.locator(".review-progress")).to_contain_text("已评 0 / 4")
        expect(page.locator(".review-progress")).to_contain_text("截止")
        page.locator(f'a[href$="/reviews/items/{first}"]').click()
        expect(page.locator("h1")).to_contain_text(f"第 {first} 号建议")
        expect(page.locator("main")).to_contain_text("无事实依据，问题不存在")
        # Independent first: the peer's comment is not shown before one's own score.
        expect(page.locator("#peers")).not_to_contain_text("成本太高")
        # The five levels of a criterion sit side by side.
        boxes = [
            page.locator("fieldset.scale").first.locator("label.level").nth(i).bounding_box()
            for i in range(5)
        ]
        assert all(b is not None for b in boxes)
        assert len({round(b["y"]) for b in boxes if b}) == 1
        page.screenshot(path=str(tmp_path / "score.png"), full_page=True)
        page.locator("h1").click()
        for key in ("4", "3", "5"):
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/reviews/items/{second}**")
        page.goto(f"{base}/campaigns/{SLUG}/reviews/items/{first}?lang=zh_CN")
        expect(page.locator("#peers")).to_contain_text("成本太高")
        page.goto(f"{base}/campaigns/{SLUG}/reviews/queue?lang=zh_CN")
        expect(page.locator(".review-progress")).to_contain_text("已评 1 / 4")
    with app.app_context():
        from sqlalchemy import select

        stored = get_session().scalar(select(Review).where(Review.expert_id == names["expert_id"]))
        assert stored is not None
        assert stored.scores == {"authenticity": 4, "cause": 3, "feasibility": 5}
