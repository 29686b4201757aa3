"""Users, roles, login and permission checks."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from minsheng.accounts.models import User


def init_app(app: Flask) -> None:
    from minsheng.accounts.cli import users_cli
    from minsheng.accounts.views import bp
    from minsheng.db import get_session

    login_manager = LoginManager()
    login_manager.login_view = "accounts.login"
    login_manager.init_app(app)

    def _load_user(user_id: str) -> User | None:
        return get_session().get(User, int(user_id))

    login_manager.user_loader(_load_user)

    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
