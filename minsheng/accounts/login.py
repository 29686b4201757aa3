"""A login attempt: throttling and temporary lockout per user name and per client address, the
password checked at the same cost whether the name exists or not, and the audit of each outcome.

Issue 11: 50 wrong passwords then the right one used to log in, and unknown names answered
faster than wrong passwords. Counts live in `login_throttles`, so every web node sees them.
An attempt is counted *before* its password is checked, in the caller's transaction: on
PostgreSQL the counter row stays locked until the commit, so parallel guesses at one account
wait for each other instead of all passing the check before any failure is written.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from minsheng.accounts.models import LoginThrottle, User
from minsheng.accounts.passwords import password_matches
from minsheng.accounts.totp import matching_step
from minsheng.audit import record
from minsheng.db import utcnow


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: the user logged in, or none; `retry_after` seconds to wait
    when the name or the address is locked out (0 otherwise); `pending`, the user whose password
    was right but who must still give a code of the second step."""

    user: User | None
    retry_after: int = 0
    pending: User | None = None

    @property
    def locked(self) -> bool:
        return self.retry_after > 0


@dataclass(frozen=True)
class _Limit:
    key: str
    max_failures: int


def throttle_key(kind: str, value: str) -> str:
    """The `login_throttles.key` of a user name (`kind="account"`) or an address network."""
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8", "surrogatepass")).hexdigest()


def address_network(address: str) -> str:
    """The network one client is counted under: an IPv4 address itself, an IPv6 address's /64
    (one subscriber usually holds a whole /64, so counting single addresses would be no limit)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _limits(username: str, address: str) -> list[_Limit]:
    config = current_app.config
    return [
        _Limit(throttle_key("account", username), int(config["LOGIN_MAX_FAILURES"])),
        _Limit(
            throttle_key("address", address_network(address)),
            int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
        ),
    ]


def _count_attempt(session: Session, key: str, now: datetime) -> None:
    """Add one attempt under `key`, starting a new window when the last one is over or a lockout
    has ended; attempts while locked are not counted."""
    window = timedelta(seconds=int(current_app.config["LOGIN_WINDOW_SECONDS"]))
    at = literal(now, LoginThrottle.window_started_at.type)
    # The WHERE below leaves out running lockouts, so a lockout seen here is over.
    expired = or_(
        LoginThrottle.window_started_at < literal(now - window, at.type),
        LoginThrottle.locked_until.is_not(None),
    )
    stmt = (
        update(LoginThrottle)
        .where(
            LoginThrottle.key == key,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= at),
        )
        .values(
            failures=case((expired, 1), else_=LoginThrottle.failures + 1),
            window_started_at=case((expired, at), else_=LoginThrottle.window_started_at),
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount:  # type: ignore[attr-defined]
        return
    if session.scalar(select(LoginThrottle.key).where(LoginThrottle.key == key)) is not None:
        return  # locked
    try:
        with session.begin_nested():
            session.add(LoginThrottle(key=key, failures=1, window_started_at=now))
    except IntegrityError:
        # Another node inserted the row between our UPDATE and INSERT: count on it instead.
        session.execute(stmt)


def _wait(session: Session, limit: _Limit, now: datetime) -> int:
    """Seconds `limit.key` stays locked, locking it now when it has reached its failures."""
    failures, locked_until = session.execute(
        select(LoginThrottle.failures, LoginThrottle.locked_until).where(
            LoginThrottle.key == limit.key
        )
    ).one()
    if (locked_until is None or locked_until <= now) and failures > limit.max_failures:
        locked_until = _lock(session, limit.key, now)
    if locked_until is None or locked_until <= now:
        return 0
    return max(1, math.ceil((locked_until - now).total_seconds()))


def _lock(session: Session, key: str, now: datetime) -> datetime:
    until = now + timedelta(seconds=int(current_app.config["LOGIN_LOCKOUT_SECONDS"]))
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return until


def attempt_login(
    session: Session, username: str, password: str, address: str, now: datetime | None = None
) -> LoginResult:
    """Log in `username` from `address` if the password is right and neither is locked out.

    Every attempt counts against the name and the address; `LOGIN_MAX_FAILURES` failures for a
    name (known or not, so a lockout tells nothing of which names exist) or
    `LOGIN_MAX_FAILURES_PER_ADDRESS` from one address within `LOGIN_WINDOW_SECONDS` lock it for
    `LOGIN_LOCKOUT_SECONDS`, during which even the right password is refused without being
    checked. A success clears the name's failures and takes back its attempt from the address.
    An account with a second step (`totp.py`) is not logged in yet: the result's `pending` user
    must pass `attempt_code`, and its name keeps this attempt until then. The caller commits,
    failures included.
    """
    now = now or utcnow()
    limits = _limits(username, address)
    wait = _begin(session, limits, now)
    if wait:
        return LoginResult(None, wait)
    user = session.scalar(select(User).where(User.username == username))
    matches = password_matches(user.password_hash if user else None, password)
    if user is not None and matches and user.active:
        if user.totp_secret is not None:
            _give_back(session, limits[1])
            return LoginResult(None, pending=user)
        return _succeed(session, user, limits, now, address)
    reason = "unknown user" if user is None else ("disabled" if matches else "wrong password")
    return _fail(session, user, limits, now, address, reason)


def attempt_code(
    session: Session, user: User, code: str, address: str, now: datetime | None = None
) -> LoginResult:
    """The second step of `user`'s login (its password was right): log in if `code` is a code of
    its authenticator app not used before. Wrong codes count against the name and the address
    exactly like wrong passwords, so the six digits cannot be guessed one after the other."""
    now = now or utcnow()
    limits = _limits(user.username, address)
    wait = _begin(session, limits, now)
    if wait:
        return LoginResult(None, wait)
    step = None
    if user.totp_secret is not None:
        step = matching_step(user.totp_secret, code, user.totp_last_step, now)
    if step is not None and user.active:
        user.totp_last_step = step
        return _succeed(session, user, limits, now, address, second_step="totp")
    return _fail(session, user, limits, now, address, "wrong code")


def _begin(session: Session, limits: list[_Limit], now: datetime) -> int:
    """Count the attempt under every limit; seconds to wait when one of them is locked."""
    for limit in limits:
        _count_attempt(session, limit.key, now)
    return max(_wait(session, limit, now) for limit in limits)


def _succeed(
    session: Session,
    user: User,
    limits: list[_Limit],
    now: datetime,
    address: str,
    **detail: str,
) -> LoginResult:
    _clear(session, limits, now)
    record(session, user.id, "login", "user", user.id, address=address, **detail)
    return LoginResult(user)


def _fail(
    session: Session,
    user: User | None,
    limits: list[_Limit],
    now: datetime,
    address: str,
    reason: str,
) -> LoginResult:
    object_id = user.id if user else ""
    record(session, None, "login.failed", "user", object_id, address=address, reason=reason)
    wait = max(_wait_after_failure(session, limit, now) for limit in limits)
    if wait:
        record(session, None, "login.locked", "user", object_id, address=address, seconds=wait)
    return LoginResult(None, wait)


def _wait_after_failure(session: Session, limit: _Limit, now: datetime) -> int:
    """Lock `limit.key` when this failure was its last allowed one; seconds of the lock."""
    failures = session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == limit.key))
    if failures is None or failures < limit.max_failures:
        return 0
    until = _lock(session, limit.key, now)
    return math.ceil((until - now).total_seconds())


def _give_back(session: Session, limit: _Limit) -> None:
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == limit.key, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
        .execution_options(synchronize_session=False)
    )


def _clear(session: Session, limits: list[_Limit], now: datetime) -> None:
    account, address = limits
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == account.key))
    _give_back(session, address)


def forget_stale_counts(session: Session, now: datetime | None = None) -> int:
    """Delete the counts whose window and lockout are both over (they would count as a fresh
    start anyway): names typed once and never again would otherwise pile up. A periodic job
    (`accounts.forget_stale_login_counts`) runs it, not the login, which stays two statements
    per key. Returns the rows deleted."""
    now = now or utcnow()
    config = current_app.config
    window = timedelta(seconds=int(config["LOGIN_WINDOW_SECONDS"]))
    lockout = timedelta(seconds=int(config["LOGIN_LOCKOUT_SECONDS"]))
    at = LoginThrottle.window_started_at.type
    result = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at < literal(now - max(window, lockout), at),
            or_(
                LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < literal(now, at)
            ),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def unlock(session: Session, username: str) -> None:
    """Forget the failures of `username` (an admin vouches for the person)."""
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.key == throttle_key("account", username))
    )


def locked_until(session: Session, username: str, now: datetime | None = None) -> datetime | None:
    """When the lockout of `username` ends, or None when it is not locked."""
    until = session.scalar(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key == throttle_key("account", username)
        )
    )
    return until if until is not None and until > (now or utcnow()) else None
