"""Skip logic, cascading choices, constraints and rankings on the respondent pages, server side
(the pages work the same without JavaScript; the script only hides and filters earlier)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from forms.models import Response

FIXTURE = Path(__file__).parents[1] / "e2e" / "fixtures" / "community.yaml"
pytestmark = pytest.mark.campaign_file(FIXTURE)
URL = "/s/e2e-community"


def post(client, page, nav="next", **answers):
    html = client.get(f"{URL}?page={page}").get_data(as_text=True)
    sid = re.search(r'id="submission_id" name="submission_id" type="hidden" value="(\w+)"', html)
    data = {"page": str(page), "nav": nav, "submission_id": sid.group(1), **answers}
    return client.post(URL, data=data)


ABOUT = {"district": "wuhou", "street": "yulin", "age": "35"}


def test_a_constraint_message_is_shown_under_its_question(client, campaign):
    reply = post(client, 0, **{**ABOUT, "age": "200"})
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert '<p class="error" id="e-age">年龄应在16到110岁之间</p>' in text
    assert 'href="#age"' in text


def test_a_choice_outside_the_cascading_filter_is_refused(client, campaign):
    reply = post(client, 0, **{**ABOUT, "street": "chunxi"})
    assert reply.status_code == 422
    assert 'href="#street"' in reply.get_data(as_text=True)


def test_a_page_whose_group_is_not_relevant_is_skipped(client, session, campaign):
    assert post(client, 0, **ABOUT).status_code == 302
    reply = post(client, 1, has_car="no")
    assert reply.headers["Location"].endswith(f"{URL}?page=3")
    text = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "第 3 页，共 3 页" in text
    back = post(client, 3, nav="back", nps="8")
    assert back.headers["Location"].endswith("?page=1")
    reply = post(client, 3, nav="submit", nps="8")
    assert reply.status_code == 302
    stored = session.scalars(select(Response)).one()
    assert stored.answers["has_car"] == "no"
    assert "monthly_cost" not in stored.answers


def test_a_relevant_page_is_shown_and_counted(client, session, campaign):
    post(client, 0, **ABOUT)
    reply = post(client, 1, has_car="yes", parking="4")
    assert reply.headers["Location"].endswith("?page=2")
    assert "第 3 页，共 4 页" in client.get(f"{URL}?page=2").get_data(as_text=True)


def test_a_question_hidden_by_this_page_is_not_required_and_its_answer_is_dropped(
    client, session, campaign
):
    post(client, 0, **ABOUT)
    assert post(client, 1, has_car="no", parking="2").status_code == 302
    post(client, 3, nav="submit", nps="3")
    assert "parking" not in session.scalars(select(Response)).one().answers


def test_a_question_shown_by_this_page_is_required(client, campaign):
    post(client, 0, **ABOUT)
    reply = post(client, 1, has_car="yes")
    assert reply.status_code == 422
    assert 'href="#parking-0"' in reply.get_data(as_text=True)


def test_rules_that_depend_on_the_same_page_are_sent_to_the_script(client, campaign):
    text = client.get(URL).get_data(as_text=True)
    assert "expressions.js" in text and "respond.js" in text
    logic = json.loads(re.search(r'id="form-logic">(.*?)</script>', text, re.S).group(1))
    assert logic["logic"]["questions"]["street"]["choice_filter"]["k"] == "bin"
    assert {c["name"] for c in logic["logic"]["choices"]["street"]} == {
        "chunxi",
        "shuyuan",
        "jiangxi",
        "yulin",
    }


def test_a_page_without_live_rules_loads_no_script(client, session, campaign):
    post(client, 0, **ABOUT)
    post(client, 1, has_car="yes", parking="4")
    text = client.get(f"{URL}?page=2").get_data(as_text=True)
    assert "respond.js" not in text


def test_a_ranking_is_stored_in_the_order_given(client, session, campaign):
    post(client, 0, **ABOUT)
    post(client, 1, has_car="no")
    page = client.get(f"{URL}?page=3").get_data(as_text=True)
    assert page.count('<select name="priorities"') == 3
    reply = post(client, 3, nav="submit", nps="10", priorities=["sidewalks", "buses", ""])
    assert reply.status_code == 302
    stored = session.scalars(select(Response)).one()
    assert stored.answers["priorities"] == ["sidewalks", "buses"]
    assert stored.answers["nps"] == 10


def test_an_nps_scale_offers_eleven_points(client, session, campaign):
    post(client, 0, **ABOUT)
    post(client, 1, has_car="no")
    page = client.get(f"{URL}?page=3").get_data(as_text=True)
    assert len(re.findall(r'name="nps" type="radio"', page)) == 11


def test_a_literal_default_fills_a_page_not_answered_yet(client, campaign):
    post(client, 0, **ABOUT)
    post(client, 1, has_car="yes", parking="4")
    assert re.search(r'id="monthly_cost"[^>]*value="0"', client.get(f"{URL}?page=2").text)
    post(client, 2, nav="back", monthly_cost="120")
    assert re.search(r'id="monthly_cost"[^>]*value="120"', client.get(f"{URL}?page=2").text)
