"""Cookies and headers a careless deployment would leave out (issue 11, point 2), checked on the
responses a browser gets."""

from __future__ import annotations

from tests.factories import PASSWORD, UserFactory


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
