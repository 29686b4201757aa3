"""Staff pages: ask for a campaign's thematic report or a data export, follow its progress,
download the file."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaigns.web import get_campaign_or_404
from exporters.export_requests import campaign_exports as campaign_exports_of
from exporters.export_requests import (
    export_download_name,
    formats_for,
    may_download,
    request_export,
)
from exporters.models import DataExport, Report
from exporters.reports import campaign_reports, report_download_name, request_report
from exporters.tasks import queue_export, queue_report
from exporters.webforms import FORMAT_LABELS, ExportRequestForm, ReportRequestForm
from minsheng.accounts.permissions import access
from minsheng.audit import record_download
from minsheng.db import get_session
from minsheng.files import send_stored_file
from minsheng.jobs import Job, can_retry
from minsheng.web import commit_or_show, label_language, moved_to, or_404

bp = Blueprint("exporters", __name__, template_folder="templates")


@bp.route("/campaigns/<slug>/reports", methods=["GET", "POST"])
@access("campaign:organizer")
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
        title=campaign.title_in(language),
        form=form,
        reports=reports,
        jobs=jobs,
        retryable={job.id for job in jobs.values() if can_retry(session, job)},
        pending=any(r.status in ("queued", "running") for r in reports),
    ), 422 if form.errors else 200


@bp.route("/campaigns/<slug>/reports/<int:report_id>/download")
@access("report")
def download(slug: str, report_id: int) -> ResponseReturnValue:
    """The PDF of a finished report of campaign `slug`, streamed from the file store (any node
    serves it); 404 under another campaign's slug (`exporters.access`)."""
    session = get_session()
    report = or_404(session.get(Report, report_id), f"No report {report_id}.")
    if report.status != "done" or not report.file_key:
        abort(404, description=f"Report {report_id} is {report.status}; it has no file yet.")
    record_download(session, current_user.id, "report", report.id, report_download_name(report))
    session.commit()
    return send_stored_file(report.file_key, report_download_name(report))


@bp.route("/reports/<int:report_id>/download")
@access("report")
def old_download_url(report_id: int) -> ResponseReturnValue:
    """The download moved under its campaign; links already shared keep working."""
    report = or_404(get_session().get(Report, report_id), f"No report {report_id}.")
    return moved_to(f"/campaigns/{report.campaign.slug}/reports/{report_id}/download")


@bp.route("/campaigns/<slug>/exports", methods=["GET", "POST"])
@access("campaign:exports")
def campaign_exports(slug: str) -> ResponseReturnValue:
    """The campaign's data exports with their progress; posting the form queues a new one."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    role = current_user.role
    form = ExportRequestForm()
    form.format.choices = [SelectChoice(f, FORMAT_LABELS[f]) for f in formats_for(role)]
    if role != "admin":
        del form.raw

    def request_and_queue() -> DataExport:
        export = request_export(
            session,
            campaign,
            form.format.data,
            role=role,
            labels=bool(form.labels.data),
            raw=bool(role == "admin" and form.raw.data),
            actor_id=current_user.id,
        )
        queue_export(session, export)
        return export

    if form.validate_on_submit() and commit_or_show(session, form, request_and_queue) is not None:
        flash(_("The export has been requested."), "info")
        return redirect(url_for("exporters.campaign_exports", slug=slug))
    exports = campaign_exports_of(session, campaign, role)
    job_ids = [e.job_id for e in exports if e.job_id is not None]
    jobs = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    return render_template(
        "exporters/exports.html",
        campaign=campaign,
        form=form,
        exports=exports,
        jobs=jobs,
        labels=FORMAT_LABELS,
        downloadable={e.id for e in exports if may_download(role, e)},
        retryable={job.id for job in jobs.values() if can_retry(session, job)},
        pending=any(e.status in ("queued", "running") for e in exports),
    ), 422 if form.errors else 200


@bp.route("/campaigns/<slug>/exports/<int:export_id>/download")
@access("export")
def download_export(slug: str, export_id: int) -> ResponseReturnValue:
    """The file of a finished export, streamed from the file store and audited; 404 under
    another campaign's slug (`exporters.access`), 403 for a format the user's role may not
    have."""
    session = get_session()
    export = or_404(session.get(DataExport, export_id), f"No export {export_id}.")
    if not may_download(current_user.role, export):
        abort(403, description="This export is not offered to your role.")
    if export.status != "done" or not export.file_key:
        abort(404, description=f"Export {export_id} is {export.status}; it has no file yet.")
    name = export_download_name(export)
    record_download(session, current_user.id, "export", export.id, name)
    session.commit()
    return send_stored_file(export.file_key, name)
