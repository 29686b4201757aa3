"""Login and logout, the own-password page, and the admin's pages for staff accounts."""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm

from minsheng.accounts.login import LoginResult, attempt_code, attempt_login
from minsheng.accounts.models import ROLES, User
from minsheng.accounts.permissions import public, require_role
from minsheng.accounts.totp import (
    enable_totp,
    grouped,
    new_secret,
    provisioning_uri,
    qr_data_uri,
    totp_required,
    turn_off_totp,
)
from minsheng.accounts.users import (
    change_password,
    end_sessions,
)
from minsheng.accounts.webforms import (
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    TurnOffTotpForm,
)
from minsheng.db import get_session
from minsheng.errors import wants_json
from minsheng.web import commit_or_show

bp = Blueprint("accounts", __name__, template_folder="templates")

# The signed-cookie key that carries a login between its password and its code, and how long.
PENDING = "pending_login"
PENDING_SECONDS = 300
# The signed-cookie key that holds a secret being enrolled until a code confirms it.
ENROLMENT = "totp_enrolment"


def _safe_next(target: str | None) -> str:
    """Only a path of this site, so the login page cannot be used as an open redirect: no
    scheme or host, no `//` or `/\\` start, and no control character (browsers drop a tab
    or newline, so `/%09/evil.example` would become `//evil.example`; issue 11)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not any(ord(c) < 0x20 or c in "\\\x7f" for c in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("campaigns.index")


def lockout_message(seconds: int) -> str:
    """How long to wait, in whole minutes (rounded up) so the person never comes back early."""
    minutes = max(1, math.ceil(seconds / 60))
    return str(
        ngettext(
            "Too many failed logins for this user name or from this address. "
            "Try again in %(num)d minute.",
            "Too many failed logins for this user name or from this address. "
            "Try again in %(num)d minutes.",
            minutes,
        )
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        result = attempt_login(
            session,
            form.username.data or "",
            form.password.data or "",
            request.remote_addr or "",
        )
        session.commit()
        if result.pending is not None:
            cookie_session[PENDING] = {
                "user": result.pending.id,
                "at": int(time.time()),
                "next": request.args.get("next") or "",
            }
            return redirect(url_for("accounts.login_code"))
        return _logged_in_or_refused(result, form, "accounts/login.html", request.args.get("next"))
    return render_template(
        "accounts/login.html", form=form
    ), 200 if request.method == "GET" else 401


def _logged_in_or_refused(
    result: LoginResult, form: FlaskForm, template: str, next_url: str | None
) -> ResponseReturnValue:
    if result.user is not None:
        cookie_session.pop(PENDING, None)
        login_user(result.user)
        return redirect(_safe_next(next_url))
    if result.locked:
        flash(lockout_message(result.retry_after), "error")
        return render_template(template, form=form), 429, {"Retry-After": str(result.retry_after)}
    if template == "accounts/login.html":
        flash(_("Wrong username or password."), "error")
    else:
        flash(_("Wrong or already used code; wait for the next one and try again."), "error")
    return render_template(template, form=form), 401


def _pending_user() -> tuple[User, str] | None:
    """The user whose password was right in this browser within `PENDING_SECONDS`, and where
    they were going; None otherwise (the second step cannot be reached without the first)."""
    pending = cookie_session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = get_session().get(User, int(pending.get("user", 0)))
    if user is None or not user.active or user.totp_secret is None:
        return None
    return user, str(pending.get("next") or "")


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code() -> ResponseReturnValue:
    """The second login step: a code of the authenticator app, after the right password."""
    pending = _pending_user()
    if pending is None:
        cookie_session.pop(PENDING, None)
        flash(_("Log in with your user name and password first."), "error")
        return redirect(url_for("accounts.login"))
    user, next_url = pending
    form = CodeForm()
    if form.validate_on_submit():
        session = get_session()
        result = attempt_code(session, user, form.code.data or "", request.remote_addr or "")
        session.commit()
        return _logged_in_or_refused(result, form, "accounts/login_code.html", next_url)
    return render_template("accounts/login_code.html", form=form), status_of_form()


@bp.route("/logout", methods=["POST"])
@public
def logout() -> ResponseReturnValue:
    """End the session here and on the server: the account's session epoch moves on, so this
    cookie, a copy of it and a remember-me cookie no longer log anyone in."""
    if current_user.is_authenticated:
        end_sessions(get_session(), current_user)
        get_session().commit()
    logout_user()
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@require_role(*ROLES)
def change_own_password() -> ResponseReturnValue:
    """Any staff member changes their own password, current one first."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        session = get_session()
        changed = commit_or_show(
            session,
            form,
            lambda: change_password(
                session,
                current_user._get_current_object(),
                form.current_password.data or "",
                form.new_password.data or "",
            ),
        )
        if changed:
            # The session's fingerprint is of the old password: renew it for this browser only.
            login_user(changed)
            flash(_("Your password has been changed."), "info")
            return redirect(url_for("accounts.change_own_password"))
    return render_template("accounts/password.html", form=form), status_of_form()


def status_of_form() -> int:
    """422 for a form shown again with its problems, 200 for a fresh one."""
    return 422 if request.method == "POST" else 200


# Where an admin who must enrol an authenticator app may still go (issue 11).
OPEN_BEFORE_ENROLMENT = frozenset(
    {"accounts.two_factor", "accounts.logout", "accounts.login", "accounts.login_code", "static"}
)


def require_enrolment() -> ResponseReturnValue | None:
    """Before every request: an admin without an authenticator app while
    `TOTP_REQUIRED_FOR_ADMINS` is on reaches nothing but the enrolment page (sessions opened
    before the setting was turned on included)."""
    if request.endpoint in OPEN_BEFORE_ENROLMENT or not current_user.is_authenticated:
        return None
    if current_user.totp_secret is not None or not totp_required(current_user):
        return None
    if wants_json():
        abort(403, description=_("Admins must turn on the second login step before going on."))
    # The enrolment page says why the admin is there.
    return redirect(url_for("accounts.two_factor"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@require_role(*ROLES)
def two_factor() -> ResponseReturnValue:
    """Enrol an authenticator app (scan the QR code, then give a code from it), or see that it
    is on and turn it off. The secret waits in the signed cookie until a code proves the app
    has it, so an abandoned enrolment leaves nothing behind."""
    if current_user.totp_secret is not None:
        return _enrolled_page(TurnOffTotpForm(prefix="off"))
    secret = str(cookie_session.get(ENROLMENT) or new_secret())
    cookie_session[ENROLMENT] = secret
    form = CodeForm()
    if form.validate_on_submit():
        session = get_session()
        user = current_user._get_current_object()
        code = form.code.data or ""
        if commit_or_show(session, form, lambda: enable_totp(session, user, secret, code)):
            cookie_session.pop(ENROLMENT, None)
            flash(_("The second login step is on: log in with a code from your app."), "info")
            return redirect(url_for("accounts.two_factor"))
    return render_template(
        "accounts/two_factor.html",
        form=form,
        qr=qr_data_uri(provisioning_uri(secret, current_user.username)),
        secret=grouped(secret),
        required=totp_required(current_user),
    ), status_of_form()


def _enrolled_page(off_form: TurnOffTotpForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "accounts/two_factor_on.html", off_form=off_form, required=totp_required(current_user)
    ), status


@bp.route("/account/two-factor/off", methods=["POST"])
@require_role(*ROLES)
def two_factor_off() -> ResponseReturnValue:
    form = TurnOffTotpForm(prefix="off")
    session = get_session()
    user = current_user._get_current_object()
    done = form.validate_on_submit() and commit_or_show(
        session, form, lambda: turn_off_totp(session, user, form.password.data or "")
    )
    if not done:
        return _enrolled_page(form, status=422)
    flash(_("The second login step is off."), "info")
    return redirect(url_for("accounts.two_factor"))
