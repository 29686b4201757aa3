"""The optional second login step (TOTP) for staff, required for admins when turned on."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from minsheng.accounts.totp import matching_step, new_secret
from minsheng.audit import AuditEvent
from minsheng.db import utcnow
from tests.factories import PASSWORD, UserFactory


def _enrol(client) -> str:
    """Enrol through the page as a person would: read the key under the QR code, answer a code."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in page
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page)[1].replace(" ", "")
    reply = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return secret


def _password(client, user, address="198.51.100.60"):
    return client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )


def _code(client, code, address="198.51.100.60"):
    return client.post("/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": address})


@pytest.fixture()
def enrolled(client, login, session):
    """An expert who enrolled an authenticator app a minute ago, logged out, and the app's
    secret (the enrolment used the code of its time step, which cannot log in again)."""
    user = login("expert")
    secret = _enrol(client)
    client.post("/logout")
    session.refresh(user)
    user.totp_last_step -= 2
    session.commit()
    return user, secret


def test_enrolment_shows_a_qr_code_and_turns_on_with_a_code_from_the_app(client, login, session):
    user = login("expert")

    secret = _enrol(client)

    session.refresh(user)
    assert user.totp_secret == secret
    assert [
        e.actor_id
        for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "user.totp_enable"))
    ] == [user.id]
    assert "已开启" in client.get("/account/two-factor").get_data(as_text=True)


def test_enrolment_refuses_a_wrong_code_and_keeps_the_offered_key(client, login, session):
    user = login("expert")
    first = client.get("/account/two-factor").get_data(as_text=True)

    refused = client.post("/account/two-factor?lang=en", data={"code": "000000"})

    assert refused.status_code == 422
    assert "is not the code your app shows now" in refused.get_data(as_text=True)
    key = re.search(r"<code>([A-Z2-7 ]+)</code>", first)[1]
    assert key in refused.get_data(as_text=True)
    session.refresh(user)
    assert user.totp_secret is None


def test_the_right_password_alone_no_longer_logs_in(client, enrolled, session):
    user, secret = enrolled

    first = _password(client, user)

    assert first.headers["Location"] == "/login/code"
    assert client.get("/campaigns/").status_code == 302
    second = _code(client, pyotp.TOTP(secret).now())
    assert second.status_code == 302
    assert client.get("/campaigns/").status_code == 200
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).all()[-1]
    assert (event.actor_id, event.detail["second_step"]) == (user.id, "totp")


def test_a_used_code_cannot_be_used_again(client, enrolled):
    user, secret = enrolled
    _password(client, user)
    code = pyotp.TOTP(secret).now()
    assert _code(client, code).status_code == 302
    client.post("/logout")

    _password(client, user)
    replay = _code(client, code)

    assert replay.status_code == 401
    assert "验证码错误或已使用过" in replay.get_data(as_text=True)


def test_guessing_codes_locks_the_account_out_like_guessing_passwords(client, enrolled):
    user, secret = enrolled
    _password(client, user)
    guesses = [_code(client, f"{n:06d}").status_code for n in range(10)]

    right = _code(client, pyotp.TOTP(secret).now())

    assert 429 in guesses
    assert right.status_code == 429
    assert right.headers["Retry-After"]
    assert client.get("/campaigns/").status_code == 302


def test_the_code_page_is_closed_without_the_password_step_and_after_five_minutes(client, enrolled):
    user, secret = enrolled
    assert client.get("/login/code").headers["Location"] == "/login"

    _password(client, user)
    with client.session_transaction() as cookie:
        cookie["pending_login"] = {
            **cookie["pending_login"],
            "at": cookie["pending_login"]["at"] - 301,
        }

    late = _code(client, pyotp.TOTP(secret).now())

    assert late.headers["Location"] == "/login"
    assert client.get("/campaigns/").status_code == 302


def test_codes_of_the_neighbouring_steps_are_accepted_and_older_ones_refused():
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    now = utcnow()
    step = int(now.timestamp()) // 30

    assert matching_step(secret, totp.at(now - timedelta(seconds=30)), None, now) == step - 1
    assert matching_step(secret, totp.at(now + timedelta(seconds=30)), None, now) == step + 1
    assert matching_step(secret, totp.at(now - timedelta(seconds=90)), None, now) is None
    assert matching_step(secret, " ".join(totp.at(now)), None, now) == step
    assert matching_step(secret, totp.at(now), step, now) is None
    assert matching_step(secret, "12345a", None, now) is None


def test_a_person_turns_the_second_step_off_with_their_password(client, enrolled, session):
    user, _secret = enrolled
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    _code(client, pyotp.TOTP(_secret).now())

    wrong = client.post("/account/two-factor/off", data={"off-password": "not-my-password"})
    done = client.post("/account/two-factor/off", data={"off-password": PASSWORD})

    assert wrong.status_code == 422
    assert "不是您当前的密码" in wrong.get_data(as_text=True)
    assert done.status_code == 302
    session.refresh(user)
    assert user.totp_secret is None


def test_an_admin_or_an_operator_removes_the_app_of_a_lost_phone(
    client, enrolled, login, runner, session
):
    user, _secret = enrolled
    admin = login("admin")

    assert client.post(f"/admin/users/{user.id}/two-factor/remove").status_code == 302
    session.refresh(user)
    assert user.totp_secret is None
    other = UserFactory(role="organizer")
    other.totp_secret = new_secret()
    session.commit()
    result = runner.invoke(args=["users", "remove-two-factor", other.username])

    assert result.exit_code == 0, result.output
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.totp_disable"))
    assert [(e.actor_id, e.object_id) for e in events] == [
        (admin.id, str(user.id)),
        (None, str(other.id)),
    ]


@pytest.fixture()
def strict_client(make_app, bind_app):
    """A client of an app where admins must have the second step."""
    return bind_app(make_app(TOTP_REQUIRED_FOR_ADMINS=True)).test_client()


def test_when_required_an_admin_reaches_nothing_before_enrolling(strict_client, session):
    admin = UserFactory(role="admin")
    session.commit()
    assert (
        strict_client.post(
            "/login", data={"username": admin.username, "password": PASSWORD}
        ).status_code
        == 302
    )

    page = strict_client.get("/campaigns/")
    api = strict_client.get("/api/v1/campaigns", headers={"Accept": "application/json"})

    assert page.headers["Location"] == "/account/two-factor"
    assert api.status_code == 403
    _enrol(strict_client)
    assert strict_client.get("/campaigns/").status_code == 200
    refused = strict_client.post("/account/two-factor/off", data={"off-password": PASSWORD})
    assert refused.status_code == 422
    assert "管理员必须保留第二步登录验证" in refused.get_data(as_text=True)


def test_when_required_other_roles_may_still_log_in_with_a_password(strict_client, session):
    organizer = UserFactory(role="organizer")
    session.commit()
    strict_client.post("/login", data={"username": organizer.username, "password": PASSWORD})

    assert strict_client.get("/campaigns/").status_code == 200
