"""The organizer's results page, through the HTTP client."""

from __future__ import annotations

import random
from collections import Counter

from reviews.experts import assign_expert
from tests.page_parts import inline_code

from .conftest import add_responses, random_answers


def test_results_page_shows_count_and_frequencies_in_chinese(client, login, answered):
    campaign, answers = answered
    login("organizer")
    page = client.get(f"/campaigns/{campaign.slug}/results")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "交通出行专项征集" in text
    assert f'<strong class="n-responses">{len(answers)}</strong>' in text
    assert "有效问卷" in text and "您居住在哪个区？" in text and "锦江区" in text
    assert "满意率" in text and "95％置信区间" in text
    jinjiang = Counter(a["district"] for a in answers)["jinjiang"]
    assert f"{100 * jinjiang / len(answers):.1f}" in text
    # The bars are SVG rectangles: their length is an attribute, not a style the policy refuses.
    assert f'<rect width="{100 * jinjiang / len(answers):.1f}" height="1"/>' in text
    assert inline_code(text) == []


def test_results_page_in_english_on_request(client, login, session, answered):
    campaign, _ = answered
    assign_expert(session, campaign, login("expert"))
    session.commit()
    text = client.get(f"/campaigns/{campaign.slug}/results?lang=en").get_data(as_text=True)
    assert "Which district do you live in?" in text and "Responses" in text


def test_results_page_without_responses_says_so(client, login, campaign):
    login("organizer")
    text = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)
    assert "尚未收到问卷" in text


def test_results_page_needs_a_staff_login(client, campaign):
    page = client.get(f"/campaigns/{campaign.slug}/results")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]


def test_results_page_of_unknown_campaign_is_not_found(client, login):
    login("organizer")
    assert client.get("/campaigns/no-such-campaign/results").status_code == 404


def test_campaign_list_links_to_results(client, login, campaign):
    login("department", department_code=campaign.departments[0].code)
    text = client.get("/campaigns/").get_data(as_text=True)
    assert f'href="/campaigns/{campaign.slug}/results"' in text


def test_results_page_shows_themes_and_repeated_suggestions(client, login, answered):
    campaign, answers = answered
    login("organizer")
    text = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)
    assert "代表性建议" in text and "重复最多的建议" in text
    top = Counter(a["suggestion"] for a in answers if "suggestion" in a).most_common(1)[0]
    assert f"<q>{top[0]}</q> × {top[1]}" in text


def test_results_page_counts_responses_left_out_by_quality_checks(client, login, answered):
    campaign, _ = answered
    login("organizer")
    text = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)
    assert "质量核查剔除" in text and "答题过快 0" in text and "重复提交 0" in text


def test_results_page_leads_organizers_to_the_rest_of_the_campaign(client, login, campaign):
    login("organizer")
    text = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)
    for href, label in [
        (f"/campaigns/{campaign.slug}/funnel", "邀请漏斗"),
        (f"/campaigns/{campaign.slug}/reports", "专题报告"),
        (f"/campaigns/{campaign.slug}/reviews", "专家评审"),
        (f"/campaigns/{campaign.slug}/recommendations", "建议事项"),
    ]:
        assert f'href="{href}"' in text and label in text


def test_results_are_refused_to_staff_outside_the_campaign(client, login, session, answered):
    campaign, _ = answered
    results = f"/campaigns/{campaign.slug}/results"
    summary = f"/api/v1/campaigns/{campaign.slug}/summary"
    login("expert")
    assert client.get(results).status_code == 403
    assert client.get(summary).status_code == 403
    assert "errors" in client.get(summary).get_json()
    client.post("/logout")
    login("department", department_code="not-linked")
    assert client.get(results).status_code == 403
    assert client.get(summary).status_code == 403
    assert campaign.slug not in client.get("/campaigns/").get_data(as_text=True)


def test_an_owned_campaign_is_run_by_its_owner_and_co_organizers_only(
    client, login, session, answered
):
    campaign, _ = answered
    results = f"/campaigns/{campaign.slug}/results"
    owner = login("organizer")
    campaign.owner = owner
    session.commit()
    assert client.get(results).status_code == 200
    client.post("/logout")
    other = login("organizer")
    assert client.get(results).status_code == 403
    campaign.co_organizers.append(other)
    session.commit()
    assert client.get(results).status_code == 200
    client.post("/logout")
    login("admin")
    assert client.get(results).status_code == 200


def test_results_page_counts_bots_and_resubmissions_from_one_address(
    client, login, session, campaign
):

    first = {**random_answers(random.Random(1)), "suggestion": "建议增加公交班次"}
    again = {**first, "suggestion": "建议 增加 公交班次！"}
    add_responses(session, campaign, [first, again], address_hash="b" * 32)
    add_responses(session, campaign, [random_answers(random.Random(2))], honeypot=True)
    session.commit()
    login("organizer")

    text = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)

    assert "同一地址近似重复提交 1" in text
    assert "疑似机器人（触发隐藏字段） 1" in text
    assert '<strong class="n-responses">1</strong>' in text
