"""Personal data a resident types into a suggestion never leaves the raw record: responses posted
through the API with phone numbers, an e-mail address, a WeChat id and a plate are read back
through every outlet (results page, summary API, PDF reports for staff and departments, the
expert queue, recommendations, golden ideas, public feedback) and none shows them."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select

from exporters.models import Report
from recommendations.feedback import publish_feedback
from recommendations.models import Recommendation
from recommendations.proposals import decide
from reviews.assignment import assign_reviews
from reviews.experts import assign_expert, close_review_round, start_review_round
from reviews.golden_ideas import choose_golden_ideas, nominate
from reviews.models import GoldenIdea
from reviews.suggestions import campaign_suggestions

SLUG = "transport-2026"
#: As residents typed them; none of these may appear in any outlet.
RAW = [
    "13812345678",
    "139-8765-4321",
    "abc@x.com",
    "li.si@x.com",
    "zhangsan_88",
    "川A12345",
    "028-87654321",
]
SUGGESTIONS = [
    "公交站太远，希望增设站点，联系我13812345678",
    "公交站太远，希望增设站点，电话139-8765-4321",
    "公交站太远，希望增设站点，联系我abc@x.com谢谢",
    "公交站太远，希望增设站点，微信: zhangsan_88",
    "公交站太远，希望增设站点，邮箱li.si@x.com",
    "小区门口川A12345长期占道停车，希望管一管，座机028-87654321",
    "小区门口经常占道停车，希望管一管",
]
#: The masks that replace them: at least one must be seen where the suggestion is shown, so the
#: test would notice an outlet that drops the text instead of masking it.
HINTS = ["138****5678", "139-****-4321", "a***@x.com", "zh*******88", "川A***45", "028-****4321"]


def _compact(text: str) -> str:
    """Text without white space: a PDF line break can fall inside a number."""
    return re.sub(r"\s+", "", text)


def assert_masked(text: str, *, hint: bool = True) -> None:
    text = _compact(text)
    for raw in RAW:
        assert _compact(raw) not in text
    if hint:
        assert any(_compact(h) in text for h in HINTS), "no masked suggestion shown at all"


@pytest.fixture()
def suggestions(client, session, campaign, add_responses):
    add_responses(30)
    answers = {
        "district": "wuhou",
        "age_group": "a30_44",
        "commute_mode": "bus",
        "commute_time": "m30_60",
        "problems": ["parking"],
        "sat_bus": "3",
        "sat_metro": "4",
        "sat_parking": "2",
    }
    ids = []
    for i, text in enumerate(SUGGESTIONS):
        reply = client.post(
            f"/api/v1/campaigns/{SLUG}/responses",
            json={"answers": {**answers, "suggestion": text}, "submission_id": f"pii-{i:08d}"},
        )
        assert reply.status_code == 201, reply.text
        ids.append(reply.json["id"])
    return ids


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_results_page_and_summary_api_show_suggestions_masked(client, login, suggestions):
    login("organizer")
    page = client.get(f"/campaigns/{SLUG}/results")
    assert page.status_code == 200
    assert_masked(page.text)
    summary = client.get(f"/api/v1/campaigns/{SLUG}/summary")
    assert summary.status_code == 200
    assert_masked(summary.text)


def test_keywords_hold_no_piece_of_personal_data(client, login, suggestions):
    login("organizer")
    summary = client.get(f"/api/v1/campaigns/{SLUG}/summary").json
    (question,) = [q for q in summary["questions"] if q["name"] == "suggestion"]
    terms = {k["term"] for k in question["text"]["keywords"]}
    assert "公交站" in terms
    # Two answers hold an address at x.com: unmasked, `com` would be a keyword.
    for fragment in ("abc", "com", "si", "zhangsan", "88", "138", "5678", "a12345", "川a12345"):
        assert fragment not in terms


def test_department_summary_is_masked_too(client, login, session, campaign, suggestions):
    login("department", department_code=campaign.departments[0].code)
    summary = client.get(f"/api/v1/campaigns/{SLUG}/summary")
    assert summary.status_code == 200
    assert_masked(summary.text)


@pytest.mark.parametrize("audience", ["staff", "department"])
def test_pdf_reports_show_suggestions_masked(client, login, session, suggestions, audience):
    login("organizer")
    reply = client.post(f"/campaigns/{SLUG}/reports", data={"audience": audience})
    assert reply.status_code == 302
    report = session.scalars(select(Report)).one()
    session.refresh(report)
    assert report.status == "done", report.error
    with client.get(f"/campaigns/{SLUG}/reports/{report.id}/download") as download:
        assert download.status_code == 200
        text = pdf_text(download.get_data())
    # Five answers share the theme, as many as the department edition's suppression threshold.
    assert "公交站太远" in text
    assert_masked(text)


def test_expert_queue_shows_suggestions_masked(client, login, session, campaign, suggestions):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    start_review_round(session, campaign)
    assign_reviews(session, campaign)
    session.commit()
    page = client.get(f"/campaigns/{SLUG}/reviews/queue")
    assert page.status_code == 200
    assert_masked(page.text)
    items = campaign_suggestions(session, campaign)
    assert items
    for item in items:
        form = client.get(f"/campaigns/{SLUG}/reviews/items/{item.id}")
        assert form.status_code == 200
        assert_masked(form.text, hint=False)


def test_recommendations_golden_ideas_and_feedback_store_copied_data_masked(
    client, login, session, campaign, suggestions
):
    organizer = login("organizer")
    reply = client.post(
        f"/campaigns/{SLUG}/recommendations",
        data={
            "title": "增设公交站点（市民13812345678）",
            "text": SUGGESTIONS[0] + "；另见" + SUGGESTIONS[2],
            "source": "suggestion_cluster",
            "golden_idea_id": "0",
        },
        follow_redirects=True,
    )
    assert reply.status_code == 200
    assert_masked(reply.text)
    recommendation = session.scalar(select(Recommendation))
    assert_masked(recommendation.title + recommendation.text)
    assert_masked(client.get(f"/campaigns/{SLUG}/recommendations/{recommendation.id}").text)

    nomination = nominate(session, campaign, suggestions[3], "suggestion", organizer.id)
    close_review_round(session, campaign)
    choose_golden_ideas(session, campaign, {nomination.id: SUGGESTIONS[3]}, organizer.id)
    session.commit()
    assert_masked(session.scalars(select(GoldenIdea)).one().citation)

    decide(session, recommendation, "not_adopted", reason="另行处理")
    publish_feedback(session, recommendation, "已回复市民13812345678，邮箱abc@x.com")
    session.commit()
    assert_masked(recommendation.public_feedback or "")
