"""Admin pages and commands for staff accounts: create, change role, disable, enable, reset a
password; a person's own password change; each audited once (issue 11, point 3)."""

from __future__ import annotations

from sqlalchemy import func, select

from minsheng.accounts.login import attempt_login
from minsheng.audit import AuditEvent
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "moon-gate-orchard-12"


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _log_in(node, username, password):
    """Log in on another app (a second browser): requests of one app share the test's app
    context, and with it flask-login's cached user."""
    other = node.test_client()
    reply = other.post("/login", data={"username": username, "password": password})
    return other, reply.status_code


def test_an_admin_creates_an_account_and_a_common_password_is_refused_under_its_field(
    client, login, session
):
    admin = login("admin")
    refused = client.post(
        "/admin/users/new?lang=en",
        data={
            "username": "qian",
            "role": "organizer",
            "password": "iloveyou1",
            "repeat": "iloveyou1",
        },
    )
    assert refused.status_code == 422
    assert "is one of the most common passwords" in refused.get_data(as_text=True)

    created = client.post(
        "/admin/users/new",
        data={
            "username": "qian",
            "display_name": "钱",
            "role": "organizer",
            "password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        },
    )

    assert created.status_code == 302
    [event] = _events(session, "user.create")[-1:]
    assert (event.actor_id, event.detail) == (admin.id, {"username": "qian", "role": "organizer"})


def test_the_two_passwords_must_match(client, login):
    login("admin")
    page = client.post(
        "/admin/users/new?lang=en",
        data={"username": "sun", "role": "expert", "password": NEW_PASSWORD, "repeat": "other"},
    )
    assert page.status_code == 422
    assert "the two passwords differ" in page.get_data(as_text=True)


def test_an_admin_changes_a_role_and_it_is_audited(client, login, session):
    admin = login("admin")
    user = UserFactory(role="expert")
    session.commit()

    reply = client.post(
        f"/admin/users/{user.id}/role", data={"role": "department", "department": "traffic"}
    )

    assert reply.status_code == 302
    session.refresh(user)
    assert (user.role, user.department.code) == ("department", "traffic")
    [event] = _events(session, "user.role_change")
    assert (event.actor_id, event.detail) == (admin.id, {"before": "expert", "after": "department"})


def test_disabling_ends_the_open_session_and_refuses_logins_until_enabled(
    make_app, bind_app, client, login, session
):
    app = bind_app(make_app())
    admin = login("admin")
    user = UserFactory(role="organizer")
    session.commit()
    theirs, status = _log_in(app, user.username, PASSWORD)
    assert status == 302 and theirs.get("/campaigns/").status_code == 200

    assert client.post(f"/admin/users/{user.id}/disable").status_code == 302

    assert theirs.get("/campaigns/").status_code == 302  # back to the login page
    assert _log_in(app, user.username, PASSWORD)[1] == 401
    assert "已停用" in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.id}/enable").status_code == 302
    assert _log_in(app, user.username, PASSWORD)[1] == 302
    assert [(e.action, e.actor_id) for e in _events(session, "user.disable")] == [
        ("user.disable", admin.id)
    ]
    assert len(_events(session, "user.enable")) == 1


def test_a_password_reset_replaces_the_old_one_and_lifts_the_lockout(
    make_app, bind_app, client, login, session
):
    app = bind_app(make_app())
    admin = login("admin")
    user = UserFactory(role="organizer")
    session.commit()
    for n in range(5):
        attempt_login(session, user.username, f"guess-{n}", "198.51.100.50")
    session.commit()
    assert "已锁定" in client.get("/admin/users").get_data(as_text=True)

    weak = client.post(
        f"/admin/users/{user.id}/password", data={"password": "qwerty123", "repeat": "qwerty123"}
    )
    assert weak.status_code == 422
    assert "是最常见的密码之一" in weak.get_data(as_text=True)
    reply = client.post(
        f"/admin/users/{user.id}/password", data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )

    assert reply.status_code == 302
    assert _log_in(app, user.username, PASSWORD)[1] == 401
    assert _log_in(app, user.username, NEW_PASSWORD)[1] == 302
    [event] = _events(session, "user.password_reset")
    assert (event.actor_id, event.object_id, event.detail) == (admin.id, str(user.id), {})


def test_an_admin_lifts_a_lockout_and_it_is_audited(client, login, session):
    admin = login("admin")
    user = UserFactory(role="organizer")
    session.commit()
    for n in range(5):
        attempt_login(session, user.username, f"guess-{n}", "198.51.100.51")
    session.commit()

    assert client.post(f"/admin/users/{user.id}/enable").status_code == 302

    assert attempt_login(session, user.username, PASSWORD, "198.51.100.51").user == user
    assert [e.actor_id for e in _events(session, "user.unlock")] == [admin.id]


def test_the_last_active_admin_can_neither_be_disabled_nor_demoted(client, login, session):
    admin = login("admin")

    disabled = client.post(f"/admin/users/{admin.id}/disable")
    demoted = client.post(f"/admin/users/{admin.id}/role", data={"role": "organizer"})

    assert disabled.status_code == demoted.status_code == 422
    assert f"{admin.username} 是最后一个启用中的管理员" in disabled.get_data(as_text=True)
    session.refresh(admin)
    assert (admin.active, admin.role) == (True, "admin")


def test_only_admins_reach_the_account_pages_and_see_them_in_the_menu(client, login, session):
    user = UserFactory(role="expert")
    session.commit()
    login("organizer")
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 403
    assert "工作人员账号" not in client.get("/campaigns/").get_data(as_text=True)
    client.post("/logout")

    login("admin")
    assert "工作人员账号" in client.get("/campaigns/").get_data(as_text=True)
    assert user.username in client.get("/admin/users").get_data(as_text=True)


def test_a_person_changes_their_own_password_current_one_first(
    make_app, bind_app, client, login, session
):
    app = bind_app(make_app())
    user = login("expert")

    wrong = client.post(
        "/account/password",
        data={
            "current_password": "not-it-at-all",
            "new_password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        },
    )
    common = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "password1234",
            "repeat": "password1234",
        },
    )
    done = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )

    assert wrong.status_code == common.status_code == 422
    assert "不是您当前的密码" in wrong.get_data(as_text=True)
    assert "是最常见的密码之一" in common.get_data(as_text=True)
    assert done.status_code == 302
    assert _log_in(app, user.username, NEW_PASSWORD)[1] == 302
    assert [e.actor_id for e in _events(session, "user.password_change")] == [user.id]


def test_the_commands_disable_enable_reset_and_change_roles_with_the_audit(runner, session):
    user = UserFactory(role="expert")
    session.commit()
    before = session.scalar(select(func.max(AuditEvent.id))) or 0

    results = [
        runner.invoke(args=["users", "disable", user.username]),
        runner.invoke(args=["users", "enable", user.username]),
        runner.invoke(args=["users", "set-role", user.username, "--role", "organizer"]),
        runner.invoke(args=["users", "reset-password", user.username, "--password", NEW_PASSWORD]),
    ]

    assert [r.exit_code for r in results] == [0, 0, 0, 0], [r.output for r in results]
    assert results[3].output == f"new password set for {user.username}\n"
    actions = [
        (e.action, e.actor_id)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > before, AuditEvent.object_id == str(user.id))
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == [
        ("user.disable", None),
        ("user.enable", None),
        ("user.role_change", None),
        ("user.password_reset", None),
    ]


def test_the_reset_command_refuses_a_weak_password_and_an_unknown_name(runner, session):
    user = UserFactory(role="expert")
    session.commit()

    weak = runner.invoke(args=["users", "reset-password", user.username, "--password", "abc"])
    unknown = runner.invoke(args=["users", "disable", "nobody-here"])

    assert weak.exit_code == unknown.exit_code == 2
    assert "error: password: 至少需要 10 个字符，当前只有 3 个" in weak.output
    assert "no staff account is named 'nobody-here'" in unknown.output


def test_a_password_reset_ends_the_sessions_opened_with_the_old_password(
    make_app, bind_app, client, login, session
):
    app = bind_app(make_app())
    login("admin")
    user = UserFactory(role="organizer")
    session.commit()
    theirs, _status = _log_in(app, user.username, PASSWORD)

    client.post(
        f"/admin/users/{user.id}/password", data={"password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )

    assert theirs.get("/campaigns/").status_code == 302  # back to the login page


def test_changing_ones_password_keeps_this_session_and_ends_the_others(
    make_app, bind_app, client, login, session
):
    other_browser = bind_app(make_app())
    user = login("expert")
    elsewhere, _status = _log_in(other_browser, user.username, PASSWORD)

    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )

    assert client.get("/account/password").status_code == 200
    assert elsewhere.get("/account/password").status_code == 302
