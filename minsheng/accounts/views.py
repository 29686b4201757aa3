"""Login and logout pages."""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_user, logout_user

from minsheng.accounts.login import attempt_login
from minsheng.accounts.permissions import public
from minsheng.accounts.webforms import LoginForm
from minsheng.db import get_session

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so the login page cannot be used as an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
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
        if result.user is not None:
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
        if result.locked:
            flash(lockout_message(result.retry_after), "error")
            page = render_template("accounts/login.html", form=form)
            return page, 429, {"Retry-After": str(result.retry_after)}
        flash(_("Wrong username or password."), "error")
    return render_template(
        "accounts/login.html", form=form
    ), 200 if request.method == "GET" else 401


@bp.route("/logout", methods=["POST"])
@public
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("accounts.login"))
