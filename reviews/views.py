"""Review pages: the expert's queue and scoring form, and the organizer's overview (experts,
round, agreement, ranking, nominations, golden ideas, annotations)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaigns.models import Campaign
from campaigns.web import campaign_title, get_campaign_or_404
from minsheng.accounts.models import User
from minsheng.accounts.permissions import access, public, require_role
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.limits import requested_page
from minsheng.web import commit_or_show, flash_form_errors, label_language, moved_to
from questionnaire.schema import text_in
from reviews.annotations import annotate, campaign_annotations
from reviews.experts import (
    assign_expert,
    campaign_experts,
    close_review_round,
    expert_campaigns,
    reopen_review_round,
    round_is_open,
)
from reviews.golden_ideas import choose_golden_ideas, nominate, ranking
from reviews.models import CRITERIA
from reviews.scoring import campaign_agreement, expert_score, score_suggestion, scored_keys
from reviews.suggestions import campaign_suggestions, get_suggestion, text_questions
from reviews.webforms import (
    AnnotationForm,
    AssignExpertForm,
    GoldenIdeaForm,
    NominationForm,
    RoundForm,
    ScoreForm,
)

bp = Blueprint("reviews", __name__, template_folder="templates")
PAGE_SIZE = 50


@bp.route("/reviews/")
@require_role("expert")
def index() -> ResponseReturnValue:
    """The campaigns the expert reviews, with how many suggestions are still to score."""
    session = get_session()
    rows = []
    for campaign in expert_campaigns(session, current_user):
        total = len(campaign_suggestions(session, campaign))
        done = len(scored_keys(session, campaign, current_user))
        rows.append((campaign, campaign_title(campaign), total, done))
    return render_template("reviews/index.html", rows=rows)


@bp.route("/campaigns/<slug>/reviews/queue")
@access("campaign:review")
def queue(slug: str) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    return _queue_page(campaign, _annotation_form(campaign))


def _queue_page(campaign: Campaign, annotation_form: AnnotationForm) -> str:
    """The suggestions to score, those not scored yet first, 50 a page, and the annotation
    form (a refused one with what was typed)."""
    session = get_session()
    done = scored_keys(session, campaign, current_user)
    suggestions = sorted(campaign_suggestions(session, campaign), key=lambda s: s.key in done)
    page = requested_page(max(1, -(-len(suggestions) // PAGE_SIZE)))
    shown = suggestions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "reviews/queue.html",
        campaign=campaign,
        suggestions=shown,
        done=done,
        page=page,
        pages=max(1, -(-len(suggestions) // PAGE_SIZE)),
        remaining=sum(1 for s in suggestions if s.key not in done),
        open=round_is_open(session, campaign),
        annotation_form=annotation_form,
        lang=label_language(),
        text_in=text_in,
    )


@bp.route(
    "/campaigns/<slug>/reviews/suggestions/<int:response_id>/<question>", methods=["GET", "POST"]
)
@access("campaign:review")
def score(slug: str, response_id: int, question: str) -> ResponseReturnValue:
    """Score one suggestion; the form shows the expert's earlier score while the round is open."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    try:
        suggestion = get_suggestion(session, campaign, response_id, question)
    except InputError as exc:
        abort(404, description=str(exc))
    existing = expert_score(session, current_user, response_id, question)
    form = ScoreForm()
    if request.method == "GET" and existing is not None:
        for name in CRITERIA:
            getattr(form, name).data = str(getattr(existing, name))
        form.comment.data = existing.comment
    if form.validate_on_submit():
        commit_or_show(
            session,
            form,
            lambda: score_suggestion(
                session,
                campaign,
                current_user,
                response_id,
                question,
                {name: getattr(form, name).data for name in CRITERIA},
                form.comment.data or "",
            ),
        )
        if not form.errors:
            flash(_("Your score has been saved."), "info")
            return redirect(url_for("reviews.queue", slug=slug))
    return render_template(
        "reviews/score.html",
        campaign=campaign,
        suggestion=suggestion,
        question_label=text_in(suggestion.question_label, label_language(), "zh"),
        form=form,
        open=round_is_open(session, campaign),
    ), 422 if form.errors else 200


def _annotation_form(campaign: Campaign) -> AnnotationForm:
    form = AnnotationForm(prefix="annotation")
    # analysis.loading loads pandas; only this lookup needs it (issue 10).
    from analysis.frames import NoQuestionnaireError
    from analysis.loading import campaign_form

    try:
        questions = list(campaign_form(get_session(), campaign).questions())
    except NoQuestionnaireError:
        questions = []
    form.question.choices = [
        SelectChoice(q.name, text_in(q.label, label_language(), "zh") or q.name)
        for q in questions
        if q.type not in ("note", "calculate", "start", "end", "today")
    ]
    return form


@bp.route("/campaigns/<slug>/reviews/annotations", methods=["POST"])
@access("campaign:annotate")
def add_annotation(slug: str) -> ResponseReturnValue:
    """Add an annotation from the expert's queue or the organizer's overview; a refused one is
    shown again on the page it came from, with what was typed."""
    session = get_session()
    expert = current_user.role == "expert"
    campaign = get_campaign_or_404(slug)
    form = _annotation_form(campaign)
    if form.validate_on_submit():
        commit_or_show(
            session,
            form,
            lambda: annotate(
                session, campaign, current_user, form.question.data, form.text.data or ""
            ),
        )
        if not form.errors:
            flash(_("Your annotation has been added."), "info")
            return redirect(url_for("reviews.queue" if expert else "reviews.overview", slug=slug))
    if expert:
        return _queue_page(campaign, form), 422
    return _overview_page(campaign, annotation_form=form), 422


@bp.route("/campaigns/<slug>/reviews")
@access("campaign:organizer")
def overview(slug: str) -> ResponseReturnValue:
    return _overview_page(get_campaign_or_404(slug))


def _overview_page(campaign: Campaign, **refused: FlaskForm) -> str:
    """Experts, round, agreement per criterion, the ranking and the golden ideas; a form that was
    posted and refused (`refused`, by name) shows what was typed with its problems."""
    session = get_session()
    forms: dict[str, FlaskForm] = {
        "assign_form": AssignExpertForm(prefix="assign"),
        "round_form": RoundForm(prefix="round"),
        "annotation_form": _annotation_form(campaign),
        "nomination_form": _nomination_form(campaign),
        "golden_form": GoldenIdeaForm(prefix="golden"),
        **refused,
    }
    return render_template(
        "reviews/overview.html",
        campaign=campaign,
        experts=campaign_experts(session, campaign),
        open=round_is_open(session, campaign),
        agreement=campaign_agreement(session, campaign),
        ranked=ranking(session, campaign),
        annotations=campaign_annotations(session, campaign),
        **forms,
    )


@bp.route("/campaigns/<slug>/reviews/experts", methods=["POST"])
@access("campaign:organizer")
def add_expert(slug: str) -> ResponseReturnValue:
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = AssignExpertForm(prefix="assign")
    if form.validate_on_submit():
        expert = session.scalar(select(User).where(User.username == form.username.data))
        if expert is None:
            form.username.errors.append(_("No user %(name)s.", name=form.username.data))
        else:
            commit_or_show(
                session,
                form,
                lambda: assign_expert(session, campaign, expert, current_user.id),
                {"expert": "username"},
            )
        if not form.errors:
            flash(_("%(name)s now reviews this campaign.", name=form.username.data), "info")
            return redirect(url_for("reviews.overview", slug=slug))
    return _overview_page(campaign, assign_form=form), 422


@bp.route("/campaigns/<slug>/reviews/round", methods=["POST"])
@access("campaign:organizer")
def change_round(slug: str) -> ResponseReturnValue:
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = RoundForm(prefix="round")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("reviews.overview", slug=slug))
    if form.action.data not in ("close", "reopen"):
        abort(400, description=f"action {form.action.data!r}: expected 'close' or 'reopen'")
    if form.action.data == "close":
        close_review_round(session, campaign, current_user.id)
    else:
        reopen_review_round(session, campaign, current_user.id)
    session.commit()
    return redirect(url_for("reviews.overview", slug=slug))


def _nomination_form(campaign: Campaign) -> NominationForm:
    form = NominationForm(prefix="nominate")
    form.question_name.choices = [
        SelectChoice(q.name, q.name) for q in text_questions(get_session(), campaign)
    ]
    return form


@bp.route("/campaigns/<slug>/reviews/nominations", methods=["POST"])
@access("campaign:organizer")
def add_nomination(slug: str) -> ResponseReturnValue:
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = _nomination_form(campaign)
    if form.validate_on_submit():
        commit_or_show(
            session,
            form,
            lambda: nominate(
                session,
                campaign,
                form.response_id.data or 0,
                form.question_name.data or "",
                current_user.id,
                form.reason.data or "",
            ),
            {"response": "response_id", "question": "question_name"},
        )
        if not form.errors:
            flash(_("The suggestion has been nominated."), "info")
            return redirect(url_for("reviews.overview", slug=slug))
    return _overview_page(campaign, nomination_form=form), 422


@bp.route("/campaigns/<slug>/reviews/golden-ideas", methods=["POST"])
@access("campaign:organizer")
def add_golden_idea(slug: str) -> ResponseReturnValue:
    """The panel's decision on one nomination; a refused one comes back in its row."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = GoldenIdeaForm(prefix="golden")
    if form.validate_on_submit():
        nomination_id = form.nomination_id.data or 0
        commit_or_show(
            session,
            form,
            lambda: choose_golden_ideas(
                session, campaign, {nomination_id: form.citation.data or ""}, current_user.id
            ),
            {f"nomination {nomination_id}": "citation"},
        )
        if not form.errors:
            flash(_("The golden idea has been recorded."), "info")
            return redirect(url_for("reviews.overview", slug=slug))
    return _overview_page(campaign, golden_form=form), 422


@bp.route("/reviews/campaigns/<slug>", defaults={"rest": ""}, methods=["GET", "POST"])
@bp.route("/reviews/campaigns/<slug>/<path:rest>", methods=["GET", "POST"])
@public
def old_campaign_url(slug: str, rest: str) -> ResponseReturnValue:
    """The review pages of a campaign moved under `/campaigns/<slug>/reviews`."""
    return moved_to(f"/campaigns/{slug}/reviews" + (f"/{rest}" if rest else ""))
