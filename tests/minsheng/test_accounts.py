"""Staff login, roles and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from minsheng.accounts.users import create_user
from minsheng.audit import AuditEvent
from minsheng.errors import InputError


def test_staff_pages_redirect_anonymous_visitors_to_login(client):
    response = client.get("/campaigns/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_organizer_logs_in_and_sees_campaigns_and_login_is_audited(client, login, session):
    user = login("organizer")
    page = client.get("/campaigns/")
    assert page.status_code == 200
    assert "专项征集" in page.get_data(as_text=True)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert [e.actor_id for e in events] == [user.id]


def test_wrong_password_is_refused_without_saying_which_part(client, login, session):
    create_user(session, "wang", "correct-horse", "organizer")
    session.commit()
    page = client.post("/login", data={"username": "wang", "password": "nope-nope"})
    assert page.status_code == 401
    assert "用户名或密码错误" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "/\\/evil.example",
    ],
)
def test_login_does_not_redirect_off_site(client, session, target):
    create_user(session, "li", "correct-horse", "organizer")
    session.commit()
    page = client.post(
        f"/login?next={target}", data={"username": "li", "password": "correct-horse"}
    )
    assert page.headers["Location"] == "/campaigns/"


def test_login_goes_on_to_a_page_of_this_site(client, session):
    create_user(session, "li", "correct-horse", "organizer")
    session.commit()
    page = client.post(
        "/login?next=/campaigns/%3Fx%3D1", data={"username": "li", "password": "correct-horse"}
    )
    assert page.headers["Location"] == "/campaigns/?x=1"


def test_unknown_role_and_short_password_are_both_reported(session):
    with pytest.raises(InputError) as caught:
        create_user(session, "zhao", "short", "mayor")
    messages = {p.location: p.message for p in caught.value.problems}
    assert messages["role"].startswith("unknown role 'mayor'; expected one of admin")
    assert messages["password"] == "至少需要 10 个字符，当前只有 5 个"


def test_users_create_command(runner, session):
    result = runner.invoke(
        args=["users", "create", "chen", "--role", "expert", "--password", "long-password"]
    )
    assert result.exit_code == 0, result.output
    assert "created expert chen" in result.output


def test_english_is_available(client):
    assert "Staff login" in client.get("/login?lang=en").get_data(as_text=True)
    assert "工作人员登录" in client.get("/login?lang=zh_CN").get_data(as_text=True)
