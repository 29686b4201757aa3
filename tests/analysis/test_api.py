"""`GET /api/v1/campaigns/<slug>/summary`, through the HTTP client."""

from __future__ import annotations

from collections import Counter

from analysis.summary import summarize
from reviews.experts import assign_expert


def test_summary_api_returns_the_summary_as_json(client, login, session, answered):
    campaign, answers = answered
    login("organizer")
    response = client.get(f"/api/v1/campaigns/{campaign.slug}/summary")
    assert response.status_code == 200
    data = response.get_json()
    assert data == summarize(session, campaign).to_dict()
    assert data["n_responses"] == len(answers)
    district = next(q for q in data["questions"] if q["name"] == "district")
    counts = Counter(a["district"] for a in answers)
    assert {r["name"]: r["count"] for r in district["rows"]}["wuhou"] == counts["wuhou"]


def test_summary_api_crosstabs_by_requested_segments(client, login, session, answered):
    campaign, _ = answered
    assign_expert(session, campaign, login("expert"))
    session.commit()
    data = client.get(
        f"/api/v1/campaigns/{campaign.slug}/summary?segments=district,channel"
    ).get_json()
    assert data["segments"] == ["district", "channel"]
    pairs = {(t["row_variable"], t["column_variable"]) for t in data["crosstabs"]["tables"]}
    assert ("sat_bus", "district") in pairs and ("sat_bus", "channel") in pairs


def test_summary_api_refuses_bad_options_with_422_naming_them(client, login, answered):
    campaign, _ = answered
    login("organizer")
    response = client.get(f"/api/v1/campaigns/{campaign.slug}/summary?method=exact&segments=x")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert any(e["location"] == "method" and "wilson" in e["message"] for e in errors)
    bad_alpha = client.get(f"/api/v1/campaigns/{campaign.slug}/summary?alpha=high")
    assert bad_alpha.status_code == 422


def test_summary_api_needs_staff_login(client, campaign):
    response = client.get(f"/api/v1/campaigns/{campaign.slug}/summary")
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["message"]


def test_summary_api_of_unknown_campaign_is_404_json(client, login):
    login("organizer")
    response = client.get("/api/v1/campaigns/nothing-here/summary")
    assert response.status_code == 404
    assert "errors" in response.get_json()
