"""Each role reaches its work by clicking: the header menu shows the entries its role may open,
and a campaign's staff pages show the tabs the packages added."""

from __future__ import annotations

import re
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"


def _menu(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="[^"]*" class="menu">(.*?)</nav>', page, re.S)
    return re.findall(r'href="([^"]+)"', nav[1]) if nav else []


def _tabs(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="[^"]*" class="tabs">(.*?)</nav>', page, re.S)
    return re.findall(r'href="([^"]+)"', nav[1]) if nav else []


def test_each_role_sees_the_menu_entries_of_its_work(client, login):
    login("organizer")
    assert _menu(client.get("/campaigns/").get_data(as_text=True)) == [
        "/campaigns/",
        "/contacts/lists/",
        "/recommendations/",
    ]
    client.post("/logout")
    login("expert")
    assert _menu(client.get("/reviews/").get_data(as_text=True)) == ["/campaigns/", "/reviews/"]
    client.post("/logout")
    login("department")
    assert _menu(client.get("/recommendations/").get_data(as_text=True)) == [
        "/campaigns/",
        "/recommendations/",
    ]


def test_campaign_pages_show_the_tabs_the_packages_added_for_the_role(runner, client, login):
    assert runner.invoke(args=["campaign", "load", str(EXAMPLE)]).exit_code == 0
    login("organizer")
    index = client.get("/campaigns/").get_data(as_text=True)
    assert 'href="/campaigns/transport-2026/results"' in index
    page = client.get("/campaigns/transport-2026/results").get_data(as_text=True)
    assert _tabs(page) == [
        "/campaigns/transport-2026/results",
        "/campaigns/transport-2026/invitations",
        "/campaigns/transport-2026/sending",
        "/campaigns/transport-2026/funnel",
        "/campaigns/transport-2026/reports",
        "/campaigns/transport-2026/exports",
        "/campaigns/transport-2026/reviews",
        "/campaigns/transport-2026/recommendations",
        "/campaigns/transport-2026/questionnaire",
        "/campaigns/transport-2026/settings",
        "/campaigns/transport-2026/organizers",
        "/campaigns/transport-2026/status",
    ]
    assert 'href="/campaigns/transport-2026/results" aria-current="page"' in page
    client.post("/logout")
    login("department", department_code="transport")
    page = client.get("/campaigns/transport-2026/results").get_data(as_text=True)
    assert _tabs(page) == [
        "/campaigns/transport-2026/results",
        "/campaigns/transport-2026/exports",
        "/campaigns/transport-2026/recommendations",
    ]


def test_the_respondent_pages_show_no_staff_tabs_and_thank_with_the_feedback_link(
    runner, client, login
):
    assert runner.invoke(args=["campaign", "load", str(EXAMPLE)]).exit_code == 0
    login("organizer")
    thanks = client.get("/s/transport-2026/thanks?lang=en").get_data(as_text=True)
    assert _tabs(thanks) == []
    assert 'href="/s/transport-2026/feedback"' in thanks
