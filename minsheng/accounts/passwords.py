"""Staff passwords: the policy a new password must meet, hashing, and checking a password at the
same cost whether or not the account exists (issue 11: user names were enumerable by timing).

The list of common passwords is Django's (`data/common-passwords.txt.gz`, 20,000 passwords,
lowercased; licence beside it), checked the way Django checks it: lowercased and stripped.
"""

from __future__ import annotations

import gzip
import secrets
from functools import lru_cache
from importlib.resources import files

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from minsheng.errors import Problem

COMMON_PASSWORDS_FILE = "data/common-passwords.txt.gz"
# scrypt and pbkdf2 read the whole password; past this, a login form would be a way to make the
# server hash megabytes.
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped common passwords, lowercased, read once per process."""
    data = files("minsheng.accounts").joinpath(COMMON_PASSWORDS_FILE).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def password_problems(
    password: str, username: str = "", location: str = "password"
) -> list[Problem]:
    """Why `password` may not be a staff password (empty when it may): shorter than
    `PASSWORD_MIN_LENGTH`, longer than `MAX_PASSWORD_LENGTH`, one of the shipped common
    passwords, or the user name itself. Messages are in the page's language."""
    minimum = int(current_app.config["PASSWORD_MIN_LENGTH"])
    problems = []
    if len(password) < minimum:
        problems.append(
            Problem(
                location,
                _(
                    "must be at least %(minimum)d characters; this one has %(length)d",
                    minimum=minimum,
                    length=len(password),
                ),
            )
        )
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.append(
            Problem(
                location,
                _("must be at most %(maximum)d characters", maximum=MAX_PASSWORD_LENGTH),
            )
        )
    normalized = password.lower().strip()
    if normalized in common_passwords():
        problems.append(
            Problem(
                location,
                _("is one of the most common passwords, which are tried first; choose another"),
            )
        )
    elif username and normalized == username.lower().strip():
        problems.append(Problem(location, _("must not be the user name")))
    return problems


def hash_password(password: str) -> str:
    """The stored form of `password`, with the configured method (`PASSWORD_HASH_METHOD`)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash`. Without a stored hash (no such user) a hash of a
    random password made with the configured method is checked instead, so an unknown user name
    costs the same time as a wrong password and the answer is always False."""
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
        stored_hash = None
    if stored_hash is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(stored_hash, password)
