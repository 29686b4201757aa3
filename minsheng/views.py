"""The shell's own pages: home, health check, and the retry of a failed background job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from minsheng.accounts.permissions import access, add_access_rule, public
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
@access("job")
def retry(job_id: int) -> ResponseReturnValue:
    """The retry button of a failed job: queue it again and return to its page."""
    session = get_session()
    job = or_404(session.get(Job, job_id), _("No such job."))
    kind = or_404(job_kind(job.kind), _("No such job."))
    retry_job(session, job, actor_id=current_user.id)
    page = kind.page(session, job)
    session.commit()
    flash(_("The job has been queued again."), "info")
    return redirect(page)


def allows_job(user: Any, arguments: Mapping[str, Any]) -> bool:
    """The `job` access rule: a job is followed and retried by whom its kind allows (the
    organizers of its campaign, `JobKind.allows`), by admins otherwise; 404 for no such job."""
    session = get_session()
    job = or_404(session.get(Job, int(arguments["job_id"])), _("No such job."))
    kind = or_404(job_kind(job.kind), _("No such job."))
    if kind.allows is None:
        return bool(user.role == "admin")
    return kind.allows(session, job, user)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_access_rule("job", allows_job, ("organizer",), allows={"owner", "admin"})
