"""The shell's own pages: home and health check."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from minsheng.accounts.permissions import public
from minsheng.db import get_session

bp = Blueprint("minsheng", __name__)


@bp.route("/")
@public
def home() -> ResponseReturnValue:
    return redirect(url_for("campaigns.index"))


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """For load balancers and compose health checks: the database answers."""
    get_session().execute(text("SELECT 1"))
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
