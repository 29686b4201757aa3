"""Pages of the loop: a campaign's recommendations and rates, a recommendation with its decision,
assignments, progress, feedback, evaluation and recognition, and a department's work list (staff;
department users see only their own department's assignments); the campaign's public feedback
page (反馈) with the suggesters' satisfaction score (评价)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaigns.access import runs, runs_or_receives
from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from minsheng.accounts.models import Department, User
from minsheng.accounts.permissions import access, public, require_role
from minsheng.audit import record_download
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.files import send_stored_file
from minsheng.limits import record_id
from minsheng.text import sanitised
from minsheng.throttle import throttled
from minsheng.web import commit_or_show, label_language, moved_to, or_404
from minsheng.workdays import calendar_for
from recommendations import clocks
from recommendations.assignments import (
    STEP_ACTIONS,
    actor_for,
    assign_to_departments,
    department_assignments,
    record_progress,
    take_assignment_step,
)
from recommendations.clocks import assignment_clock, feedback_clock, policy_for, set_policy
from recommendations.escalation import notices_for
from recommendations.evidence import Upload, evidence_key
from recommendations.feedback import (
    close,
    evaluate,
    evaluations,
    public_feedback,
    publish_feedback,
    recognise,
    recognitions,
    reopen,
)
from recommendations.history import history
from recommendations.models import Assignment, Recommendation
from recommendations.proposals import (
    create_recommendation,
    decide,
    visible_assignments,
    visible_recommendations,
)
from recommendations.rates import campaign_rates, department_rates
from recommendations.webforms import (
    AssignForm,
    DecisionForm,
    EvaluationForm,
    FeedbackForm,
    PolicyForm,
    ProgressForm,
    PublicEvaluationForm,
    RecognitionForm,
    RecommendationForm,
    StepForm,
)
from reviews.golden_ideas import golden_ideas

bp = Blueprint("recommendations", __name__, template_folder="templates")
# Recommendations this browser has rated, kept in the signed session cookie: a light guard
# against repeated clicks; the page asks for no account, like the questionnaire itself.
RATED = "recommendations.rated"


def _title(campaign: Campaign) -> str:
    language = label_language()
    return campaign.title_in(language)


def _recommendation(rec_id: int) -> Recommendation:
    """The recommendation the URL names; the route's access rule (`recommendations.access`)
    already answered 404 if it is missing, elsewhere, or another department's."""
    return or_404(get_session().get(Recommendation, rec_id), f"No recommendation {rec_id}.")


def _committed(form: FlaskForm, action: Callable[[], object], done: str) -> bool:
    """Commit the domain `action` a valid `form` asks for and flash `done`; or roll back and put
    each problem under its field (the page is then shown again with what was typed)."""
    commit_or_show(get_session(), form, action)
    if form.errors:
        return False
    flash(done, "info")
    return True


def _recommendation_form(campaign: Campaign) -> RecommendationForm:
    form = RecommendationForm()
    form.golden_idea_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(g.id, g.citation[:60]) for g in golden_ideas(get_session(), campaign)
    ]
    return form


@bp.route("/campaigns/<slug>/recommendations", methods=["GET", "POST"])
@access("campaign:follow-up", writes="campaign:organizer")
def campaign_recommendations(slug: str) -> ResponseReturnValue:
    """Organizers: every recommendation, the rates and a form for a new one. Departments: the
    recommendations assigned to them."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    staff = runs(current_user, campaign)
    form = _recommendation_form(campaign)
    if form.validate_on_submit() and _committed(
        form,
        lambda: create_recommendation(
            session,
            campaign,
            form.title.data or "",
            form.text.data or "",
            form.source.data or "",
            form.golden_idea_id.data or None,
            current_user.id,
        ),
        _("The recommendation has been added."),
    ):
        return redirect(url_for("recommendations.campaign_recommendations", slug=slug))
    return render_template(
        "recommendations/campaign.html",
        campaign=campaign,
        title=_title(campaign),
        recommendations=visible_recommendations(session, campaign, current_user),
        viewer=current_user,
        visible_assignments=visible_assignments,
        rates=campaign_rates(session, campaign) if staff else None,
        department_rates=department_rates(session, campaign) if staff else [],
        department_names={d.code: d.name for d in session.scalars(select(Department))},
        form=form if staff else None,
        policy_form=_policy_form(campaign) if staff else None,
    ), 422 if form.errors else 200


def _policy_form(campaign: Campaign, posted: bool = False) -> PolicyForm:
    if posted:
        return PolicyForm()
    return PolicyForm(formdata=None, obj=policy_for(get_session(), campaign))


@bp.route("/campaigns/<slug>/recommendations/policy", methods=["POST"])
@access("campaign:organizer")
def policy(slug: str) -> ResponseReturnValue:
    """The campaign's clocks in working days (accept, reply, feedback, amber band, ladder)."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = _policy_form(campaign, posted=True)
    if form.validate_on_submit() and _committed(
        form,
        lambda: set_policy(
            session,
            campaign,
            current_user.id,
            **{name: form[name].data for name in form.data if name != "csrf_token"},
        ),
        _("The deadlines have been saved."),
    ):
        return redirect(url_for("recommendations.campaign_recommendations", slug=slug))
    page = url_for("recommendations.campaign_recommendations", slug=slug)
    for field, errors in form.errors.items():
        for error in errors:
            flash(f"{form[field].label.text}: {error}", "error")
    return redirect(page)


@bp.route("/recommendations/")
@require_role("organizer", "department")
def work_list() -> ResponseReturnValue:
    """Open assignments first, by deadline; overdue ones are marked. Only those of campaigns the
    user follows up (`campaigns.access.runs_or_receives`) are listed."""
    session = get_session()
    every = department_assignments(session, current_user)
    mine = [a for a in every if runs_or_receives(current_user, a.recommendation.campaign)]
    today = clocks.today()
    calendar = calendar_for(session)
    running = {
        a.id: assignment_clock(
            a, today, calendar, policy_for(session, a.recommendation.campaign).amber_days
        )
        for a in mine
    }
    # By urgency: red, amber, then paused and green ones by their due day; finished ones last.
    rank = {"red": 0, "amber": 1, "paused": 2, "green": 3}
    mine.sort(
        key=lambda a: (
            rank[c.band] if (c := running[a.id]) is not None else 9,
            c.due if c is not None else a.deadline,
        )
    )
    return render_template(
        "recommendations/work_list.html",
        assignments=mine,
        clocks=running,
        notices=notices_for(session, current_user),
    )


def _assign_form(recommendation: Recommendation, posted: bool) -> AssignForm:
    """The assignment form, offering the departments not assigned yet."""
    form = AssignForm() if posted else AssignForm(formdata=None)
    assigned = {a.department_id for a in recommendation.assignments if a.status != "returned"}
    choices = [
        SelectChoice(d.id, f"{d.name} ({d.code})")
        for d in get_session().scalars(select(Department).order_by(Department.code))
        if d.id not in assigned
    ]
    form.lead.choices = [SelectChoice(0, "—"), *choices]
    form.co_handlers.choices = choices
    return form


def _progress_form(assignment: Assignment, posted: bool = False) -> ProgressForm:
    # One form per assignment on the page: the prefix keeps their ids (and labels) apart.
    prefix = f"a{assignment.id}"
    return ProgressForm(prefix=prefix) if posted else ProgressForm(prefix=prefix, formdata=None)


def _detail_page(
    recommendation: Recommendation, slot: str | int | None = None, refused: FlaskForm | None = None
) -> ResponseReturnValue:
    """The recommendation page, its forms empty; or, with the form `refused` that was posted in
    `slot` (a form's name such as `decision_form`, or an assignment's id for its progress form),
    that form with what was typed and each problem under its field, answered 422."""
    session = get_session()
    campaign = recommendation.campaign
    assignments = visible_assignments(current_user, recommendation)
    progress_forms: dict[int, FlaskForm] = {a.id: _progress_form(a) for a in assignments}
    today = clocks.today()
    calendar = calendar_for(session)
    amber = policy_for(session, campaign).amber_days
    forms: dict[str, FlaskForm] = {
        "decision_form": DecisionForm(formdata=None),
        "assign_form": _assign_form(recommendation, posted=False),
        "feedback_form": FeedbackForm(formdata=None),
        "evaluation_form": EvaluationForm(formdata=None),
        "recognition_form": RecognitionForm(formdata=None),
        "step_form": StepForm(formdata=None),
    }
    if refused is not None:
        if isinstance(slot, int):
            progress_forms[slot] = refused
        elif slot is not None:
            forms[slot] = refused
    page = render_template(
        "recommendations/detail.html",
        recommendation=recommendation,
        campaign=campaign,
        title=_title(campaign),
        staff=runs(current_user, campaign),
        assignments=assignments,
        evaluations=evaluations(session, recommendation),
        recognitions=recognitions(session, recommendation),
        progress_forms=progress_forms,
        clocks={a.id: assignment_clock(a, today, calendar, amber) for a in assignments},
        feedback_clock=feedback_clock(recommendation, today, calendar, amber),
        history=history(session, recommendation, current_user),
        acting_as={a.id: _actor_or_none(a) for a in assignments},
        **forms,
    )
    return page, 200 if refused is None else 422


def _actor_or_none(assignment: Assignment) -> str | None:
    try:
        return actor_for(current_user, assignment)
    except InputError:
        return None


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>")
@access("recommendation")
def detail(slug: str, rec_id: int) -> ResponseReturnValue:
    return _detail_page(_recommendation(rec_id))


def _submit(
    recommendation: Recommendation,
    slot: str | int,
    form: FlaskForm,
    action: Callable[[], object],
    done: str,
) -> ResponseReturnValue:
    """A form of the recommendation page was posted: back to the page once the domain `action`
    is committed, or the page again with the refused form in its `slot`."""
    if form.validate_on_submit() and _committed(form, action, done):
        page = url_for(
            "recommendations.detail", slug=recommendation.campaign.slug, rec_id=recommendation.id
        )
        return redirect(page)
    return _detail_page(recommendation, slot, form)


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>/decision", methods=["POST"])
@access("recommendation:decide")
def decision(slug: str, rec_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(rec_id)
    form = DecisionForm()
    return _submit(
        recommendation,
        "decision_form",
        form,
        lambda: decide(
            get_session(),
            recommendation,
            form.decision.data or "",
            form.reason.data or "",
            current_user.id,
        ),
        _("The decision has been recorded."),
    )


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>/assignments", methods=["POST"])
@access("recommendation:decide")
def assign(slug: str, rec_id: int) -> ResponseReturnValue:
    session = get_session()
    recommendation = _recommendation(rec_id)
    form = _assign_form(recommendation, posted=True)
    chosen = form.co_handlers.data or []
    lead = session.get(Department, form.lead.data) if form.lead.data else None
    co_handlers = list(session.scalars(select(Department).where(Department.id.in_(chosen))))
    tasks = {d.id: form.co_task.data or "" for d in co_handlers}
    if lead is not None:
        tasks[lead.id] = form.lead_task.data or ""
    return _submit(
        recommendation,
        "assign_form",
        form,
        lambda: assign_to_departments(
            session,
            recommendation,
            lead,
            co_handlers,
            tasks=tasks,
            deadline=form.deadline.data,
            actor_id=current_user.id,
        ),
        _("The recommendation has been assigned."),
    )


def _assignment(assignment_id: int) -> Assignment:
    """The assignment the URL names; the route's access rule already answered 404 if it is
    missing, elsewhere, or another department's."""
    return or_404(get_session().get(Assignment, assignment_id), f"No assignment {assignment_id}.")


@bp.route(
    "/campaigns/<slug>/recommendations/assignments/<int:assignment_id>/progress",
    methods=["POST"],
)
@access("assignment")
def progress(slug: str, assignment_id: int) -> ResponseReturnValue:
    assignment = _assignment(assignment_id)
    form = _progress_form(assignment, posted=True)
    uploads = [
        Upload(f.filename or "", f.read())
        for f in request.files.getlist(form.attachments.name)
        if f.filename
    ]
    return _submit(
        assignment.recommendation,
        assignment.id,
        form,
        lambda: record_progress(
            get_session(),
            assignment,
            current_user,
            form.note.data or "",
            uploads,
            percent=form.percent.data,
        ),
        _("The progress has been recorded."),
    )


@bp.route(
    "/campaigns/<slug>/recommendations/assignments/<int:assignment_id>/steps/<step>",
    methods=["POST"],
)
@access("assignment")
def assignment_step(slug: str, assignment_id: int, step: str) -> ResponseReturnValue:
    """One step of the assignment's workflow (accept, return, extension, reply, approval); the
    domain refuses a step the state, the user's part (handler or organizer) or a missing field
    does not allow, and the page shows why."""
    assignment = _assignment(assignment_id)
    if step not in STEP_ACTIONS:
        abort(404, description=f"No step {sanitised(step[:40])!r}.")
    form = StepForm()
    return _submit(
        assignment.recommendation,
        "step_form",
        form,
        lambda: take_assignment_step(
            get_session(), assignment, current_user, step, dict(form.data)
        ),
        _("Done."),
    )


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>/steps/<step>", methods=["POST"])
@access("recommendation:decide")
def recommendation_step(slug: str, rec_id: int, step: str) -> ResponseReturnValue:
    """The organizer closes the loop of a recommendation, or reopens it (重办) with a reason."""
    recommendation = _recommendation(rec_id)
    form = StepForm()
    session = get_session()
    actions: dict[str, Callable[[], object]] = {
        "close": lambda: close(session, recommendation, current_user.id),
        "reopen": lambda: reopen(session, recommendation, form.reason.data or "", current_user.id),
    }
    if step not in actions:
        abort(404, description=f"No step {sanitised(step[:40])!r}.")
    return _submit(recommendation, "step_form", form, actions[step], _("Done."))


@bp.route("/campaigns/<slug>/recommendations/assignments/<int:assignment_id>/files/<name>")
@access("assignment")
def evidence(slug: str, assignment_id: int, name: str) -> ResponseReturnValue:
    assignment = _assignment(assignment_id)
    key = evidence_key(assignment, name)
    if key is None:
        abort(404, description=f"No file {name!r} for assignment {assignment_id}.")
    record_download(get_session(), current_user.id, "assignment", assignment_id, name)
    get_session().commit()
    return send_stored_file(key, name)


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>/feedback", methods=["POST"])
@access("recommendation:decide")
def feedback(slug: str, rec_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(rec_id)
    form = FeedbackForm()
    return _submit(
        recommendation,
        "feedback_form",
        form,
        lambda: publish_feedback(
            get_session(), recommendation, form.text.data or "", current_user.id
        ),
        _("The feedback has been published."),
    )


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>/evaluations", methods=["POST"])
@access("recommendation:decide")
def evaluation(slug: str, rec_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(rec_id)
    form = EvaluationForm()
    return _submit(
        recommendation,
        "evaluation_form",
        form,
        lambda: evaluate(
            get_session(),
            recommendation,
            int(form.satisfaction.data or 0),
            form.rater.data or "",
            form.comment.data or "",
            current_user.id,
        ),
        _("The evaluation has been recorded."),
    )


@bp.route("/campaigns/<slug>/recommendations/<int:rec_id>/recognitions", methods=["POST"])
@access("recommendation:decide")
def recognition(slug: str, rec_id: int) -> ResponseReturnValue:
    session = get_session()
    recommendation = _recommendation(rec_id)
    form = RecognitionForm()
    expert = session.scalar(select(User).where(User.username == (form.expert.data or "")))
    return _submit(
        recommendation,
        "recognition_form",
        form,
        lambda: recognise(
            session,
            recommendation,
            form.kind.data or "",
            expert=expert,
            response_id=form.response_id.data,
            note=form.note.data or "",
            actor_id=current_user.id,
        ),
        _("The recognition has been recorded."),
    )


@bp.route("/s/<slug>/feedback", methods=["GET", "POST"])
@public
@throttled("POST")
def campaign_feedback(slug: str) -> ResponseReturnValue:
    """What became of the suggestions, and one satisfaction score per recommendation and
    browser."""
    db = get_session()
    campaign = get_campaign_or_404(slug)
    rated: list[int] = list(session.get(RATED, []))
    form = PublicEvaluationForm()
    if form.validate_on_submit():
        rec_id = record_id(form.recommendation_id.data)
        recommendation = db.get(Recommendation, rec_id) if rec_id is not None else None
        if rec_id is None or recommendation is None or recommendation.campaign_id != campaign.id:
            shown = sanitised(str(form.recommendation_id.data)[:40])
            abort(404, description=f"No recommendation {shown!r} in campaign {slug!r}.")
        if rec_id in rated:
            flash(_("You have already rated this."), "info")
        else:
            try:
                evaluate(db, recommendation, int(form.satisfaction.data or 0), "suggester")
            except InputError as exc:
                db.rollback()
                for problem in exc.problems:
                    flash(str(problem), "error")
            else:
                db.commit()
                session[RATED] = [*rated, rec_id]
                flash(_("Thank you for your rating."), "info")
        return redirect(url_for("recommendations.campaign_feedback", slug=slug))
    return render_template(
        "recommendations/public_feedback.html",
        campaign=campaign,
        title=_title(campaign),
        recommendations=public_feedback(db, campaign),
        rated=set(rated),
        form=form,
    )


@bp.route("/recommendations/<int:rec_id>", defaults={"rest": ""}, methods=["GET", "POST"])
@bp.route("/recommendations/<int:rec_id>/<path:rest>", methods=["GET", "POST"])
@access("recommendation")
def old_recommendation_url(rec_id: int, rest: str) -> ResponseReturnValue:
    """A recommendation's pages moved under its campaign; links already sent (escalation
    e-mails, bookmarks) keep working. Only someone who may see the recommendation learns its
    campaign (the access rule refuses anyone else)."""
    recommendation = _recommendation(rec_id)
    page = f"/campaigns/{recommendation.campaign.slug}/recommendations/{rec_id}"
    return moved_to(page + (f"/{rest}" if rest else ""))


@bp.route("/recommendations/assignments/<int:assignment_id>/<path:rest>", methods=["GET", "POST"])
@access("assignment")
def old_assignment_url(assignment_id: int, rest: str) -> ResponseReturnValue:
    """An assignment's progress form and evidence files moved under the campaign too."""
    assignment = _assignment(assignment_id)
    slug = assignment.recommendation.campaign.slug
    return moved_to(f"/campaigns/{slug}/recommendations/assignments/{assignment_id}/{rest}")
