"""Login and logout pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from minsheng.accounts.permissions import public
from minsheng.accounts.users import authenticate
from minsheng.accounts.webforms import LoginForm
from minsheng.audit import record
from minsheng.db import get_session

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so the login page cannot be used as an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("campaigns.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        user = authenticate(session, form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            record(session, user.id, "login", "user", user.id)
            session.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
    return render_template(
        "accounts/login.html", form=form
    ), 200 if request.method == "GET" else 401


@bp.route("/logout", methods=["POST"])
@public
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("accounts.login"))
