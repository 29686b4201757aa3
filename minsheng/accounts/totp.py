"""The optional second login step for staff: time-based one-time codes (TOTP, RFC 6238) from an
authenticator app, enrolled by scanning a QR code; required for admins when
`TOTP_REQUIRED_FOR_ADMINS` is on.

A code is accepted once: the time step it belongs to is kept, so a code seen over a shoulder or
in a proxy log cannot be replayed, even within its 30 seconds.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from minsheng.accounts.models import User
from minsheng.accounts.passwords import password_matches
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

ISSUER = "minsheng"
STEP_SECONDS = 30
# One step either side: phones whose clock is up to 30 s off still log in (RFC 6238 section 5.2).
DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh random secret, base32 (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The `otpauth://` link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def qr_data_uri(uri: str) -> str:
    """The QR code of `uri` as a PNG data URI, made by segno as the posters' codes are."""
    return str(segno.make(uri, error="m", micro=False).png_data_uri(scale=5, border=4))


def grouped(secret: str) -> str:
    """The secret in groups of four, for people who type it instead of scanning."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(
    secret: str, code: str, last_step: int | None, now: datetime | None = None
) -> int | None:
    """The time step whose code is `code` (spaces ignored) within the allowed drift and later
    than `last_step`, the last one used; None when there is none."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((now or utcnow()).timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code) and step > (last_step or -1):
            return step
    return None


def totp_required(user: User) -> bool:
    """Whether `user` may not work without a second step (admins, when the setting is on)."""
    return bool(current_app.config["TOTP_REQUIRED_FOR_ADMINS"]) and user.role == "admin"


def enable_totp(
    session: Session, user: User, secret: str, code: str, now: datetime | None = None
) -> User:
    """Turn the second step on with `secret`, once the person proves their app has it by a code
    from it; audited."""
    step = matching_step(secret, code, None, now)
    if step is None:
        raise InputError(
            [Problem("code", _("is not the code your app shows now; try the next one"))]
        )
    user.totp_secret = secret
    user.totp_last_step = step
    record(session, user.id, "user.totp_enable", "user", user.id)
    return user


def turn_off_totp(session: Session, user: User, password: str) -> User:
    """The person turns their own second step off, password first (an unattended session must
    not be enough); admins must keep it while `TOTP_REQUIRED_FOR_ADMINS` is on. Audited."""
    problems = []
    if not password_matches(user.password_hash, password):
        problems.append(Problem("password", _("is not your current password")))
    if totp_required(user):
        problems.append(Problem("password", _("admins must keep the second login step")))
    if problems:
        raise InputError(problems)
    return remove_totp(session, user, user.id)


def remove_totp(session: Session, user: User, actor_id: int | None) -> User:
    """Forget `user`'s authenticator app: by the person, or by an admin or an operator when the
    phone is lost (the person then enrols a new one, at the next login if it is required)."""
    if user.totp_secret is not None:
        user.totp_secret = None
        user.totp_last_step = None
        record(session, actor_id, "user.totp_disable", "user", user.id)
    return user
