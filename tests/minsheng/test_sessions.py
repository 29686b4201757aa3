"""A session ends on the server at logout, and a form's CSRF token expires (issue 11, point 2):
a copied cookie is dead once its owner logs out, and a token older than CSRF_TIME_LIMIT gets the
translated "form expired" page."""

from __future__ import annotations

import re
import time

from itsdangerous import TimestampSigner

from tests.factories import PASSWORD, UserFactory


def test_a_copied_session_cookie_is_dead_after_its_owner_logs_out(app, client, login, session):
    user = login("organizer")
    session_id = user.get_id()  # what the cookie (and a remember-me cookie) carries
    assert app.login_manager._user_callback(session_id) is not None
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/campaigns/").status_code == 200

    assert client.post("/logout").status_code == 302
    # On the server: the identity every cookie issued before the logout carries loads no one.
    session.expire_all()
    assert app.login_manager._user_callback(session_id) is None
    after = thief.get("/campaigns/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    # The owner's own cookie is logged out too, and the copy stays dead.
    assert client.get("/campaigns/").status_code == 302
    assert thief.get("/campaigns/").status_code == 302


def test_a_csrf_token_older_than_the_limit_gets_the_form_expired_page(
    make_app, bind_app, session, monkeypatch
):
    app = bind_app(make_app(WTF_CSRF_ENABLED=True, CSRF_TIME_LIMIT=600))
    user = UserFactory(role="organizer")
    session.commit()

    def post_login(client, seconds_later: int | None):
        page = client.get("/login?lang=en").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        if seconds_later is not None:
            issued = int(time.time())
            monkeypatch.setattr(
                TimestampSigner, "get_timestamp", lambda self: issued + seconds_later
            )
        data = {"username": user.username, "password": PASSWORD, "csrf_token": token}
        return client.post("/login?lang=en", data=data)

    # No outer app context: Flask-WTF keeps a request's token in `g`, which one shared context
    # would hand from the first client to the second.
    assert post_login(app.test_client(), None).status_code == 302
    stale = post_login(app.test_client(), 601)
    assert stale.status_code == 400
    assert "The form expired" in stale.text
