"""Staff pages of the loop: a campaign's recommendations and rates, a recommendation with its
decision, assignments, progress, feedback, evaluation and recognition, and a department's work
list. Department users see only their own department's assignments."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from minsheng.accounts.models import Department, User
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.files import send_stored_file
from minsheng.web import label_language
from questionnaire.schema import text_in
from recommendations.assignments import (
    assign_to_departments,
    department_assignments,
    record_progress,
)
from recommendations.evidence import Upload, evidence_key
from recommendations.feedback import (
    evaluate,
    evaluations,
    publish_feedback,
    recognise,
    recognitions,
)
from recommendations.models import Assignment, Recommendation
from recommendations.proposals import (
    can_view,
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
    ProgressForm,
    RecognitionForm,
    RecommendationForm,
)
from reviews.golden_ideas import golden_ideas

bp = Blueprint("recommendations", __name__, template_folder="templates")


def _title(campaign: Campaign) -> str:
    language = label_language()
    return text_in(campaign.title, language, "zh")


def _recommendation(rec_id: int) -> Recommendation:
    """The recommendation, or 404 also when the user may not see it (a department user learns
    nothing about other departments' work)."""
    recommendation = get_session().get(Recommendation, rec_id)
    if recommendation is None or not can_view(current_user, recommendation):
        abort(404, description=f"No recommendation {rec_id}.")
    return recommendation


def _run(action: Callable[[], object], done: str) -> None:
    """Run a domain action; commit and flash `done`, or roll back and flash every problem."""
    session = get_session()
    try:
        action()
    except InputError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(str(problem), "error")
    else:
        session.commit()
        flash(done, "info")


def _recommendation_form(campaign: Campaign) -> RecommendationForm:
    form = RecommendationForm()
    form.golden_idea_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(g.id, g.citation[:60]) for g in golden_ideas(get_session(), campaign)
    ]
    return form


@bp.route("/campaigns/<slug>/recommendations", methods=["GET", "POST"])
@require_role("organizer", "department")
def campaign_recommendations(slug: str) -> ResponseReturnValue:
    """Organizers: every recommendation, the rates and a form for a new one. Departments: the
    recommendations assigned to them."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    staff = current_user.role in ("organizer", "admin")
    form = _recommendation_form(campaign)
    if request.method == "POST":
        if not staff:
            abort(403, description="Only organizers add recommendations.")
        if form.validate_on_submit():
            golden = form.golden_idea_id.data or None
            _run(
                lambda: create_recommendation(
                    session,
                    campaign,
                    form.title.data or "",
                    form.text.data or "",
                    form.source.data or "",
                    golden,
                    current_user.id,
                ),
                _("The recommendation has been added."),
            )
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
    )


@bp.route("/recommendations/")
@require_role("organizer", "department")
def work_list() -> ResponseReturnValue:
    """Open assignments first, by deadline; overdue ones are marked."""
    return render_template(
        "recommendations/work_list.html",
        assignments=department_assignments(get_session(), current_user),
    )


@bp.route("/recommendations/<int:rec_id>")
@require_role("organizer", "department")
def detail(rec_id: int) -> ResponseReturnValue:
    session = get_session()
    recommendation = _recommendation(rec_id)
    campaign = session.get(Campaign, recommendation.campaign_id)
    assert campaign is not None
    assign_form = AssignForm()
    assigned = {a.department_id for a in recommendation.assignments}
    assign_form.departments.choices = [
        SelectChoice(d.id, f"{d.name} ({d.code})")
        for d in session.scalars(select(Department).order_by(Department.code))
        if d.id not in assigned
    ]
    return render_template(
        "recommendations/detail.html",
        recommendation=recommendation,
        campaign=campaign,
        title=_title(campaign),
        staff=current_user.role in ("organizer", "admin"),
        assignments=visible_assignments(current_user, recommendation),
        evaluations=evaluations(session, recommendation),
        recognitions=recognitions(session, recommendation),
        decision_form=DecisionForm(),
        assign_form=assign_form,
        progress_form=ProgressForm(),
        feedback_form=FeedbackForm(),
        evaluation_form=EvaluationForm(),
        recognition_form=RecognitionForm(),
    )


@bp.route("/recommendations/<int:rec_id>/decision", methods=["POST"])
@require_role("organizer")
def decision(rec_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(rec_id)
    form = DecisionForm()
    if form.validate_on_submit():
        _run(
            lambda: decide(
                get_session(),
                recommendation,
                form.decision.data or "",
                form.reason.data or "",
                current_user.id,
            ),
            _("The decision has been recorded."),
        )
    return redirect(url_for("recommendations.detail", rec_id=rec_id))


@bp.route("/recommendations/<int:rec_id>/assignments", methods=["POST"])
@require_role("organizer")
def assign(rec_id: int) -> ResponseReturnValue:
    session = get_session()
    recommendation = _recommendation(rec_id)
    form = AssignForm()
    if not form.validate_on_submit() or form.deadline.data is None:
        flash(_("Choose the departments and a deadline."), "error")
    else:
        chosen = list(
            session.scalars(
                select(Department).where(Department.id.in_(form.departments.data or []))
            )
        )
        deadline = form.deadline.data
        _run(
            lambda: assign_to_departments(
                session, recommendation, chosen, deadline, current_user.id
            ),
            _("The recommendation has been assigned."),
        )
    return redirect(url_for("recommendations.detail", rec_id=rec_id))


def _assignment(assignment_id: int) -> Assignment:
    assignment = get_session().get(Assignment, assignment_id)
    if assignment is None or assignment not in visible_assignments(
        current_user, assignment.recommendation
    ):
        abort(404, description=f"No assignment {assignment_id}.")
    return assignment


@bp.route("/recommendations/assignments/<int:assignment_id>/progress", methods=["POST"])
@require_role("organizer", "department")
def progress(assignment_id: int) -> ResponseReturnValue:
    assignment = _assignment(assignment_id)
    form = ProgressForm()
    if not form.validate_on_submit():
        flash(_("Describe what was done."), "error")
    else:
        uploads = [
            Upload(f.filename or "", f.read())
            for f in request.files.getlist(form.attachments.name)
            if f.filename
        ]
        _run(
            lambda: record_progress(
                get_session(),
                assignment,
                current_user,
                form.note.data or "",
                uploads,
                completes=bool(form.completes.data),
            ),
            _("The progress has been recorded."),
        )
    return redirect(url_for("recommendations.detail", rec_id=assignment.recommendation_id))


@bp.route("/recommendations/assignments/<int:assignment_id>/files/<name>")
@require_role("organizer", "department")
def evidence(assignment_id: int, name: str) -> ResponseReturnValue:
    assignment = _assignment(assignment_id)
    key = evidence_key(assignment, name)
    if key is None:
        abort(404, description=f"No file {name!r} for assignment {assignment_id}.")
    return send_stored_file(key, name)


@bp.route("/recommendations/<int:rec_id>/feedback", methods=["POST"])
@require_role("organizer")
def feedback(rec_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(rec_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        _run(
            lambda: publish_feedback(
                get_session(), recommendation, form.text.data or "", current_user.id
            ),
            _("The feedback has been published."),
        )
    return redirect(url_for("recommendations.detail", rec_id=rec_id))


@bp.route("/recommendations/<int:rec_id>/evaluations", methods=["POST"])
@require_role("organizer")
def evaluation(rec_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(rec_id)
    form = EvaluationForm()
    if form.validate_on_submit():
        _run(
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
    else:
        flash(_("Choose a satisfaction from 1 to 5."), "error")
    return redirect(url_for("recommendations.detail", rec_id=rec_id))


@bp.route("/recommendations/<int:rec_id>/recognitions", methods=["POST"])
@require_role("organizer")
def recognition(rec_id: int) -> ResponseReturnValue:
    session = get_session()
    recommendation = _recommendation(rec_id)
    form = RecognitionForm()
    if form.validate_on_submit():
        expert = session.scalar(select(User).where(User.username == (form.expert.data or "")))
        _run(
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
    return redirect(url_for("recommendations.detail", rec_id=rec_id))
