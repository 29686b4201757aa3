"""Organizer and department pages, the public feedback page and the JSON API."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from minsheng.audit import AuditEvent
from recommendations.assignments import assign_to_departments
from recommendations.feedback import publish_feedback
from recommendations.models import Recommendation
from recommendations.proposals import decide
from tests.recommendations.conftest import TODAY, complete

BASE = "/campaigns/transport-2026/recommendations"


def test_organizer_adds_decides_and_assigns_through_the_pages(
    client, login, session, campaign, departments, on_day
):
    organizer = login("organizer")
    base = BASE
    page = client.post(
        base,
        data={
            "title": "公交站台加装遮阳棚",
            "text": "夏季候车酷热",
            "source": "expert",
            "golden_idea_id": "0",
        },
        follow_redirects=True,
    )
    assert "公交站台加装遮阳棚" in page.text
    assert "采纳率" in page.text  # zh_CN is the default locale
    rec = session.scalar(select(Recommendation))
    client.post(f"{base}/{rec.id}/decision", data={"decision": "adopted"})
    client.post(
        f"{base}/{rec.id}/assignments",
        data={
            "lead": departments["transport"].id,
            "lead_task": "调整末班车",
            "co_handlers": [departments["planning"].id],
            "co_task": "线网意见",
        },
    )
    session.refresh(rec)
    assert rec.status == "assigned"
    assert [(a.department.code, a.role, a.task) for a in rec.assignments] == [
        ("transport", "lead", "调整末班车"),
        ("planning", "co", "线网意见"),
    ]
    # From the default policy, in working days after 1 July 2026.
    assert rec.assignments[0].deadline == date(2026, 7, 22)
    page = client.get(f"{base}/{rec.id}").text
    assert "主办" in page and "协办" in page and "2026-07-22" in page
    assert "分派" in page or "交办" in page
    # Each action is audited once, by the domain function the page calls.
    actions = list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.actor_id == organizer.id, AuditEvent.object_type == "recommendation")
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["recommendation.create", "recommendation.adopt", "recommendation.assign"]


def _two_departments_work(session, make_recommendation, departments):
    mine = make_recommendation("交通局的事项")
    other = make_recommendation("规划局的事项")
    for rec, code in ((mine, "transport"), (other, "planning")):
        decide(session, rec, "adopted")
        assign_to_departments(
            session, rec, departments[code], deadline=date(2026, 7, 20), today=TODAY
        )
    session.commit()
    return mine, other


def test_department_users_see_only_their_department(
    client, login, session, make_recommendation, departments
):
    mine, other = _two_departments_work(session, make_recommendation, departments)
    login("department", department_code="transport")
    listing = client.get("/campaigns/transport-2026/recommendations").text
    assert "交通局的事项" in listing
    assert "规划局的事项" not in listing
    assert "Adoption rate" not in listing and "采纳率" not in listing
    assert client.get(f"{BASE}/{other.id}").status_code == 404
    assert client.get(f"{BASE}/{mine.id}").status_code == 200
    work = client.get("/recommendations/").text
    assert "交通局的事项" in work and "规划局的事项" not in work
    assert (
        client.post("/campaigns/transport-2026/recommendations", data={"title": "x"}).status_code
        == 403
    )
    theirs = other.assignments[0].id
    progress = f"{BASE}/assignments/{theirs}/progress"
    assert client.post(progress, data={f"a{theirs}-note": "越权"}).status_code == 404


def test_department_accepts_and_reports_progress_with_an_evidence_file(
    client, login, session, make_recommendation, departments, on_day
):
    mine, _ = _two_departments_work(session, make_recommendation, departments)
    user = login("department", department_code="transport")
    assignment = mine.assignments[0]
    assert "签收" in client.get(f"{BASE}/{mine.id}").text
    client.post(f"{BASE}/assignments/{assignment.id}/steps/accept")
    client.post(
        f"{BASE}/assignments/{assignment.id}/progress",
        data={
            f"a{assignment.id}-note": "已完成时刻表调整",
            f"a{assignment.id}-percent": "80",
            f"a{assignment.id}-attachments": (io.BytesIO(b"%PDF-1.4 evidence"), "时刻表.pdf"),
        },
        content_type="multipart/form-data",
    )
    session.refresh(mine)
    session.refresh(assignment)
    assert (mine.status, assignment.status, assignment.progress) == (
        "in_progress",
        "in_progress",
        80,
    )
    page = client.get(f"{BASE}/{mine.id}").text
    assert "1-时刻表.pdf" in page
    url = f"{BASE}/assignments/{assignment.id}/files/1-时刻表.pdf"
    with client.get(url) as download:
        assert download.data == b"%PDF-1.4 evidence"
    downloads = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.download")
    ).all()
    assert [(e.actor_id, e.object_id, e.detail) for e in downloads] == [
        (user.id, str(assignment.id), {"file": "1-时刻表.pdf"})
    ]


def test_public_feedback_page_shows_feedback_and_takes_one_rating_per_browser(
    client, session, assigned
):
    complete(session, assigned)
    publish_feedback(session, assigned, "末班车已延后30分钟。")
    session.commit()
    page = client.get("/s/transport-2026/feedback?lang=en")
    assert page.status_code == 200
    assert "末班车已延后30分钟。" in page.text
    form = {"recommendation_id": assigned.id, "satisfaction": "5"}
    client.post("/s/transport-2026/feedback", data=form)
    again = client.post("/s/transport-2026/feedback?lang=en", data=form, follow_redirects=True)
    assert "You have already rated this." in again.text
    session.refresh(assigned)
    assert assigned.status == "evaluated"
    assert [e.satisfaction for e in assigned_evaluations(session, assigned)] == [5]


def assigned_evaluations(session, recommendation):
    from recommendations.feedback import evaluations

    return evaluations(session, recommendation)


def test_api_lists_recommendations_for_staff_only(
    client, login, session, make_recommendation, departments
):
    _two_departments_work(session, make_recommendation, departments)
    url = "/api/v1/campaigns/transport-2026/recommendations"
    assert client.get(url).status_code == 401
    login("department", department_code="planning")
    body = client.get(url).json
    assert [r["title"] for r in body["recommendations"]] == ["规划局的事项"]
    assert body["recommendations"][0]["assignments"][0]["department"] == "planning"
    assert "rates" not in body


def test_api_gives_organizers_every_recommendation_with_rates(
    client, login, session, make_recommendation, departments
):
    _two_departments_work(session, make_recommendation, departments)
    login("organizer")
    page = client.get("/campaigns/transport-2026/recommendations").text
    assert "市规划和自然资源局" in page  # the department rates are labelled by name
    body = client.get("/api/v1/campaigns/transport-2026/recommendations").json
    assert len(body["recommendations"]) == 2
    assert body["rates"]["adoption"]["count"] == 2
    assert body["rates"]["adoption"]["method"] == "wilson"
    assert {r["scope"] for r in body["department_rates"]} == {"transport", "planning"}
    assert client.get("/api/v1/campaigns/nope/recommendations").status_code == 404


def test_experts_cannot_use_the_api(client, login, campaign):
    login("expert")
    response = client.get("/api/v1/campaigns/transport-2026/recommendations")
    assert response.status_code == 403
    assert response.json["errors"][0]["message"]


def test_cli_prints_rates_and_the_list(runner, session, make_recommendation, departments):
    _two_departments_work(session, make_recommendation, departments)
    rates = runner.invoke(args=["recommendations", "rates", "transport-2026"])
    assert '"adoption"' in rates.output
    listing = runner.invoke(args=["recommendations", "list", "transport-2026"])
    assert "交通局的事项" in listing.output and "transport" in listing.output
    missing = runner.invoke(args=["recommendations", "rates", "nope"])
    assert missing.exit_code == 2
    assert "no campaign 'nope'" in missing.output


def test_old_recommendation_urls_redirect_permanently_under_the_campaign(
    client, login, session, make_recommendation, departments
):
    mine, _ = _two_departments_work(session, make_recommendation, departments)
    assignment = mine.assignments[0]
    login("department", department_code="transport")
    old = client.get(f"/recommendations/{mine.id}?lang=en")
    assert old.status_code == 308
    assert old.headers["Location"] == f"{BASE}/{mine.id}?lang=en"
    assert client.get(old.headers["Location"]).status_code == 200
    posted = client.post(f"/recommendations/assignments/{assignment.id}/progress", data={})
    assert posted.status_code == 308
    assert posted.headers["Location"] == f"{BASE}/assignments/{assignment.id}/progress"
    files = client.get(f"/recommendations/assignments/{assignment.id}/files/a.pdf?x=1")
    assert files.headers["Location"] == f"{BASE}/assignments/{assignment.id}/files/a.pdf?x=1"
    work = client.get("/recommendations/").text
    assert f'href="{BASE}/{mine.id}#assignment-{assignment.id}"' in work


def test_old_urls_reveal_nothing_to_those_who_may_not_see_the_recommendation(
    client, login, session, make_recommendation, departments
):
    _, other = _two_departments_work(session, make_recommendation, departments)
    assert client.get(f"/recommendations/{other.id}").status_code == 302  # to the login page
    login("department", department_code="transport")
    assert client.get(f"/recommendations/{other.id}").status_code == 404
    progress = f"/recommendations/assignments/{other.assignments[0].id}/progress"
    assert client.post(progress, data={}).status_code == 404
    assert client.get("/recommendations/999999/decision").status_code == 404


def test_an_id_of_another_campaign_is_not_found_under_this_slug(client, login, session, assigned):
    from tests.factories import CampaignFactory

    CampaignFactory(slug="parks-2026")
    session.commit()
    login("organizer")
    wrong = "/campaigns/parks-2026/recommendations"
    assert client.get(f"{BASE}/{assigned.id}").status_code == 200
    assert client.get(f"{wrong}/{assigned.id}").status_code == 404
    assert client.post(f"{wrong}/{assigned.id}/feedback", data={"text": "x"}).status_code == 404
    assignment = assigned.assignments[0]
    assert client.post(f"{wrong}/assignments/{assignment.id}/progress").status_code == 404
    assert client.get(f"{wrong}/assignments/{assignment.id}/files/a.pdf").status_code == 404
    session.refresh(assigned)
    assert assigned.public_feedback == ""
