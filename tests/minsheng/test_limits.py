"""Numbers from outside that no row can have: ids and page numbers that are not numbers, or larger
than the database's integers, are a 404 or the last page, never a 500 (issue 11)."""

from __future__ import annotations

import pytest

HUGE = "9" * 30


@pytest.mark.parametrize("value", ["abc", "1 OR 1=1", HUGE, "-1", "", "\u0661"])
def test_a_non_numeric_or_huge_id_in_the_feedback_form_is_404_not_500(client, campaign, value):
    reply = client.post(
        "/s/transport-2026/feedback", data={"recommendation_id": value, "satisfaction": "4"}
    )
    assert reply.status_code in (200, 404), reply.status_code
    if value:
        assert reply.status_code == 404


@pytest.mark.parametrize("page", [HUGE, "9" * 5000, "-5", "x"])
def test_a_huge_or_malformed_page_number_shows_a_page(client, campaign, login, page):
    from contacts.lists import get_or_create_list
    from minsheng.db import get_session

    login("organizer")
    session = get_session()
    contact_list = get_or_create_list(session, "hostile-pages")
    session.commit()
    reply = client.get(f"/contacts/lists/{contact_list.id}?page={page}")
    assert reply.status_code == 200


def test_an_id_in_a_url_larger_than_the_database_holds_is_404(client, login):
    login("organizer")
    assert client.get(f"/contacts/lists/{HUGE}").status_code == 404
    assert client.get(f"/contacts/imports/{2**31}").status_code == 404
