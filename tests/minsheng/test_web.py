"""The pieces every stage's pages share: 401/403 that answer JSON to API clients, 404 for an
unknown campaign, and lifecycle errors rendered like any bad input."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"


def test_anonymous_api_client_gets_a_json_401_and_a_person_gets_the_login_page(client):
    page = client.get("/campaigns/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")

    wants_json = client.get("/campaigns/", headers={"Accept": "application/json"})
    assert wants_json.status_code == 401
    assert wants_json.json == {
        "errors": [{"location": "", "message": "Log in with a staff account to use this endpoint."}]
    }
    api = client.get("/api/v1/campaigns/transport-2026/summary")
    assert api.status_code == 401
    assert api.json["errors"][0]["message"].startswith("Log in")


def test_a_role_that_may_not_see_a_page_gets_403_as_json_or_html(client, login):
    login("expert")
    html = client.get("/campaigns/transport-2026/sending")
    assert html.status_code == 403
    assert "Your role does not allow this page." in html.get_data(as_text=True)
    data = client.get("/campaigns/transport-2026/sending", headers={"Accept": "application/json"})
    assert data.status_code == 403
    assert data.json["errors"][0]["message"] == "Your role does not allow this page."


def test_an_unknown_campaign_is_a_404_naming_the_slug(client, login):
    login("organizer")
    page = client.get("/campaigns/nope/results")
    assert page.status_code == 404
    assert "No campaign &#39;nope&#39;." in page.get_data(as_text=True)
    api = client.get("/api/v1/campaigns/nope/summary")
    assert api.json == {"errors": [{"location": "", "message": "No campaign 'nope'."}]}


def test_commands_name_an_unknown_campaign_and_exit_with_status_2(runner):
    for args in (
        ["campaign", "status", "nope", "open"],
        ["reviews", "close", "nope"],
        ["report", "render", "nope"],
        ["form", "export", "nope", "-o", "x.xlsx"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert "error: SLUG: no campaign 'nope'; `minsheng campaign list` shows them" in (
            result.output
        )


def test_a_refused_status_change_is_bad_input_with_exit_status_2(runner):
    assert runner.invoke(args=["campaign", "load", str(EXAMPLE)]).exit_code == 0
    result = runner.invoke(args=["campaign", "status", "transport-2026", "draft"])
    assert result.exit_code == 2
    assert "error: status: campaign transport-2026 is " in result.output
    assert "not draft" in result.output
