"""Organizer pages: ask for a campaign's thematic report, follow its progress, download it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaigns.web import get_campaign_or_404
from exporters.models import Report
from exporters.reports import campaign_reports, report_download_name, request_report
from exporters.tasks import queue_report
from exporters.webforms import ReportRequestForm
from minsheng.accounts.permissions import require_role
from minsheng.audit import record_download
from minsheng.db import get_session
from minsheng.files import send_stored_file
from minsheng.jobs import Job, can_retry
from minsheng.web import commit_or_show, label_language, moved_to, or_404
from questionnaire.schema import text_in

bp = Blueprint("exporters", __name__, template_folder="templates")


@bp.route("/campaigns/<slug>/reports", methods=["GET", "POST"])
@require_role("organizer")
def campaign_report_list(slug: str) -> ResponseReturnValue:
    """The campaign's reports with their state; posting the form queues a new one."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = ReportRequestForm()

    def request_and_queue() -> Report:
        report = request_report(
            session, campaign, audience=form.audience.data, actor_id=current_user.id
        )
        # Sent once the row is committed: the embedded default renders it right here, a Redis
        # broker hands it to a worker on the `reports` queue.
        queue_report(session, report)
        return report

    if form.validate_on_submit() and commit_or_show(session, form, request_and_queue) is not None:
        flash(_("The report has been requested."), "info")
        return redirect(url_for("exporters.campaign_report_list", slug=slug))
    reports = campaign_reports(session, campaign)
    job_ids = [r.job_id for r in reports if r.job_id is not None]
    jobs = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    language = label_language()
    return render_template(
        "exporters/reports.html",
        campaign=campaign,
        title=text_in(campaign.title, language, "zh"),
        form=form,
        reports=reports,
        jobs=jobs,
        retryable={job.id for job in jobs.values() if can_retry(session, job)},
        pending=any(r.status in ("queued", "running") for r in reports),
    ), 422 if form.errors else 200


@bp.route("/campaigns/<slug>/reports/<int:report_id>/download")
@require_role("organizer")
def download(slug: str, report_id: int) -> ResponseReturnValue:
    """The PDF of a finished report of campaign `slug`, streamed from the file store (any node
    serves it); 404 under another campaign's slug."""
    campaign = get_campaign_or_404(slug)
    session = get_session()
    report = session.get(Report, report_id)
    if report is None or report.campaign_id != campaign.id:
        abort(404, description=f"No report {report_id} in campaign {slug!r}.")
    if report.status != "done" or not report.file_key:
        abort(404, description=f"Report {report_id} is {report.status}; it has no file yet.")
    record_download(session, current_user.id, "report", report.id, report_download_name(report))
    session.commit()
    return send_stored_file(report.file_key, report_download_name(report))


@bp.route("/reports/<int:report_id>/download")
@require_role("organizer")
def old_download_url(report_id: int) -> ResponseReturnValue:
    """The download moved under its campaign; links already shared keep working."""
    report = or_404(get_session().get(Report, report_id), f"No report {report_id}.")
    return moved_to(f"/campaigns/{report.campaign.slug}/reports/{report_id}/download")
