"""Respondent pages: the questionnaire behind a campaign's public link, and the thank-you page."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from campaigns.store import get_campaign
from forms.ingest import IngestError, Submission, submit_response
from forms.publishing import current_version, form_of
from forms.schema import text_in
from forms.webforms import build_form_class, raw_answers
from minsheng.accounts.permissions import public
from minsheng.db import get_session
from minsheng.errors import InputError

bp = Blueprint("forms", __name__, template_folder="templates")


def _started_at(value: str | None) -> datetime | None:
    try:
        started = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return started if started.tzinfo else None


@bp.route("/s/<slug>", methods=["GET", "POST"])
@public
def respond(slug: str) -> ResponseReturnValue:
    """The public link of a campaign. A POST is stored and committed before the redirect to the
    thank-you page; the hidden submission id makes a repeated POST store nothing new."""
    session = get_session()
    campaign = get_campaign(session, slug)
    version = current_version(session, campaign) if campaign else None
    if campaign is None or version is None:
        abort(404, description="No such questionnaire.")
    language = str(get_locale() or "zh_CN")
    form = form_of(version)
    webform = build_form_class(form, language)()
    if request.method == "GET":
        webform.submission_id.data = uuid.uuid4().hex
        webform.started_at.data = datetime.now().astimezone().isoformat()
    status = 200
    closed = False
    if webform.validate_on_submit():
        submission = Submission(
            submission_id=webform.submission_id.data or "",
            channel="web",
            language=language,
            started_at=_started_at(webform.started_at.data),
        )
        try:
            submit_response(session, campaign, version, raw_answers(webform, form), submission)
            session.commit()
            return redirect(url_for("forms.thanks", slug=slug))
        except InputError as exc:
            session.rollback()
            for name, messages in exc.by_location().items():
                if name in webform:
                    webform[name].errors = list(messages)
            status = 422
        except IngestError:
            session.rollback()
            closed = True
            status = 409
    elif request.method == "POST":
        status = 400
    return render_template(
        "forms/respond.html",
        campaign=campaign,
        form=form,
        webform=webform,
        language=language,
        title=text_in(campaign.title, language, "zh"),
        closed=closed,
        text_in=text_in,
    ), status


@bp.route("/s/<slug>/thanks")
@public
def thanks(slug: str) -> ResponseReturnValue:
    session = get_session()
    campaign = get_campaign(session, slug)
    if campaign is None:
        abort(404)
    language = str(get_locale() or "zh_CN")
    return render_template("forms/thanks.html", title=text_in(campaign.title, language, "zh"))
