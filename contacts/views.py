"""Organizer pages of target lists: the lists and the contact file upload, an import's progress
and result with its error file, and a list's contacts, personal data masked.

Lists are not a campaign's (a list may serve several campaigns), so their pages live under
`/contacts/`; the old `/invitations/lists/` and `/invitations/imports/` URLs answer 308.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from contacts.access import usable_lists, uses_list
from contacts.files import check_contact_file
from contacts.import_jobs import JOB_KIND, start_import
from contacts.lists import get_or_create_list, lists_with_counts, masked_contact
from contacts.models import Contact, ContactImport, ContactList
from contacts.webforms import ContactUploadForm
from minsheng.accounts.permissions import access, public, require_role
from minsheng.audit import record_download
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from minsheng.jobs import Job, can_retry
from minsheng.limits import requested_page
from minsheng.web import commit_or_show, moved_to, show_problems

bp = Blueprint("contacts", __name__, template_folder="templates")

PAGE_SIZE = 50


@bp.route("/contacts/lists/", methods=["GET", "POST"])
@require_role("organizer")
def lists() -> ResponseReturnValue:
    """The target lists the organizer may use, and the upload that adds a file's contacts to
    one (new, or existing and theirs: another campaign's list is refused)."""
    session = get_session()
    form = ContactUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        required = [a.strip() for a in (form.required.data or "").split(",") if a.strip()]

        filename = upload.filename or "upload"
        data = upload.read()
        try:
            check_contact_file(data, filename)  # a file too large is told at once, not queued
        except InputError as exc:
            show_problems(form, exc, {filename: "file"})
            lists = usable_lists(current_user, lists_with_counts(session))
            return render_template("contacts/lists.html", form=form, lists=lists), exc.http_status

        def start() -> Job:
            contact_list = get_or_create_list(session, form.list_name.data or "")
            if not uses_list(current_user, contact_list):
                name = contact_list.name
                raise InputError([Problem("list", f"list {name!r} is another campaign's")])
            return start_import(
                session, contact_list, data, filename, required, actor_id=current_user.id
            )

        job = commit_or_show(session, form, start, {"list": "list_name", filename: "file"})
        if job is not None:
            return redirect(url_for("contacts.import_job", job_id=job.id))
    shown = usable_lists(current_user, lists_with_counts(session))
    return render_template("contacts/lists.html", form=form, lists=shown), (
        422 if form.errors else 200
    )


@bp.route("/contacts/imports/jobs/<int:job_id>")
@access("job")
def import_job(job_id: int) -> ResponseReturnValue:
    """Progress of a queued import; refreshes itself until done, then shows the result."""
    job = get_session().get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        abort(404)
    if job.state == "done":
        return redirect(url_for("contacts.import_result", import_id=job.result["import_id"]))
    retryable = can_retry(get_session(), job)
    return render_template("contacts/import_job.html", job=job, retryable=retryable), (
        422 if job.state == "failed" else 200
    )


@bp.route("/contacts/lists/<int:list_id>")
@access("contact-list")
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
        "contacts/list_detail.html",
        contact_list=contact_list,
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        imports=list(imports),
    )


@bp.route("/contacts/imports/<int:import_id>")
@access("contact-import")
def import_result(import_id: int) -> ResponseReturnValue:
    session = get_session()
    contact_import = session.get(ContactImport, import_id) or abort(404)
    problems = list(csv.DictReader(io.StringIO(contact_import.error_report)))
    return render_template(
        "contacts/import_result.html",
        contact_import=contact_import,
        contact_list=session.get(ContactList, contact_import.list_id),
        problems=problems[:PAGE_SIZE],
        problem_count=len(problems),
    )


@bp.route("/contacts/imports/<int:import_id>/errors.csv")
@access("contact-import")
def import_errors(import_id: int) -> ResponseReturnValue:
    session = get_session()
    contact_import = session.get(ContactImport, import_id) or abort(404)
    name = f"import-{import_id}-errors.csv"
    record_download(session, current_user.id, "contact_import", import_id, name)
    session.commit()
    # BOM first, so Excel (zh_CN) opens the UTF-8 file without garbling Chinese.
    body = "\ufeff" + contact_import.error_report
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/invitations/lists/", defaults={"rest": ""}, methods=["GET", "POST"])
@bp.route("/invitations/lists/<path:rest>", methods=["GET", "POST"])
@public
def old_list_url(rest: str) -> ResponseReturnValue:
    """Target lists were pages of invitations/ before contacts/ had a package of its own."""
    return moved_to(f"/contacts/lists/{rest}")


@bp.route("/invitations/imports/<path:rest>", methods=["GET", "POST"])
@public
def old_import_url(rest: str) -> ResponseReturnValue:
    return moved_to(f"/contacts/imports/{rest}")
