"""Login throttling and lockout per user name and per client address (issue 11, point 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from minsheng.accounts.login import (
    address_network,
    attempt_login,
    forget_stale_counts,
    throttle_key,
)
from minsheng.accounts.models import LoginThrottle
from minsheng.audit import AuditEvent
from minsheng.db import utcnow
from tests.factories import PASSWORD, UserFactory


def _post(client, username, password, address="198.51.100.7", **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _fail(session, username, times, now):
    for n in range(times):
        attempt_login(session, username, f"guess-{n}", "198.51.100.7", now=now)


def _logged_in(client) -> bool:
    return client.get("/campaigns/").status_code == 200


def test_fifty_wrong_passwords_then_the_right_one_does_not_log_in(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    answers = [_post(client, user.username, f"guess-{n:04d}").status_code for n in range(50)]
    assert answers[:4] == [401] * 4
    assert set(answers[5:]) == {429}

    right = _post(client, user.username, PASSWORD)

    assert right.status_code == 429
    assert right.headers["Retry-After"] == "900"
    assert "登录失败次数过多，请 15 分钟后再试" in right.get_data(as_text=True)
    assert not _logged_in(client)


def test_the_fifth_failure_already_says_how_long_to_wait_in_english(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    for n in range(4):
        _post(client, user.username, f"guess-{n}")
    client.get("/login?lang=en")

    fifth = _post(client, user.username, "guess-5")

    assert fifth.status_code == 429
    assert (
        "Too many failed logins for this user name or from this address. "
        "Try again in 15 minutes." in fifth.get_data(as_text=True)
    )


def test_the_right_password_works_again_once_the_lockout_is_over(app, session):
    user = UserFactory(role="organizer")
    session.commit()
    start = utcnow()
    _fail(session, user.username, 5, start)

    during = attempt_login(
        session, user.username, PASSWORD, "198.51.100.7", now=start + timedelta(seconds=899)
    )
    after = attempt_login(
        session, user.username, PASSWORD, "198.51.100.7", now=start + timedelta(seconds=901)
    )

    assert (during.user, during.retry_after) == (None, 1)
    assert after.user == user


def test_after_a_lockout_the_count_starts_again(app, session):
    user = UserFactory(role="organizer")
    session.commit()
    start = utcnow()
    _fail(session, user.username, 5, start)
    later = start + timedelta(seconds=901)

    first_after = attempt_login(session, user.username, "guess-again", "198.51.100.7", now=later)

    assert (first_after.user, first_after.locked) == (None, False)
    assert attempt_login(session, user.username, PASSWORD, "198.51.100.7", now=later).user == user


def test_a_success_clears_the_failures_of_the_name(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    for _round in range(3):
        for n in range(4):
            assert _post(client, user.username, f"guess-{n}").status_code == 401
        assert _post(client, user.username, PASSWORD).status_code == 302
        client.post("/logout")


def test_failures_older_than_the_window_are_forgotten(app, session):
    user = UserFactory(role="organizer")
    session.commit()
    start = utcnow()
    _fail(session, user.username, 4, start)
    later = start + timedelta(seconds=901)

    fifth = attempt_login(session, user.username, "guess-4", "198.51.100.7", now=later)

    assert not fifth.locked


def test_an_unknown_name_is_locked_out_exactly_like_a_known_one(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    known = [_post(client, user.username, f"g{n}", "198.51.100.7") for n in range(6)]
    unknown = [_post(client, "nobody-here", f"g{n}", "198.51.100.8") for n in range(6)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert [r.headers.get("Retry-After") for r in known] == [
        r.headers.get("Retry-After") for r in unknown
    ]


def test_a_lockout_of_one_name_leaves_other_names_alone(client, session):
    victim, colleague = UserFactory(role="organizer"), UserFactory(role="expert")
    session.commit()
    for n in range(6):
        _post(client, victim.username, f"guess-{n}", "198.51.100.9")

    assert _post(client, colleague.username, PASSWORD, "198.51.100.9").status_code == 302


def test_one_address_trying_many_names_is_locked_out(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    for n in range(20):
        _post(client, f"name-{n}", "guess", "203.0.113.5")

    refused = _post(client, user.username, PASSWORD, "203.0.113.5")
    elsewhere = _post(client, user.username, PASSWORD, "203.0.113.6")

    assert refused.status_code == 429
    assert elsewhere.status_code == 302


def test_addresses_of_one_ipv6_network_count_together(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    for n in range(20):
        _post(client, f"name-{n}", "guess", f"2001:db8:1:2::{n + 1:x}")

    assert _post(client, user.username, PASSWORD, "2001:db8:1:2:ffff::1").status_code == 429
    assert _post(client, user.username, PASSWORD, "2001:db8:1:3::1").status_code == 302


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("", ""),
    ],
)
def test_the_network_a_client_is_counted_under(address, network):
    assert address_network(address) == network


def test_forwarded_addresses_count_only_behind_a_declared_proxy(make_app, bind_app, session):
    user = UserFactory(role="organizer")
    session.commit()
    direct = bind_app(make_app()).test_client()
    proxied = bind_app(make_app(PROXY_COUNT=1)).test_client()

    for n in range(20):
        # A client cannot escape the address count by inventing X-Forwarded-For...
        _post(direct, f"name-{n}", "guess", "203.0.113.7", **{"X-Forwarded-For": f"10.0.0.{n}"})
    assert _post(direct, user.username, PASSWORD, "203.0.113.7").status_code == 429

    for n in range(20):
        # ...but behind a load balancer each client is counted under its own address.
        _post(proxied, f"name-{n}", "guess", "192.0.2.1", **{"X-Forwarded-For": "198.51.100.20"})
    other_client = _post(
        proxied, user.username, PASSWORD, "192.0.2.1", **{"X-Forwarded-For": "198.51.100.21"}
    )
    assert other_client.status_code == 302


def test_failures_counted_on_one_web_node_lock_out_on_another(make_app, bind_app, session):
    user = UserFactory(role="organizer")
    session.commit()
    node_a = bind_app(make_app()).test_client()
    node_b = bind_app(make_app()).test_client()
    for n in range(5):
        _post(node_a, user.username, f"guess-{n}")

    assert _post(node_b, user.username, PASSWORD, "192.0.2.99").status_code == 429


def test_failed_logins_and_lockouts_are_audited_without_the_password(client, session):
    user = UserFactory(role="organizer")
    session.commit()
    before = session.scalar(select(func.max(AuditEvent.id))) or 0
    _post(client, "nobody-here", "secret-typo", "198.51.100.30")
    for n in range(5):
        _post(client, user.username, f"guess-{n}", "198.51.100.31")

    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.id > before, AuditEvent.action.in_(("login.failed", "login.locked"))
        )
    ).all()
    rows = [(e.action, e.object_id, e.detail.get("reason"), e.detail["address"]) for e in events]
    assert rows == [
        ("login.failed", "", "unknown user", "198.51.100.30"),
        *[("login.failed", str(user.id), "wrong password", "198.51.100.31")] * 5,
        ("login.locked", str(user.id), None, "198.51.100.31"),
    ]
    assert not any("secret-typo" in str(e.detail) or "nobody-here" in str(e.detail) for e in events)


def test_a_disabled_account_is_refused_even_with_the_right_password(client, session):
    user = UserFactory(role="organizer")
    user.active = False
    session.commit()

    page = _post(client, user.username, PASSWORD)

    assert page.status_code == 401
    assert "用户名或密码错误" in page.get_data(as_text=True)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).one()
    assert event.detail["reason"] == "disabled"


def test_counts_that_are_over_are_forgotten_and_running_lockouts_kept(app, session, runner):
    user = UserFactory(role="organizer")
    session.commit()
    start = utcnow() - timedelta(hours=2)
    attempt_login(session, "typed-once", "guess", "198.51.100.70", now=start)
    _fail(session, user.username, 5, utcnow())
    session.commit()

    deleted = forget_stale_counts(session)

    # The old name's and the old address's counts go; the running lockout stays.
    remaining = set(session.scalars(select(LoginThrottle.key)))
    assert deleted >= 2
    assert throttle_key("account", "typed-once") not in remaining
    assert throttle_key("address", "198.51.100.70") not in remaining
    assert throttle_key("account", user.username) in remaining
    assert attempt_login(session, user.username, PASSWORD, "198.51.100.71").locked
    schedule = runner.invoke(args=["jobs", "schedule"]).output
    assert "accounts.forget_stale_login_counts" in schedule
