"""The shell's own pages: home, health check, and the retry of a failed background job."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from minsheng.accounts.permissions import public, require_role
from minsheng.db import get_session
from minsheng.jobs import Job, job_kind, retry_job
from minsheng.web import or_404

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


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@require_role("organizer")
def retry(job_id: int) -> ResponseReturnValue:
    """The retry button of a failed job: queue it again and return to its page."""
    session = get_session()
    job = or_404(session.get(Job, job_id), _("No such job."))
    kind = job_kind(job.kind)
    if kind is None:
        abort(404)
    retry_job(session, job, actor_id=current_user.id)
    page = kind.page(session, job)
    session.commit()
    flash(_("The job has been queued again."), "info")
    return redirect(page)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
