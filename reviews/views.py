"""Review pages: the expert's queue and scoring page (anchors, keyboard, save and next, peers'
scores and discussion after one's own), nominations by units, and the organizer's overview
(round settings, rubric, assignment and progress, agreement, ranking, golden ideas)."""

from __future__ import annotations

from typing import Any

import yaml
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
from minsheng.errors import InputError, Problem
from minsheng.limits import requested_page
from minsheng.web import commit_or_show, flash_form_errors, label_language, moved_to, show_problems
from questionnaire.schema import text_in
from reviews.access import holds_item
from reviews.annotations import annotate, campaign_annotations
from reviews.assignment import assign_reviews, mark_overdue, step_down, task_of
from reviews.experts import (
    assign_expert,
    close_review_round,
    configure_round,
    expert_campaigns,
    reopen_review_round,
    review_round,
    round_is_open,
    set_expert_profile,
    start_review_round,
)
from reviews.golden_ideas import choose_golden_ideas, nominate_suggestion
from reviews.models import ReviewTask, Suggestion
from reviews.progress import expert_progress, overview_facts, queue_page
from reviews.rubrics import rubric_spec, save_rubric
from reviews.scoring import discussion, latest_review, peer_scores, post_discussion, submit_review
from reviews.webforms import (
    AnnotationForm,
    AssignExpertForm,
    AssignItemsForm,
    DiscussionForm,
    GoldenIdeaForm,
    NominationForm,
    RoundForm,
    RoundSettingsForm,
    RubricForm,
    StepDownForm,
    score_form,
)

bp = Blueprint(
    "reviews",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/reviews/static",
)
PAGE_SIZE = 25


@bp.route("/reviews/")
@require_role("expert")
def index() -> ResponseReturnValue:
    """The campaigns the expert reviews, with how many assigned suggestions are scored."""
    session = get_session()
    rows = []
    for campaign in expert_campaigns(session, current_user):
        progress = expert_progress(session, campaign, current_user)
        rows.append((campaign, campaign_title(campaign), progress))
    return render_template("reviews/index.html", rows=rows)


@bp.route("/campaigns/<slug>/reviews/queue")
@access("campaign:review")
def queue(slug: str) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    return _queue_page(campaign, _annotation_form(campaign))


def _queue_page(campaign: Campaign, annotation_form: AnnotationForm) -> str:
    """The suggestions assigned to the expert (not scored first), searchable and filtered by
    theme, 25 a page, with their progress and deadline, and the annotation form."""
    session = get_session()
    search = request.args.get("q", "").strip()[:100]
    theme = request.args.get("theme", "").strip()[:80]
    facts = queue_page(session, campaign, current_user, search, theme, PAGE_SIZE, requested_page)
    return render_template(
        "reviews/queue.html",
        campaign=campaign,
        facts=facts,
        search=search,
        theme=theme,
        open=round_is_open(session, campaign),
        annotation_form=annotation_form,
    )


def _item_or_404(campaign: Campaign, suggestion_id: int) -> Suggestion:
    item = get_session().get(Suggestion, suggestion_id)
    # Blind review: an item not assigned to this expert answers as a missing one would.
    if item is None or item.campaign_id != campaign.id or not holds_item(current_user, item):
        abort(404, description="No such suggestion in your review queue.")
    return item


def _next_item(campaign: Campaign, after: int) -> int | None:
    """The expert's next unscored item after `after` (then from the start), or None."""
    session = get_session()
    open_tasks = [
        t.suggestion_id
        for t in session.scalars(
            select(ReviewTask)
            .join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
            .where(
                Suggestion.campaign_id == campaign.id,
                ReviewTask.expert_id == current_user.id,
                ReviewTask.status == "assigned",
            )
            .order_by(ReviewTask.suggestion_id)
        )
    ]
    later = [i for i in open_tasks if i > after]
    rest = later or [i for i in open_tasks if i != after]
    return rest[0] if rest else None


@bp.route("/campaigns/<slug>/reviews/items/<int:suggestion_id>", methods=["GET", "POST"])
@access("review:item")
def score(slug: str, suggestion_id: int) -> ResponseReturnValue:
    """Score one assigned suggestion against the round's rubric; saving moves to the next
    unscored one. After one's own score: the others' scores and the discussion."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    item = _item_or_404(campaign, suggestion_id)
    current = review_round(session, campaign)
    if current.rubric is None:
        abort(404, description="The review round has not started.")
    lang = label_language()
    form = score_form(current.rubric, lang)
    task = task_of(session, campaign, current_user, suggestion_id)
    existing = latest_review(session, task) if task is not None else None
    if request.method == "GET" and existing is not None:
        for key, value in existing.scores.items():
            if key in form:
                form[key].data = str(value)
        form.comment.data = existing.comment
    if form.validate_on_submit():
        values = {c.key: form[c.key].data for c in current.rubric.criteria}
        commit_or_show(
            session,
            form,
            lambda: submit_review(
                session, campaign, current_user, suggestion_id, values, form.comment.data or ""
            ),
        )
        if not form.errors:
            flash(_("Your score has been saved."), "info")
            following = _next_item(campaign, suggestion_id)
            if following is None:
                return redirect(url_for("reviews.queue", slug=slug))
            return redirect(url_for("reviews.score", slug=slug, suggestion_id=following))
    return _score_page(campaign, item, form), 422 if form.errors else 200


def _score_page(campaign: Campaign, item: Suggestion, form: FlaskForm, **forms: FlaskForm) -> str:
    session = get_session()
    current = review_round(session, campaign)
    task = task_of(session, campaign, current_user, item.id)
    lang = label_language()
    question = next((q for q in _questions(campaign) if q.name == item.question_name), None)
    return render_template(
        "reviews/score.html",
        campaign=campaign,
        item=item,
        task=task,
        question_label=text_in(question.label, lang, "zh") if question else item.question_name,
        rubric=current.rubric,
        form=form,
        criteria=[(c, form[c.key]) for c in current.rubric.criteria] if current.rubric else [],
        lang=lang,
        text_in=text_in,
        open=round_is_open(session, campaign),
        peers=peer_scores(session, campaign, current_user, item.id),
        posts=discussion(session, item.id),
        discussion_form=forms.get("discussion_form") or DiscussionForm(prefix="discuss"),
        step_down_form=forms.get("step_down_form") or StepDownForm(prefix="step"),
        next_item=_next_item(campaign, item.id),
    )


@bp.route("/campaigns/<slug>/reviews/items/<int:suggestion_id>/discussion", methods=["POST"])
@access("review:item")
def discuss(slug: str, suggestion_id: int) -> ResponseReturnValue:
    session = get_session()
    campaign = get_campaign_or_404(slug)
    item = _item_or_404(campaign, suggestion_id)
    form = DiscussionForm(prefix="discuss")
    if form.validate_on_submit():
        commit_or_show(
            session,
            form,
            lambda: post_discussion(session, campaign, current_user, item.id, form.text.data or ""),
        )
        if not form.errors:
            return redirect(
                url_for("reviews.score", slug=slug, suggestion_id=item.id) + "#discussion"
            )
    current = review_round(session, campaign)
    blank = score_form(current.rubric, label_language()) if current.rubric else FlaskForm()
    return _score_page(campaign, item, blank, discussion_form=form), 422


@bp.route("/campaigns/<slug>/reviews/items/<int:suggestion_id>/step-down", methods=["POST"])
@access("review:item")
def step_down_view(slug: str, suggestion_id: int) -> ResponseReturnValue:
    """Decline or recuse oneself from an item, with the reason; it goes to another expert."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    item = _item_or_404(campaign, suggestion_id)
    form = StepDownForm(prefix="step")
    task = task_of(session, campaign, current_user, item.id)
    if form.validate_on_submit() and task is not None:
        commit_or_show(
            session,
            form,
            lambda: step_down(
                session,
                campaign,
                task,
                current_user,
                form.status.data or "",
                form.reason.data or "",
            ),
        )
        if not form.errors:
            flash(_("The suggestion has been handed back; another expert will review it."), "info")
            return redirect(url_for("reviews.queue", slug=slug))
    current = review_round(session, campaign)
    blank = score_form(current.rubric, label_language()) if current.rubric else FlaskForm()
    return _score_page(campaign, item, blank, step_down_form=form), 422


def _questions(campaign: Campaign) -> list[Any]:
    # analysis.loading loads pandas; only this lookup needs it (issue 10).
    from analysis.frames import NoQuestionnaireError
    from analysis.loading import campaign_form

    try:
        return list(campaign_form(get_session(), campaign).questions())
    except NoQuestionnaireError:
        return []


def _annotation_form(campaign: Campaign) -> AnnotationForm:
    form = AnnotationForm(prefix="annotation")
    form.question.choices = [
        SelectChoice(q.name, text_in(q.label, label_language(), "zh") or q.name)
        for q in _questions(campaign)
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


def _settings_form(campaign: Campaign) -> RoundSettingsForm:
    current = review_round(get_session(), campaign)
    return RoundSettingsForm(
        prefix="settings",
        data={
            "reviews_per_item": current.reviews_per_item,
            "max_per_expert": current.max_per_expert,
            "working_days": current.working_days,
            "nomination_quota": current.nomination_quota,
        },
    )


def _rubric_form(campaign: Campaign) -> RubricForm:
    from reviews.rubrics import DEFAULT_RUBRIC, latest_rubric

    latest = latest_rubric(get_session(), campaign)
    spec = rubric_spec(latest) if latest else DEFAULT_RUBRIC
    return RubricForm(
        prefix="rubric",
        data={"spec": yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100)},
    )


def _overview_page(campaign: Campaign, **refused: FlaskForm) -> str:
    """Round, rubric, experts and their progress, conflicts, agreement, the ranking with
    nominations and golden ideas; a refused form (`refused`, by name) shows what was typed."""
    session = get_session()
    forms: dict[str, FlaskForm] = {
        "assign_form": AssignExpertForm(prefix="assign"),
        "round_form": RoundForm(prefix="round"),
        "settings_form": _settings_form(campaign),
        "rubric_form": _rubric_form(campaign),
        "items_form": AssignItemsForm(prefix="items"),
        "annotation_form": _annotation_form(campaign),
        "nomination_form": NominationForm(prefix="nominate"),
        "golden_form": GoldenIdeaForm(prefix="golden"),
        **refused,
    }
    return render_template(
        "reviews/overview.html",
        campaign=campaign,
        facts=overview_facts(session, campaign),
        lang=label_language(),
        text_in=text_in,
        open=round_is_open(session, campaign),
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

            def add() -> None:
                assign_expert(session, campaign, expert, current_user.id)
                if form.organisation.data or form.district.data:
                    set_expert_profile(
                        session,
                        expert,
                        form.organisation.data or "",
                        form.district.data or "",
                        current_user.id,
                    )

            commit_or_show(session, form, add, {"expert": "username"})
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
    commit_or_show(
        session,
        form,
        lambda: (
            close_review_round(session, campaign, current_user.id)
            if form.action.data == "close"
            else reopen_review_round(session, campaign, current_user.id, form.reason.data or "")
        ),
    )
    if form.errors:
        return _overview_page(campaign, round_form=form), 422
    return redirect(url_for("reviews.overview", slug=slug))


@bp.route("/campaigns/<slug>/reviews/settings", methods=["POST"])
@access("campaign:organizer")
def change_settings(slug: str) -> ResponseReturnValue:
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = RoundSettingsForm(prefix="settings")
    if form.validate_on_submit():
        commit_or_show(
            session,
            form,
            lambda: configure_round(
                session,
                campaign,
                reviews_per_item=form.reviews_per_item.data or 0,
                max_per_expert=form.max_per_expert.data,
                working_days=form.working_days.data or 0,
                nomination_quota=form.nomination_quota.data or 0,
                actor_id=current_user.id,
            ),
        )
        if not form.errors:
            flash(_("The round settings have been saved."), "info")
            return redirect(url_for("reviews.overview", slug=slug))
    return _overview_page(campaign, settings_form=form), 422


@bp.route("/campaigns/<slug>/reviews/rubric", methods=["POST"])
@access("campaign:organizer")
def change_rubric(slug: str) -> ResponseReturnValue:
    """Save the rubric as a new version; the round adopts it unless experts scored already."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = RubricForm(prefix="rubric")
    if form.validate_on_submit():
        try:
            spec = yaml.safe_load(form.spec.data or "")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "rubric"
            show_problems(form, InputError([Problem("spec", f"{where}: not valid YAML ({exc})")]))
        else:

            def save() -> None:
                rubric = save_rubric(session, campaign, spec, current_user.id)
                current = review_round(session, campaign)
                configure_round(
                    session,
                    campaign,
                    reviews_per_item=current.reviews_per_item,
                    max_per_expert=current.max_per_expert,
                    working_days=current.working_days,
                    nomination_quota=current.nomination_quota,
                    rubric_version=rubric.version,
                    actor_id=current_user.id,
                )

            # Problems keep their place (`criteria[2].weight: ...`) in the form's summary.
            commit_or_show(session, form, save)
        if not form.errors:
            flash(_("The rubric has been saved."), "info")
            return redirect(url_for("reviews.overview", slug=slug))
    return _overview_page(campaign, rubric_form=form), 422


@bp.route("/campaigns/<slug>/reviews/assign", methods=["POST"])
@access("campaign:organizer")
def assign_items(slug: str) -> ResponseReturnValue:
    """Start the round (store the suggestions) and hand out the reviews."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = AssignItemsForm(prefix="items")
    if form.validate_on_submit():

        def run() -> Any:
            start_review_round(session, campaign, current_user.id)
            if form.overdue.data:
                mark_overdue(session, campaign)
            return assign_reviews(session, campaign, current_user.id)

        plan = commit_or_show(session, form, run)
        if plan is not None:
            flash(
                _(
                    "%(n)d reviews assigned, %(c)d conflicts of interest excluded, "
                    "%(s)d suggestions short of reviewers.",
                    n=plan.created,
                    c=len(plan.excluded),
                    s=len(plan.short),
                ),
                "info",
            )
            return redirect(url_for("reviews.overview", slug=slug))
    return _overview_page(campaign, items_form=form), 422


@bp.route("/campaigns/<slug>/reviews/nominations", methods=["GET", "POST"])
@access("campaign:nominate")
def nominations(slug: str) -> ResponseReturnValue:
    """Units nominate (单位推荐): the organizers and the campaign's linked departments put
    suggestions forward with a rationale, within the round's quota per unit."""
    from reviews.progress import nomination_page

    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = NominationForm(prefix="nominate")
    if form.validate_on_submit():
        commit_or_show(
            session,
            form,
            lambda: nominate_suggestion(
                session,
                campaign,
                form.suggestion_id.data or 0,
                current_user,
                form.reason.data or "",
            ),
            {"suggestion": "suggestion_id", "quota": "suggestion_id", "unit": "suggestion_id"},
        )
        if not form.errors:
            flash(_("The suggestion has been nominated."), "info")
            return redirect(url_for("reviews.nominations", slug=slug))
    search = request.args.get("q", "").strip()[:100]
    facts = nomination_page(session, campaign, current_user, search, PAGE_SIZE, requested_page)
    return render_template(
        "reviews/nominations.html",
        campaign=campaign,
        facts=facts,
        search=search,
        form=form,
        open=round_is_open(session, campaign),
    ), 422 if form.errors else 200


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
