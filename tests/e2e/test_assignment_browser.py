"""A department user in Chromium, in Chinese, handles an assignment: finds it on the work list,
accepts it, reports progress with an evidence file, and submits the reply for approval; the
history shows each step and another department's assignment stays out of reach."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from minsheng.db import get_session
from recommendations.assignments import assign_to_departments
from recommendations.models import Assignment, Recommendation
from recommendations.proposals import decide
from tests.factories import CampaignFactory, RecommendationFactory, UserFactory

from .browser import logged_in_page, needs_chromium, served

pytestmark = needs_chromium


@pytest.fixture()
def live_app(make_app: Any, own_database_url: str) -> Iterator[tuple[Any, str, str, int, int]]:
    """The demo campaign with one recommendation for transport (lead) and one for planning,
    and a transport user, committed for real."""
    app = make_app(WTF_CSRF_ENABLED=True, DATABASE_URL=own_database_url)
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory()
        by_code = {d.code: d for d in campaign.departments}
        ids = []
        for title, code in (("延长地铁末班车", "transport"), ("新增公交线路", "planning")):
            recommendation = RecommendationFactory(campaign=campaign, title=title)
            decide(session, recommendation, "adopted")
            assign_to_departments(
                session,
                recommendation,
                by_code[code],
                tasks={by_code[code].id: "研究并答复"},
                deadline=date(2026, 12, 30),
                today=date(2026, 12, 1),
            )
            ids.append(recommendation.id)
        user = UserFactory(role="department", department=by_code["transport"])
        session.commit()
        username = user.username
        other = session.get(Recommendation, ids[1]).assignments[0].id
    with served(app) as base:
        yield app, base, username, ids[0], other


def test_a_department_accepts_reports_progress_and_replies_in_the_browser(
    live_app: tuple[Any, str, str, int, int], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    app, base, username, rec_id, foreign = live_app
    evidence = tmp_path / "时刻表.pdf"
    evidence.write_bytes(b"%PDF-1.4 evidence")
    with logged_in_page(base, username, locale="zh-CN") as page:
        page.goto(f"{base}/recommendations/?lang=zh_CN")  # the login page was in English
        expect(page.locator("h1")).to_have_text("交办事项")
        expect(page.locator("table")).not_to_contain_text("新增公交线路")
        expect(page.locator("table")).to_contain_text("主办")
        page.get_by_role("link", name="延长地铁末班车").click()
        expect(page.locator("section.card")).to_contain_text("待签收")
        expect(page.locator("section.card")).to_contain_text("签收期限 2026-12-03")
        page.get_by_role("button", name="签收").click()
        expect(page.locator("section.card")).to_contain_text("已签收")

        page.locator("textarea[name$='-note']").fill("已与运营公司会商，拟调整时刻表")
        page.locator("input[name$='-percent']").fill("60")
        page.locator("input[type=file]").set_input_files(str(evidence))
        page.get_by_role("button", name="上报进展").click()
        card = page.locator("section.card")
        expect(card).to_contain_text("办理中")
        expect(card).to_contain_text("60%")
        expect(card.get_by_role("link", name="1-时刻表.pdf")).to_be_visible()

        page.locator("textarea[name=reply]").fill("末班车延长至23:30，12月起执行。")
        page.get_by_role("button", name="提交答复").click()
        expect(card).to_contain_text("答复待审核")
        history = page.locator("table").last
        for step in ("交主办单位", "签收", "报送进展", "提交答复"):
            expect(history).to_contain_text(step)
        page.screenshot(path=str(tmp_path / "assignment.png"), full_page=True)

        refused = page.goto(
            f"{base}/campaigns/transport-2026/recommendations/assignments/{foreign}/files/a.pdf"
        )
        assert refused is not None and refused.status == 404

    with app.app_context():
        session = get_session()
        recommendation = session.get(Recommendation, rec_id)
        (mine,) = recommendation.assignments
        assert (mine.status, mine.progress, recommendation.status) == ("replied", 60, "in_progress")
        assert session.get(Assignment, foreign).status == "submitted"
