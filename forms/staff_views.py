"""Organizer pages of the questionnaire and the campaign file: the editor (XLSForm tables, a live
phone-width preview, expressions checked as one types, publishing a version), an XLSForm
workbook uploaded or downloaded, the campaign file uploaded or downloaded, and a campaign copied
as the start of a new one. Thin: the work is in `forms.editor` and `forms.campaign_files`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.utils import secure_filename

from campaigns.definition import MAX_FILE_BYTES as MAX_CAMPAIGN_FILE
from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from campaigns.webforms import DuplicateForm
from forms.campaign_files import campaign_file_text, duplicate_campaign, import_campaign_text
from forms.drafts import page_logic
from forms.editor import (
    EXPRESSION_COLUMNS,
    changed_questions,
    editor_tables,
    form_of_tables,
    names_in,
    posted_tables,
    version_lines,
)
from forms.publishing import current_version, form_checksum, form_of, publish_form, versions_of
from forms.webforms import UploadForm, page_form_class
from forms.xlsform import SUFFIXES, read_xlsform, write_xlsform
from minsheng.accounts.permissions import access, require_role
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from minsheng.headers import CONTENT_SECURITY_POLICY
from minsheng.web import commit_or_show, label_language
from questionnaire.logic import expression_problems
from questionnaire.schema import Form, text_in

bp = Blueprint("forms_staff", __name__, template_folder="templates")

#: The editor posts one field per cell: a questionnaire of a few hundred rows holds thousands.
MAX_EDITOR_FIELDS = 100_000
#: The preview is framed by the editor, and by nothing else.
PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


def _title(campaign: Campaign) -> str:
    return text_in(campaign.title, label_language(), "zh")


@bp.route("/campaigns/<slug>/questionnaire", methods=["GET", "POST"])
@access("campaign:organizer")
def editor(slug: str) -> ResponseReturnValue:
    """The questionnaire as XLSForm tables; posting publishes them (a new version when changed:
    versions with responses are never edited)."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    version = current_version(session, campaign)
    form = FlaskForm()
    tables = editor_tables(form_of(version) if version else None)
    if request.method == "POST":
        request.max_form_parts = MAX_EDITOR_FIELDS
        tables = posted_tables(request.form)
    if form.validate_on_submit():

        def publish() -> int:
            edited = form_of_tables(tables)
            return publish_form(session, campaign, edited, actor_id=current_user.id).number

        before = version.number if version else 0
        number = commit_or_show(session, form, publish)
        if number is not None:
            if number == before:
                flash(_("Nothing changed: version %(n)s stays current.", n=number), "info")
            else:
                flash(_("Version %(n)s is published.", n=number), "info")
            return redirect(url_for("forms_staff.editor", slug=slug))
    return _editor_page(campaign, tables, form)


def _editor_page(campaign: Campaign, tables: Any, form: FlaskForm) -> ResponseReturnValue:
    session = get_session()
    versions = versions_of(session, campaign)
    return render_template(
        "forms/editor.html",
        campaign=campaign,
        title=_title(campaign),
        tables=tables,
        names=names_in(tables),
        expression_columns=EXPRESSION_COLUMNS,
        form=form,
        upload=UploadForm(),
        lines=version_lines(session, campaign),
        changed=changed_questions(versions),
        text_in=text_in,
        suffixes=", ".join(SUFFIXES),
    ), 422 if form.errors else 200


@bp.route("/campaigns/<slug>/questionnaire/preview", methods=["POST"])
@access("campaign:organizer")
def preview(slug: str) -> ResponseReturnValue:
    """The edited tables as a respondent would see them, every page at once with its skip logic
    live, in the language asked for; framed at phone width by the editor. Nothing is stored."""
    campaign = get_campaign_or_404(slug)
    request.max_form_parts = MAX_EDITOR_FIELDS
    language = "en" if request.form.get("preview_language") == "en" else "zh_CN"
    problems: list[str] = []
    pages: list[dict[str, Any]] = []
    form: Form | None = None
    try:
        form = form_of_tables(posted_tables(request.form))
    except InputError as exc:
        problems = [str(p) for p in exc.problems]
    with force_locale(language):
        if form is not None:
            checksum = form_checksum(form)
            for index, (group, items) in enumerate(form.pages()):
                webform = page_form_class(form, checksum, index, language)(formdata=None)
                pages.append(
                    {
                        "group": group,
                        "nodes": items,
                        "webform": webform,
                        "hidden": page_logic(form, index, {}).hidden,
                    }
                )
        page = render_template(
            "forms/preview.html",
            campaign=campaign,
            title=_title(campaign),
            form=form,
            pages=pages,
            problems=problems,
            language=language,
            logic={"logic": form.logic_json, "answers": {}, "today": ""} if form else None,
            text_in=text_in,
        )
    response = Response(page, status=422 if problems else 200, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/campaigns/<slug>/questionnaire/check", methods=["POST"])
@access("campaign:organizer")
def check_expression(slug: str) -> ResponseReturnValue:
    """One expression checked as the editor types it: `{"problems": [{"message", "position"}]}`
    from the parser and checks the server applies on publishing."""
    get_campaign_or_404(slug)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {"errors": [{"location": "", "message": "expected a JSON object"}]}, 400
    key = str(body.get("column") or "")
    if key not in EXPRESSION_COLUMNS:
        return {
            "errors": [
                {
                    "location": "column",
                    "message": f"got {key!r}; expected one of {', '.join(EXPRESSION_COLUMNS)}",
                }
            ]
        }, 422
    text = str(body.get("expression") or "")
    if not text.strip():
        return {"problems": []}
    found = expression_problems(
        text,
        key,
        [str(n) for n in body.get("questions") or [] if isinstance(n, str)],
        [str(n) for n in body.get("groups") or [] if isinstance(n, str)],
        [str(n) for n in body.get("columns") or [] if isinstance(n, str)],
    )
    return {"problems": [{"message": p.message, "position": p.position} for p in found]}


@bp.route("/campaigns/<slug>/questionnaire/upload", methods=["POST"])
@access("campaign:organizer")
def upload_xlsform(slug: str) -> ResponseReturnValue:
    """Publish an uploaded XLSForm workbook, read as `minsheng form import` reads it."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    upload = UploadForm()
    if not upload.validate_on_submit():
        return redirect(url_for("forms_staff.editor", slug=slug))
    posted = request.files.get("file")
    name = secure_filename(posted.filename or "") if posted else ""
    before = current_version(session, campaign)
    form = FlaskForm()

    def publish() -> int:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / (name or "upload")
            if posted is None or not name:
                raise InputError([Problem("file", "choose an XLSForm file to upload")])
            posted.save(path)
            imported = read_xlsform(path)
        return publish_form(session, campaign, imported.form, actor_id=current_user.id).number

    number = commit_or_show(session, form, publish)
    if number is not None:
        if before is not None and number == before.number:
            flash(_("The workbook is the current questionnaire: nothing changed."), "info")
        else:
            flash(_("Version %(n)s is published from %(file)s.", n=number, file=name), "info")
        return redirect(url_for("forms_staff.editor", slug=slug))
    tables = editor_tables(form_of(before) if before else None)
    return _editor_page(campaign, tables, form)


@bp.route("/campaigns/<slug>/questionnaire.xlsx")
@access("campaign:organizer")
def download_xlsform(slug: str) -> ResponseReturnValue:
    """The current questionnaire as an .xlsx XLSForm (`minsheng form export`)."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    version = current_version(session, campaign)
    if version is None:
        flash(_("There is no questionnaire to download yet."), "error")
        return redirect(url_for("forms_staff.editor", slug=slug))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.xlsx"
        write_xlsform(form_of(version), path)
        data = path.read_bytes()
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{slug}-v{version.number}.xlsx"'},
    )


@bp.route("/campaigns/<slug>/campaign.yaml")
@access("campaign:organizer")
def download_campaign_file(slug: str) -> ResponseReturnValue:
    """The campaign file (`minsheng campaign dump`), loadable by the CLI or the import page."""
    campaign = get_campaign_or_404(slug)
    return Response(
        campaign_file_text(get_session(), campaign),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'},
    )


@bp.route("/campaigns/<slug>/duplicate", methods=["GET", "POST"])
@access("campaign:organizer")
def duplicate(slug: str) -> ResponseReturnValue:
    """A new draft campaign copied from this one (settings, questionnaire), owned by its maker."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = DuplicateForm()
    if form.validate_on_submit():
        copy = commit_or_show(
            session,
            form,
            lambda: duplicate_campaign(
                session, campaign, form.slug.data or "", form.title_zh.data or "", current_user
            ),
        )
        if copy is not None:
            flash(_("The copy is created as a draft."), "info")
            return redirect(url_for("campaigns.settings", slug=copy.slug))
    return render_template(
        "forms/duplicate.html", campaign=campaign, title=_title(campaign), form=form
    ), 422 if form.errors else 200


@bp.route("/campaigns/import", methods=["GET", "POST"])
@require_role("organizer")
def import_campaign() -> ResponseReturnValue:
    """Create or update a campaign from an uploaded campaign file (`minsheng campaign load`)."""
    session = get_session()
    form = UploadForm()
    if form.validate_on_submit():
        posted = request.files.get("file")

        def load() -> tuple[Campaign, bool]:
            if posted is None or not posted.filename:
                raise InputError([Problem("file", "choose a campaign file (.yaml) to upload")])
            raw = posted.stream.read(MAX_CAMPAIGN_FILE + 1)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError([Problem("file", "the file is not UTF-8 text")]) from None
            return import_campaign_text(session, text, posted.filename, current_user)

        loaded = commit_or_show(session, form, load)
        if loaded is not None:
            campaign, created = loaded
            flash(
                _("The campaign is created as a draft.")
                if created
                else _("The campaign is updated from the file."),
                "info",
            )
            return redirect(url_for("campaigns.settings", slug=campaign.slug))
    return render_template(
        "forms/import_campaign.html", form=form, title=_("Import a campaign file")
    ), 422 if form.errors else 200
