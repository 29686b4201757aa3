"""The end of the loop: feedback to suggesters (反馈), their satisfaction (评价) and the
recognition of suggesters and experts (激励)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import Response
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import Problem
from minsheng.masking import masked
from minsheng.workdays import calendar_for
from recommendations import clocks
from recommendations.assignments import lead_assignment
from recommendations.clocks import policy_for
from recommendations.errors import RecommendationError
from recommendations.models import (
    RATERS,
    RECOGNISED_KINDS,
    Evaluation,
    Recognition,
    Recommendation,
)
from recommendations.workflow import (
    CLOSED,
    COMPLETED,
    EVALUATED,
    FEEDBACK_GIVEN,
    NOT_ADOPTED,
    RECOGNISED,
    take,
)

MAX_FEEDBACK = 5000


def publish_feedback(
    session: Session, recommendation: Recommendation, text: str, actor_id: int | None = None
) -> None:
    """Publish the feedback text on the campaign's public page. Needs a completed (or not
    adopted) recommendation; editing published feedback keeps the state and audits the change."""
    problems = []
    body = text.strip()
    if not body:
        problems.append(Problem("text", "the feedback needs a text"))
    elif len(body) > MAX_FEEDBACK:
        problems.append(Problem("text", f"{len(body)} characters; at most {MAX_FEEDBACK}"))
    editing = recommendation.status in (FEEDBACK_GIVEN, EVALUATED, CLOSED, RECOGNISED)
    if not editing and recommendation.status not in (COMPLETED, NOT_ADOPTED):
        problems.append(
            Problem(
                "status",
                f"recommendation {recommendation.id} is {recommendation.status!r}; feedback "
                f"follows completion or a decision not to adopt ({COMPLETED}, {NOT_ADOPTED})",
            )
        )
    if problems:
        raise RecommendationError(problems)
    # Public: a phone number or address copied from the suggestion is published masked.
    recommendation.public_feedback = masked(body)
    recommendation.feedback_at = utcnow()
    if editing:
        session.flush()
        record(
            session, actor_id, "recommendation.feedback_edit", "recommendation", recommendation.id
        )
    else:
        take(session, recommendation, "give_feedback", "organizer", actor_id, text=body)


def evaluate(
    session: Session,
    recommendation: Recommendation,
    satisfaction: int,
    rater: str,
    comment: str = "",
    rater_id: int | None = None,
) -> Evaluation:
    """Record one satisfaction score (1-5) once feedback was given; the first one moves the
    recommendation to `evaluated`, later ones add to its satisfaction rate. The comment is
    stored masked: staff and departments read it, and a rater may quote personal data."""
    problems = []
    if rater not in RATERS:
        problems.append(Problem("rater", f"unknown rater {rater!r}; expected one of {RATERS}"))
    if isinstance(satisfaction, bool) or satisfaction not in range(1, 6):
        problems.append(
            Problem("satisfaction", f"got {satisfaction!r}; expected a whole number from 1 to 5")
        )
    if recommendation.status not in (FEEDBACK_GIVEN, EVALUATED):
        problems.append(
            Problem(
                "status",
                f"recommendation {recommendation.id} is {recommendation.status!r}; it can be "
                f"evaluated once feedback was given and until it is closed ({FEEDBACK_GIVEN}, "
                f"{EVALUATED})",
            )
        )
    if problems:
        raise RecommendationError(problems)
    evaluation = Evaluation(
        recommendation_id=recommendation.id,
        rater=rater,
        rater_id=rater_id,
        satisfaction=satisfaction,
        comment=masked(comment.strip()[:2000]),
    )
    session.add(evaluation)
    session.flush()
    record(
        session,
        rater_id,
        "recommendation.evaluate",
        "recommendation",
        recommendation.id,
        rater=rater,
        satisfaction=satisfaction,
    )
    if recommendation.status == FEEDBACK_GIVEN:
        take(session, recommendation, "evaluate", "system", rater_id)
    return evaluation


def recognise(
    session: Session,
    recommendation: Recommendation,
    kind: str,
    *,
    expert: User | None = None,
    response_id: int | None = None,
    note: str = "",
    actor_id: int | None = None,
) -> Recognition:
    """Mark a suggester (by the response of the suggestion) or an expert recognised for an
    evaluated recommendation; the first recognition moves it to `recognised`."""
    problems = []
    if kind not in RECOGNISED_KINDS:
        problems.append(
            Problem("kind", f"unknown kind {kind!r}; expected one of {RECOGNISED_KINDS}")
        )
    if kind == "expert" and (expert is None or expert.role != "expert"):
        problems.append(Problem("expert", "name a user with role 'expert'"))
    if kind == "suggester":
        response = session.get(Response, response_id) if response_id is not None else None
        if response is None or response.campaign_id != recommendation.campaign_id:
            problems.append(
                Problem("response_id", f"got {response_id!r}; name a response of this campaign")
            )
    if recommendation.status not in (CLOSED, RECOGNISED):
        problems.append(
            Problem(
                "status",
                f"recommendation {recommendation.id} is {recommendation.status!r}; recognition "
                f"follows closing ({CLOSED}, {RECOGNISED})",
            )
        )
    if problems:
        raise RecommendationError(problems)
    recognition = Recognition(
        recommendation_id=recommendation.id,
        kind=kind,
        expert_id=expert.id if expert is not None and kind == "expert" else None,
        response_id=response_id if kind == "suggester" else None,
        note=note.strip(),
        recognised_by_id=actor_id,
    )
    session.add(recognition)
    session.flush()
    record(
        session,
        actor_id,
        "recommendation.recognise",
        "recommendation",
        recommendation.id,
        kind=kind,
        recognition=recognition.id,
    )
    take(session, recommendation, "recognise", "organizer", actor_id, kind=kind)
    return recognition


def close(session: Session, recommendation: Recommendation, actor_id: int | None = None) -> None:
    """Close the loop of a recommendation whose feedback was given (and evaluated)."""
    take(session, recommendation, "close", "organizer", actor_id)


def reopen(
    session: Session,
    recommendation: Recommendation,
    reason: str,
    actor_id: int | None = None,
    today: date | None = None,
) -> None:
    """重办: the organizer decides, on the record and with a reason, that the lead handles the
    recommendation again: a new round, the lead's assignment back in progress with a new reply
    clock from the campaign's policy."""
    today = today or clocks.today()
    lead = lead_assignment(recommendation)
    if lead is None:
        raise RecommendationError([Problem("status", "no lead department to hand it back to")])
    deadline = calendar_for(session).add_working_days(
        today, policy_for(session, recommendation.campaign).reply_days
    )
    take(
        session,
        recommendation,
        "reopen",
        "organizer",
        actor_id,
        note=reason,
        reason=reason,
        deadline=deadline,
    )
    recommendation.round += 1
    take(
        session,
        recommendation,
        "reopen",
        "system",
        actor_id,
        assignment=lead,
        note=reason,
        reason=reason,
        deadline=deadline,
    )
    lead.deadline = deadline
    lead.completed_at = None
    lead.replied_at = None
    session.flush()


def public_feedback(session: Session, campaign: Campaign) -> list[Recommendation]:
    """Recommendations of the campaign whose feedback is published, oldest first."""
    stmt = (
        select(Recommendation)
        .where(Recommendation.campaign_id == campaign.id, Recommendation.feedback_at.is_not(None))
        .order_by(Recommendation.feedback_at)
    )
    return list(session.scalars(stmt))


def recognitions(session: Session, recommendation: Recommendation) -> list[Recognition]:
    stmt = select(Recognition).where(Recognition.recommendation_id == recommendation.id)
    return list(session.scalars(stmt.order_by(Recognition.id)))


def evaluations(session: Session, recommendation: Recommendation) -> list[Evaluation]:
    stmt = select(Evaluation).where(Evaluation.recommendation_id == recommendation.id)
    return list(session.scalars(stmt.order_by(Evaluation.id)))
