"""Users, roles, login and permission checks."""

from __future__ import annotations

import hmac

from flask import Flask
from flask_login import LoginManager

from minsheng.accounts.models import User


def init_app(app: Flask) -> None:
    from datetime import timedelta

    from flask_babel import lazy_gettext as _l

    from minsheng.accounts import admin_views, permissions, tasks  # noqa: F401  (routes join `bp`)
    from minsheng.accounts.cli import users_cli
    from minsheng.accounts.views import bp, require_enrolment
    from minsheng.db import get_session
    from minsheng.jobs import add_periodic_job
    from minsheng.navigation import add_menu_entry

    login_manager = LoginManager()
    login_manager.login_view = "accounts.login"
    login_manager.init_app(app)

    def _load_user(session_id: str) -> User | None:
        # A disabled account's open sessions end at its next request, not when they expire, and
        # so do those opened before its password was reset or changed (`User.get_id`).
        user_id, _, fingerprint = session_id.partition(":")
        if not user_id.isdigit():
            return None
        user = get_session().get(User, int(user_id))
        if user is None or not user.active:
            return None
        return user if hmac.compare_digest(fingerprint, user.password_fingerprint) else None

    login_manager.user_loader(_load_user)

    app.register_blueprint(bp)
    app.before_request(require_enrolment)
    permissions.init_app(app)
    app.cli.add_command(users_cli)
    add_menu_entry(app, "accounts.users", _l("Staff accounts"), order=90)
    add_periodic_job(
        app,
        "accounts.forget_stale_login_counts",
        tasks.forget_stale_login_counts_task.name,
        timedelta(hours=1),
    )
