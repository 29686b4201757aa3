"""The respondent page flow: a questionnaire page by page behind a public link, a QR poster or an
invitation, with drafts, resume codes, and the last page handed to `forms.ingest.submit`.

The flow works without JavaScript: every page is a form that posts its answers with a `nav`
button (back / next / save / submit); the server saves the draft, validates the page and redirects
to the next page. The script on the page only shows and hides questions live. `forms.views` only
routes the URLs here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from campaigns.lifecycle import is_accepting
from campaigns.models import Campaign
from campaigns.web import campaign_title, get_campaign_or_404
from forms.drafts import (
    draft_by_code,
    draft_by_invitation,
    merge_answers,
    page_logic,
    page_problems,
    page_with_problem,
    save_page,
    shown_pages,
    start_draft,
    submission_of,
)
from forms.ingest import (
    OpenQuestionnaire,
    Outcome,
    Submission,
    collection_point_of,
    open_questionnaire,
    submit,
)
from forms.models import Draft, QuestionnaireVersion
from forms.provenance import HONEYPOT_FIELD, address_hash, signed_start, start_token
from forms.publishing import current_version, form_of
from forms.validation import text_problems
from forms.webforms import (
    RespondentForm,
    initial_data,
    page_field_names,
    page_form_class,
    page_questions,
    posted_answers,
)
from invitations.tokens import mark_started, resolve_invitation
from minsheng.db import utcnow
from minsheng.errors import Problem
from minsheng.i18n import select_locale
from questionnaire.schema import Form, Group, Question, text_in

DRAFTS_KEY = "drafts"  # cookie session: {campaign slug: resume code}


@dataclass
class Visit:
    """One respondent's way into a questionnaire: the public link (channel `web`), a collection
    point's QR poster (`qr`, from `?p=<code>`) or an invitation link (`invitation`)."""

    campaign: Campaign
    version: QuestionnaireVersion
    draft: Draft | None
    channel: str
    collection_point_id: int | None = None
    invitation_id: int | None = None
    point_code: str | None = None
    resume_code: str | None = None
    token: str | None = None
    found: OpenQuestionnaire | None = None  # this request's lookup, handed to `submit`

    @property
    def form(self) -> Form:
        return form_of(self.version)

    def url(self, **params: Any) -> str:
        if self.token:
            return url_for("forms.respond_invitation", token=self.token, **params)
        if self.point_code:
            params["p"] = self.point_code
        return url_for("forms.respond", slug=self.campaign.slug, **params)


def _language() -> str:
    """The page language as stored with answers: `zh_CN` or `en` (`?lang=`, remembered)."""
    return select_locale()


def public_link(session: Session, slug: str) -> ResponseReturnValue:
    """A page of the public link, continuing the draft whose resume code this browser keeps; an
    unknown `?p=` code is answered as the plain link (channel `web`), never refused."""
    code = cookie.get(DRAFTS_KEY, {}).get(slug)
    # A one-post submission (no draft) may use the cached campaign: the INSERT re-checks it.
    one_post = request.method == "POST" and request.form.get("nav") == "submit" and not code
    found = open_questionnaire(session, slug, snapshot=one_post)
    if found is None:
        abort(404, description="No such questionnaire.")
    campaign, version = found.campaign, found.version
    draft = draft_by_code(session, campaign, code)
    if draft is not None and draft.response_id is not None:
        _forget_code(slug)
        draft = code = None
    if draft is not None and (version is None or draft.version_id != version.id):
        version = session.get(QuestionnaireVersion, draft.version_id)
    if version is None:
        abort(404, description="This campaign has no questionnaire yet.")
    point = collection_point_of(session, campaign, request.args.get("p"))
    visit = Visit(
        campaign=campaign,
        version=version,
        draft=draft,
        channel="qr" if point else "web",
        collection_point_id=point.id if point else None,
        point_code=point.code if point else None,
        resume_code=code if draft else None,
        found=found,
    )
    return _questionnaire(session, visit)


def invitation_link(session: Session, token: str) -> ResponseReturnValue:
    """A page of an invitation link: its draft is found by the invitation, the first view marks
    the invitation started, and once completed the link only thanks."""
    invitation = resolve_invitation(session, token)
    campaign = session.get(Campaign, invitation.campaign_id) if invitation else None
    if invitation is None or campaign is None:
        abort(404, description="This invitation link is not valid or has expired.")
    title = campaign_title(campaign)
    if invitation.status == "completed":
        return render_template("forms/thanks.html", title=title, already=True, slug=campaign.slug)
    draft = draft_by_invitation(session, invitation.id)
    version = (
        session.get(QuestionnaireVersion, draft.version_id)
        if draft is not None
        else current_version(session, campaign)
    )
    if version is None:
        abort(404, description="This campaign has no questionnaire yet.")
    if request.method == "GET" and invitation.status != "started":
        mark_started(session, invitation)
        session.commit()
    visit = Visit(
        campaign=campaign,
        version=version,
        draft=draft,
        channel="invitation",
        invitation_id=invitation.id,
        token=token,
    )
    return _questionnaire(session, visit)


def _forget_code(slug: str) -> None:
    codes = dict(cookie.get(DRAFTS_KEY, {}))
    if codes.pop(slug, None) is not None:
        cookie[DRAFTS_KEY] = codes


def _remember_code(slug: str, code: str) -> None:
    cookie[DRAFTS_KEY] = {**cookie.get(DRAFTS_KEY, {}), slug: code}
    cookie.permanent = True  # a respondent may come back days later on the same phone


def _questionnaire(session: Session, visit: Visit) -> ResponseReturnValue:
    """Show a page (GET) or take a page's answers (POST); shared by every way in."""
    if request.method == "GET" and not is_accepting(visit.campaign, utcnow().date()):
        # Say so before anyone starts answering, not after the last page (a saved draft is kept
        # for when a paused campaign resumes).
        return render_template(
            "forms/not_accepting.html",
            campaign=visit.campaign,
            title=campaign_title(visit.campaign),
            has_draft=visit.draft is not None,
            today=utcnow().date(),
        )
    if request.method == "GET":
        answers = dict(visit.draft.answers) if visit.draft else {}
        requested = request.args.get("page", type=int)
        if requested is None:
            requested = visit.draft.page if visit.draft else 0
        shown = shown_pages(visit.form, answers)
        index = next((p for p in shown if p >= requested), shown[-1])
        return _render(visit, index, answers, _fresh_page_form(visit, index, answers))
    return _take_page(session, visit)


def _fresh_page_form(visit: Visit, index: int, answers: dict[str, Any]) -> RespondentForm:
    form = visit.form
    cls = page_form_class(form, visit.version.checksum, index, _language())
    webform = cls(formdata=None, data=initial_data(form, index, answers))
    webform.submission_id.data = visit.draft.submission_id if visit.draft else uuid.uuid4().hex
    webform.started_at.data = start_token(
        current_app.secret_key or "", webform.submission_id.data, utcnow()
    )
    webform.page.data = str(index)
    return webform


def _take_page(session: Session, visit: Visit) -> ResponseReturnValue:
    # The CSRF token was checked for every POST by CSRFProtect (minsheng.app) before this view;
    # the answers are read straight from the post, and the WTForms form is only built to show
    # the page again.
    form = visit.form
    last = len(form.pages()) - 1
    index = min(max(_int(request.form.get("page")), 0), last)
    names = page_field_names(form, index)
    base = visit.draft.answers if visit.draft else {}
    answers = merge_answers(base, posted_answers(form, index, request.form), names)
    nav = request.form.get("nav", "next")
    shown = shown_pages(form, answers)
    earlier = [p for p in shown if p < index]
    later = [p for p in shown if p > index]
    # Even a draft that is only saved must not hold text that breaks or swells later pages.
    problems = text_problems(form, answers, names, _language()) if nav in ("back", "save") else []
    if problems:
        webform = _posted_form(visit, index)
        _put_errors(webform, problems)
        return _render(visit, index, answers, webform), 422
    if nav == "back":
        _save(session, visit, answers, names, earlier[-1] if earlier else index)
        return redirect(visit.url(page=earlier[-1] if earlier else index))
    if nav == "save":
        _save(session, visit, answers, names, index)
        if request.headers.get("X-Autosave"):
            return "", 204  # the page's script saving in the background
        return _render(visit, index, answers, _posted_form(visit, index), saved=True)
    if later:
        problems = page_problems(form, answers, names, _language())
        if problems:
            webform = _posted_form(visit, index)
            _put_errors(webform, problems)
            return _render(visit, index, answers, webform), 422
        _save(session, visit, answers, names, later[0])
        return redirect(visit.url(page=later[0]))
    return _submit(session, visit, answers, names, index)


def _posted_form(visit: Visit, index: int) -> RespondentForm:
    """The page's form filled with what was just posted (to show it again)."""
    return page_form_class(visit.form, visit.version.checksum, index, _language())()


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _save(
    session: Session,
    visit: Visit,
    answers: dict[str, Any],
    names: list[str],
    page: int,
) -> Draft:
    """Autosave: create the draft on the first save, store the page, commit."""
    if visit.draft is None:
        draft, code = start_draft(session, visit.campaign, visit.version, _submission(visit))
        visit.draft = draft
        if code:
            visit.resume_code = code
            _remember_code(visit.campaign.slug, code)
    save_page(visit.draft, answers, names, page)
    visit.draft.language = _language()
    session.commit()
    return visit.draft


def _submission(visit: Visit) -> Submission:
    """The submission of this post. Its start is the one the page was served with, signed
    (`forms.provenance`); a post without a valid one never loaded this page as served, so it is
    timed from its own arrival: as fast as a submission can be, which the speeder rule flags."""
    submission_id = request.form.get("submission_id") or uuid.uuid4().hex
    secret = current_app.secret_key or ""
    started = signed_start(secret, request.form.get("started_at"), submission_id)
    return _with_origin(
        Submission(
            submission_id=submission_id,
            channel=visit.channel,
            language=_language(),
            started_at=started or utcnow(),
            invitation_id=visit.invitation_id,
            collection_point_id=visit.collection_point_id,
        )
    )


def _with_origin(submission: Submission) -> Submission:
    """The submission with what this request says of its origin: the keyed hash of the client
    address and whether the honeypot field came back filled (on the last page, the one that
    counts: the response is stored and thanked alike, and left out by the quality screen)."""
    return replace(
        submission,
        address_hash=address_hash(
            current_app.secret_key or "", request.remote_addr, utcnow().date()
        ),
        honeypot=bool(request.form.get(HONEYPOT_FIELD, "").strip()),
    )


def _submit(
    session: Session,
    visit: Visit,
    answers: dict[str, Any],
    names: list[str],
    index: int,
) -> ResponseReturnValue:
    """The last page: `forms.ingest.submit` stores and commits the response, then the
    respondent is sent to the thank-you page."""
    if visit.draft is not None:
        save_page(visit.draft, answers, names, index)
        visit.draft.language = _language()
        submission = _with_origin(submission_of(visit.draft))
    else:
        submission = _submission(visit)
    done = submit(
        session, visit.campaign.slug, answers, submission, draft=visit.draft, found=visit.found
    )
    if done.outcome is Outcome.INVALID:
        page = page_with_problem(visit.form, done.problems, default=index)
        if page != index:
            # Keep what was typed here, then show the earlier page that needs fixing.
            _save(session, visit, answers, names, page)
            webform = _fresh_page_form(visit, page, answers)
        else:
            webform = _posted_form(visit, index)
        _put_errors(webform, done.problems)
        return _render(visit, page, answers, webform), 422
    if done.outcome is Outcome.NOT_FOUND:
        abort(404, description="This campaign has no questionnaire yet.")
    if not done.accepted:
        quota_full = done.outcome is Outcome.QUOTA_FULL
        webform = _posted_form(visit, index)
        return _render(
            visit, index, answers, webform, closed=done.message, quota_full=quota_full
        ), 409
    if visit.invitation_id is None:
        _forget_code(visit.campaign.slug)
    return redirect(url_for("forms.thanks", slug=visit.campaign.slug))


def _put_errors(webform: RespondentForm, problems: Sequence[Problem]) -> None:
    for problem in problems:
        if problem.location in webform:
            webform[problem.location].errors = [
                *webform[problem.location].errors,
                problem.message,
            ]


def _render(
    visit: Visit,
    index: int,
    answers: dict[str, Any],
    webform: RespondentForm,
    saved: bool = False,
    closed: str | None = None,
    quota_full: bool = False,
) -> str:
    form = visit.form
    language = _language()
    shown = shown_pages(form, answers)
    position = shown.index(index) if index in shown else 0
    group, items = form.pages()[index]
    logic = page_logic(form, index, answers)
    for name, choices in logic.choices.items():
        if name in webform:
            webform[name].choices = choices_for_field(webform[name].choices, choices)
    _order_choices(form, webform, items)
    return render_template(
        "forms/respond.html",
        visit=visit,
        campaign=visit.campaign,
        form=form,
        webform=webform,
        language=language,
        title=visit.campaign.title_in(language),
        group=group,
        items=items,
        page=index,
        position=position,
        page_count=len(shown),
        first=position == 0,
        last=position == len(shown) - 1,
        hidden=logic.hidden,
        logic=logic.script_data,
        saved=saved,
        closed=closed,
        quota_full=quota_full,
        text_in=text_in,
        honeypot=HONEYPOT_FIELD,
    )


def _order_choices(form: Form, webform: RespondentForm, items: list[Question | Group]) -> None:
    """Shuffle the choices of questions with `randomize=true`, seeded by the submission id, so
    the respondent sees the same order on every visit and the stored id records it."""
    seed = webform.submission_id.data or ""
    for question in page_questions(items):
        if question.name not in webform or "randomize" not in question.parameters:
            continue
        order = {c.name: i for i, c in enumerate(form.ordered_choices(question, seed))}
        webform[question.name].choices = sorted(
            webform[question.name].choices,
            key=lambda c: (c.value == "other", order.get(c.value, -1)),
        )


def choices_for_field(current: Any, allowed: set[str]) -> list[Any]:
    """Keep the options whose name passes the cascading filter (and "other")."""
    return [c for c in current if c.value in allowed or c.value in ("", "other")]


def resume_page(session: Session, slug: str) -> ResponseReturnValue:
    """The resume form: a code of this campaign's unsubmitted draft is remembered in this
    browser and leads to the draft's page; an unknown code is 404, a submitted one 409."""
    campaign = get_campaign_or_404(slug, "No such questionnaire.")
    error = None
    status = 200
    if request.method == "POST":
        code = request.form.get("code", "")
        draft = draft_by_code(session, campaign, code)
        if draft is not None and draft.response_id is None:
            _remember_code(slug, code.strip().upper())
            return redirect(url_for("forms.respond", slug=slug, page=draft.page))
        error = True
        status = 404 if draft is None else 409
    language = _language()
    return render_template(
        "forms/resume.html",
        campaign=campaign,
        title=campaign.title_in(language),
        error=error,
        status=status,
    ), status


def thanks_page(slug: str) -> ResponseReturnValue:
    """The page after a stored response (the response is committed before it is shown)."""
    campaign = get_campaign_or_404(slug, "No such questionnaire.")
    return render_template("forms/thanks.html", title=campaign_title(campaign), slug=slug)
