"""Cookies and headers a careless deployment would leave out (issue 11, point 2), checked on the
responses a browser gets."""

from __future__ import annotations

from minsheng.access_log import SECRET_URL_VARIABLES
from minsheng.accounts.permissions import declaration
from tests.factories import PASSWORD, UserFactory
from tests.page_parts import inline_code


def login_response(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    return client.post("/login", data={"username": user.username, "password": PASSWORD})


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_the_session_cookie_is_http_only_and_same_site_lax_and_not_secure_over_http(
    client, session
):
    cookie = session_cookie(login_response(client, session))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # a plain-http embedded install would lose its login


def test_the_session_cookie_is_secure_and_hsts_is_sent_when_base_url_is_https(
    make_app, bind_app, session
):
    app = bind_app(make_app(BASE_URL="https://minsheng.example.gov.cn"))
    with app.app_context():
        client = app.test_client()
        response = login_response(client, session)
        assert "Secure" in session_cookie(response)
        assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_every_response_forbids_content_sniffing(client, campaign):
    for path in ("/login", f"/s/{campaign.slug}", "/no/such/page", "/static/minsheng.css"):
        response = client.get(path)
        response.close()  # a static file is streamed from an open file
        assert response.headers["X-Content-Type-Options"] == "nosniff", path


def test_invitation_and_resume_pages_send_no_referrer(client, campaign):
    for path in ("/i/some-invitation-token", f"/s/{campaign.slug}/resume", f"/s/{campaign.slug}"):
        assert client.get(path).headers["Referrer-Policy"] == "no-referrer", path


def test_staff_pages_send_the_origin_only_to_other_sites(client, login, campaign):
    login("organizer")
    response = client.get("/campaigns/")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def policy_of(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def test_every_response_has_a_policy_without_inline_script_or_style_and_no_framing(
    client, login, campaign
):
    slug = campaign.slug
    public = ["/login", f"/s/{slug}", f"/s/{slug}/resume", "/i/some-invitation-token"]
    public += ["/no/such/page", "/static/minsheng.css", f"/api/v1/campaigns/{slug}/questionnaire"]
    staff = ["/campaigns/", f"/campaigns/{slug}/results", f"/campaigns/{slug}/messages"]
    for path in [*public, *staff]:
        if path == staff[0]:
            login("admin")
        response = client.get(path)
        response.close()
        policy = policy_of(response)
        for kind in ("script-src", "style-src"):
            sources = policy.get(kind, policy["default-src"])
            assert sources == ["'self'"], (path, kind, sources)
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_no_page_a_get_reaches_carries_inline_script_or_style(app, client, login, campaign):
    """Every page without an id in its URL, opened by an admin (who may open them all), holds
    no markup its policy would refuse: inline scripts and handlers anywhere, style attributes
    unless the policy allows them (the e-mail HTML framed by the message preview)."""
    login("admin")
    opened = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not set(rule.arguments) <= {"slug"}:
            continue
        if rule.endpoint.endswith("static") or rule.rule.startswith("/api/"):
            continue
        response = client.get(rule.build({"slug": campaign.slug}, append_unknown=False)[1])
        if response.status_code == 200 and response.mimetype == "text/html":
            styles = "'unsafe-inline'" not in policy_of(response).get("style-src", [])
            found = inline_code(response.text, styles=styles)
            assert not found, f"{rule.rule}: {found}"
            opened.append(rule.endpoint)
    assert {"campaigns.index", "analysis.campaign_results", "forms.respond"} <= set(opened)
    assert {"invitations.messages_preview", "exporters.campaign_report_list"} <= set(opened)


def test_every_public_or_token_route_and_every_url_with_a_secret_sends_no_referrer(app, client):
    """The whole URL map, so that a respondent route added later is covered too: what a GET of
    each route answers (404 for the made-up token, slug or id included) sends no referrer."""
    checked = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        secret = SECRET_URL_VARIABLES & set(rule.arguments)
        if "GET" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        if not secret and declaration(view) not in ("public", "token"):
            continue
        path = rule.build(dict.fromkeys(rule.arguments, 1), append_unknown=False)[1]
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", (path, response.status_code)
        checked.append(rule.rule)
    for route in ("/i/<token>", "/o/<ref>", "/t/<ref>.gif", "/s/<slug>/resume", "/login"):
        assert route in checked
    resumed = client.get("/s/no-such-campaign?code=ABCDE-FGHJK")
    assert resumed.headers["Referrer-Policy"] == "no-referrer"
