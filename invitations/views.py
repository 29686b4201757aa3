"""Organizer pages: target lists (upload, result, error file, masked contacts), sampling and the
invitation status of a campaign. Personal data appears only masked."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from contacts.import_jobs import JOB_KIND, start_import
from contacts.lists import get_or_create_list, masked_contact
from contacts.models import Contact, ContactImport, ContactList
from invitations.models import Quota, Sample
from invitations.quotas import parse_stratum, quotas_of, set_quota, stratum_values
from invitations.sampling import draw_sample
from invitations.tokens import status_counts
from invitations.webforms import ContactUploadForm, QuotaForm, SampleForm
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session
from minsheng.jobs import Job
from minsheng.limits import requested_page
from minsheng.web import commit_or_show

bp = Blueprint("invitations", __name__, template_folder="templates")

PAGE_SIZE = 50


def _lists() -> list[tuple[ContactList, int]]:
    counts = (
        select(ContactList, func.count(Contact.id))
        .outerjoin(Contact, Contact.list_id == ContactList.id)
        .group_by(ContactList.id)
        .order_by(ContactList.name)
    )
    return [(lst, n) for lst, n in get_session().execute(counts)]


@bp.route("/invitations/lists/", methods=["GET", "POST"])
@require_role("organizer")
def lists() -> ResponseReturnValue:
    form = ContactUploadForm()
    if form.validate_on_submit():
        session = get_session()
        upload = form.file.data
        required = [a.strip() for a in (form.required.data or "").split(",") if a.strip()]

        def start() -> Job:
            contact_list = get_or_create_list(session, form.list_name.data or "")
            filename = upload.filename or "upload"
            data = upload.read()
            return start_import(
                session, contact_list, data, filename, required, actor_id=current_user.id
            )

        job = commit_or_show(session, form, start, {"list": "list_name"})
        if job is not None:
            return redirect(url_for("invitations.import_job", job_id=job.id))
    return render_template("invitations/lists.html", form=form, lists=_lists()), (
        422 if form.errors else 200
    )


@bp.route("/invitations/imports/jobs/<int:job_id>")
@require_role("organizer")
def import_job(job_id: int) -> ResponseReturnValue:
    """Progress of a queued import; refreshes itself until done, then shows the result."""
    job = get_session().get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        abort(404)
    if job.state == "done":
        return redirect(url_for("invitations.import_result", import_id=job.result["import_id"]))
    return render_template("invitations/import_job.html", job=job), (
        422 if job.state == "failed" else 200
    )


@bp.route("/invitations/lists/<int:list_id>")
@require_role("organizer")
def list_detail(list_id: int) -> ResponseReturnValue:
    session = get_session()
    contact_list = session.get(ContactList, list_id) or abort(404)
    total = (
        session.scalar(select(func.count()).select_from(Contact).where(Contact.list_id == list_id))
        or 0
    )
    page = requested_page(max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))
    contacts = session.scalars(
        select(Contact)
        .where(Contact.list_id == list_id)
        .order_by(Contact.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [(c, masked_contact(c)) for c in contacts]
    imports = session.scalars(
        select(ContactImport)
        .where(ContactImport.list_id == list_id)
        .order_by(ContactImport.id.desc())
    )
    return render_template(
        "invitations/list_detail.html",
        contact_list=contact_list,
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        imports=list(imports),
    )


@bp.route("/invitations/imports/<int:import_id>")
@require_role("organizer")
def import_result(import_id: int) -> ResponseReturnValue:
    session = get_session()
    contact_import = session.get(ContactImport, import_id) or abort(404)
    problems = list(csv.DictReader(io.StringIO(contact_import.error_report)))
    return render_template(
        "invitations/import_result.html",
        contact_import=contact_import,
        contact_list=session.get(ContactList, contact_import.list_id),
        problems=problems[:PAGE_SIZE],
        problem_count=len(problems),
    )


@bp.route("/invitations/imports/<int:import_id>/errors.csv")
@require_role("organizer")
def import_errors(import_id: int) -> ResponseReturnValue:
    contact_import = get_session().get(ContactImport, import_id) or abort(404)
    # BOM first, so Excel (zh_CN) opens the UTF-8 file without garbling Chinese.
    body = "\ufeff" + contact_import.error_report
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'},
    )


@bp.route("/invitations/campaigns/<slug>")
@require_role("organizer")
def status(slug: str) -> ResponseReturnValue:
    return _status_page(get_campaign_or_404(slug), QuotaForm())


def _status_page(campaign: Campaign, quota_form: QuotaForm) -> str:
    session = get_session()
    samples = session.scalars(
        select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.id.desc())
    )
    return render_template(
        "invitations/status.html",
        campaign=campaign,
        counts=status_counts(session, campaign.id),
        samples=list(samples),
        quotas=quotas_of(session, campaign.id),
        form=quota_form,
    )


@bp.route("/invitations/campaigns/<slug>/quotas", methods=["POST"])
@require_role("organizer")
def quota(slug: str) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    session = get_session()
    form = QuotaForm()
    if form.validate_on_submit():

        def save() -> Quota:
            values = parse_stratum(form.stratum.data or "")
            return set_quota(
                session, campaign, values, form.maximum.data or 0, actor_id=current_user.id
            )

        if commit_or_show(session, form, save) is not None:
            return redirect(url_for("invitations.status", slug=campaign.slug))
    return _status_page(campaign, form), 422


# Where draw_sample's problems belong on the sample form.
SAMPLE_FIELDS = {"size": "count", "per_stratum": "count", "list": "list_id"}


@bp.route("/invitations/campaigns/<slug>/sample", methods=["GET", "POST"])
@require_role("organizer")
def sample(slug: str) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    session = get_session()
    form = SampleForm()
    form.list_id.choices = [SelectChoice(str(lst.id), f"{lst.name} ({n})") for lst, n in _lists()]
    if form.validate_on_submit():
        contact_list = session.get(ContactList, form.list_id.data) or abort(404)
        by = [a.strip() for a in (form.by.data or "").split(",") if a.strip()]
        count = form.count.data
        proportional = form.allocation.data == "proportional"
        result = commit_or_show(
            session,
            form,
            lambda: draw_sample(
                session,
                campaign,
                contact_list,
                by,
                size=count if proportional else None,
                per_stratum=None if proportional else count,
                seed=form.seed.data,
                actor_id=current_user.id,
            ),
            SAMPLE_FIELDS,
        )
        if result is not None:
            return redirect(url_for("invitations.sample_detail", sample_id=result.sample.id))
    return render_template("invitations/sample.html", campaign=campaign, form=form), (
        422 if form.errors else 200
    )


@bp.route("/invitations/samples/<int:sample_id>")
@require_role("organizer")
def sample_detail(sample_id: int) -> ResponseReturnValue:
    session = get_session()
    drawn = session.get(Sample, sample_id) or abort(404)
    return render_template(
        "invitations/sample_detail.html",
        sample=drawn,
        campaign=session.get(Campaign, drawn.campaign_id),
        contact_list=session.get(ContactList, drawn.list_id),
        stratum_values=stratum_values,
    )
