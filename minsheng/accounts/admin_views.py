"""The admin's pages for staff accounts (`/admin/users`): create, change the role, disable,
enable or lift a lockout, reset the password, forget the authenticator app; each a call of one
domain function of `users.py` or `totp.py`, which writes the audit."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from minsheng.accounts.login import locked_until
from minsheng.accounts.models import Department, User
from minsheng.accounts.permissions import require_role
from minsheng.accounts.totp import remove_totp
from minsheng.accounts.users import (
    change_role,
    create_user,
    disable_user,
    enable_user,
    get_or_create_department,
    reset_password,
)
from minsheng.accounts.views import bp, status_of_form
from minsheng.accounts.webforms import ROLE_LABELS, ResetPasswordForm, RoleForm, UserCreateForm
from minsheng.audit import events_for
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.web import commit_or_show, or_404


@bp.route("/admin/users")
@require_role("admin")
def users() -> ResponseReturnValue:
    """Every staff account, with its role, state and lockout."""
    session = get_session()
    accounts = list(session.scalars(select(User).order_by(User.username)))
    locks = {user.id: locked_until(session, user.username) for user in accounts}
    return render_template("accounts/users.html", accounts=accounts, locks=locks, roles=ROLE_LABELS)


def _department(session: Session, code: str | None) -> Department | None:
    code = (code or "").strip()
    return get_or_create_department(session, code, code) if code else None


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require_role("admin")
def new_user() -> ResponseReturnValue:
    form = UserCreateForm()
    if form.validate_on_submit():
        session = get_session()
        user = commit_or_show(
            session,
            form,
            lambda: create_user(
                session,
                (form.username.data or "").strip(),
                form.password.data or "",
                form.role.data or "",
                display_name=form.display_name.data or None,
                department=_department(session, form.department.data),
                email=form.email.data or None,
                actor_id=current_user.id,
            ),
        )
        if user is not None:
            flash(_("Account %(name)s created.", name=user.username), "info")
            return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_template("accounts/user_new.html", form=form), status_of_form()


def _user_or_404(user_id: int) -> User:
    return or_404(get_session().get(User, user_id), _("No staff account has this number."))


def _user_page(
    user: User,
    role_form: RoleForm | None = None,
    reset_form: ResetPasswordForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = get_session()
    if role_form is None:
        department = user.department.code if user.department else ""
        role_form = RoleForm(role=user.role, department=department)
    return render_template(
        "accounts/user.html",
        user=user,
        roles=ROLE_LABELS,
        role_form=role_form,
        reset_form=reset_form or ResetPasswordForm(),
        locked_until=locked_until(session, user.username),
        events=events_for(session, "user", user.id)[-20:],
    ), status


@bp.route("/admin/users/<int:user_id>")
@require_role("admin")
def user_detail(user_id: int) -> ResponseReturnValue:
    """One account: change its role, reset its password, disable or enable it; its history."""
    return _user_page(_user_or_404(user_id))


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@require_role("admin")
def user_role(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    form = RoleForm()
    session = get_session()
    done = form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: change_role(
            session,
            user,
            form.role.data or "",
            current_user.id,
            _department(session, form.department.data),
        ),
    )
    if not done:
        return _user_page(user, role_form=form, status=422)
    flash(_("The role of %(name)s has been changed.", name=user.username), "info")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@require_role("admin")
def user_password(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    session = get_session()
    done = form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: reset_password(session, user, form.password.data or "", current_user.id),
    )
    if not done:
        return _user_page(user, reset_form=form, status=422)
    flash(_("A new password has been set for %(name)s.", name=user.username), "info")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/disable", methods=["POST"])
@require_role("admin")
def user_disable(user_id: int) -> ResponseReturnValue:
    return _switch(user_id, disable_user, _("%(name)s can no longer log in."))


@bp.route("/admin/users/<int:user_id>/enable", methods=["POST"])
@require_role("admin")
def user_enable(user_id: int) -> ResponseReturnValue:
    return _switch(user_id, enable_user, _("%(name)s can log in again."))


def _switch(
    user_id: int, action: Callable[[Session, User, int | None], object], done: str
) -> ResponseReturnValue:
    """A button without fields: the change, or the account page with the refusal flashed."""
    user = _user_or_404(user_id)
    session = get_session()
    try:
        action(session, user, current_user.id)
    except InputError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(problem.message, "error")
        return _user_page(user, status=422)
    session.commit()
    flash(done % {"name": user.username}, "info")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/two-factor/remove", methods=["POST"])
@require_role("admin")
def user_remove_totp(user_id: int) -> ResponseReturnValue:
    """For a lost phone: the person logs in with the password alone, or enrols again at once
    when the second step is required."""
    return _switch(user_id, remove_totp, _("%(name)s's authenticator app has been removed."))
