"""The staff password policy and a password check that costs the same for unknown names."""

from __future__ import annotations

import pytest
from werkzeug import security

from minsheng.accounts import passwords
from minsheng.accounts.login import attempt_login
from minsheng.accounts.passwords import common_passwords, password_problems
from minsheng.accounts.users import create_user
from minsheng.errors import InputError
from tests.factories import PASSWORD, UserFactory


def test_the_shipped_list_holds_the_well_known_common_passwords(app):
    listed = common_passwords()
    assert len(listed) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou", "password123"} <= listed


@pytest.mark.parametrize("password", ["password123", "Password123", " QWERTYUIOP ", "1qaz2wsx3edc"])
def test_a_common_password_is_refused_at_any_length_and_case(app, session, password):
    with pytest.raises(InputError) as caught:
        create_user(session, "zhou", password, "organizer")
    assert [(p.location, p.message) for p in caught.value.problems] == [
        ("password", "是最常见的密码之一，会被最先尝试；请换一个")
    ]


def test_the_policy_speaks_the_page_language(app):
    with app.test_request_context("/?lang=en"):
        assert [p.message for p in password_problems("xq7", "zhou")] == [
            "must be at least 10 characters; this one has 3",
        ]
        assert [p.message for p in password_problems("sun-wukong-1", "Sun-Wukong-1")] == [
            "must not be the user name",
        ]
        assert [p.message for p in password_problems("x" * 300)] == [
            "must be at most 256 characters",
        ]
        assert password_problems("bamboo-river-lantern") == []


def test_the_minimum_length_is_a_setting(make_app):
    with make_app(PASSWORD_MIN_LENGTH=16).test_request_context("/?lang=en"):
        assert [p.message for p in password_problems("bamboo-river-7")] == [
            "must be at least 16 characters; this one has 14"
        ]


def test_the_command_refuses_a_common_password_with_the_reason(runner):
    result = runner.invoke(
        args=["users", "create", "wu", "--role", "expert", "--password", "iloveyou123"]
    )
    assert result.exit_code == 2
    assert "error: password: 是最常见的密码之一" in result.output


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every stored hash the login checks a password against, in order."""
    checked: list[str] = []
    real = security.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(passwords, "check_password_hash", spy)
    return checked


def test_an_unknown_name_costs_one_password_hash_like_a_known_one(app, session, monkeypatch):
    user = UserFactory(role="organizer")
    session.commit()
    checked = _count_hashes(monkeypatch)

    attempt_login(session, user.username, "wrong-password-1", "198.51.100.40")
    attempt_login(session, "nobody-at-all", "wrong-password-1", "198.51.100.41")
    attempt_login(session, user.username, PASSWORD, "198.51.100.42")

    known, unknown, right = checked
    # Same method and parameters (`pbkdf2:sha256:1$salt$hash` here), so the same work.
    assert unknown.split("$")[0] == known.split("$")[0] == user.password_hash.split("$")[0]
    assert unknown != known
    assert right == user.password_hash


def test_a_locked_name_is_refused_without_checking_its_password(app, session, monkeypatch):
    user = UserFactory(role="organizer")
    session.commit()
    for n in range(5):
        attempt_login(session, user.username, f"guess-{n}", "198.51.100.43")
    checked = _count_hashes(monkeypatch)

    result = attempt_login(session, user.username, PASSWORD, "198.51.100.43")

    # Checking it would tell the attacker whether the guess was right (by timing, at least).
    assert result.locked
    assert checked == []
