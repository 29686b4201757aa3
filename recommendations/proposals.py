"""Recommendations drawn from a campaign and the adoption decision; which ones a user may see."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from minsheng.masking import masked
from recommendations.models import SOURCES, Assignment, Recommendation
from recommendations.workflow import (
    DECISION_STEPS,
    DECISIONS,
    RECOMMENDATION_STEPS,
    check_step,
    take,
)
from reviews.golden_ideas import golden_ideas

MAX_TITLE = 200


def create_recommendation(
    session: Session,
    campaign: Campaign,
    title: str,
    text: str,
    source: str,
    golden_idea_id: int | None = None,
    actor_id: int | None = None,
) -> Recommendation:
    """Add a proposed recommendation. A `golden_idea` source must name one of the campaign's
    golden ideas; the other sources (a suggestion cluster, an expert's proposal) name none.
    Personal data copied from a suggestion into the title or text is stored masked: the
    recommendation goes to departments and its feedback to the public."""
    problems = []
    if not title.strip():
        problems.append(Problem("title", "a recommendation needs a title"))
    elif len(title.strip()) > MAX_TITLE:
        problems.append(Problem("title", f"{len(title.strip())} characters; at most {MAX_TITLE}"))
    if not text.strip():
        problems.append(Problem("text", "a recommendation needs a text"))
    if source not in SOURCES:
        problems.append(
            Problem("source", f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
        )
    if source == "golden_idea":
        ids = {g.id for g in golden_ideas(session, campaign)}
        if golden_idea_id not in ids:
            shown = ", ".join(str(i) for i in sorted(ids)) or "none yet"
            problems.append(
                Problem(
                    "golden_idea_id",
                    f"got {golden_idea_id!r}; golden ideas of {campaign.slug!r}: {shown}",
                )
            )
    elif golden_idea_id is not None:
        problems.append(Problem("golden_idea_id", "only a golden_idea source names one"))
    if problems:
        raise InputError(problems)
    recommendation = Recommendation(
        campaign_id=campaign.id,
        title=masked(title.strip()),
        text=masked(text.strip()),
        source=source,
        golden_idea_id=golden_idea_id,
        created_by_id=actor_id,
    )
    session.add(recommendation)
    session.flush()
    record(
        session,
        actor_id,
        "recommendation.create",
        "recommendation",
        recommendation.id,
        campaign=campaign.slug,
        source=source,
    )
    return recommendation


def decide(
    session: Session,
    recommendation: Recommendation,
    decision: str,
    reason: str = "",
    actor_id: int | None = None,
) -> None:
    """Record the adoption decision (adopted / partly_adopted / not_adopted). Not adopting, or
    adopting only in part, needs the reason the suggesters will be told."""
    problems = []
    if decision not in DECISIONS:
        problems.append(
            Problem(
                "decision", f"unknown decision {decision!r}; expected one of {', '.join(DECISIONS)}"
            )
        )
    else:
        problems += [
            # Said in the decision's words: the organizer chose "not adopted", not a step name.
            Problem("reason", f"a {decision} decision needs a reason")
            if p.location == "reason"
            else p
            for p in check_step(
                RECOMMENDATION_STEPS,
                DECISION_STEPS[decision],
                recommendation.status,
                "organizer",
                {"reason": reason},
                f"recommendation {recommendation.id}",
            )
        ]
    if problems:
        raise InputError(problems)
    recommendation.decision = decision
    recommendation.decision_reason = reason.strip()
    recommendation.decided_at = utcnow()
    take(
        session,
        recommendation,
        DECISION_STEPS[decision],
        "organizer",
        actor_id,
        note=reason,
        reason=reason.strip() or None,
    )


def visible_recommendations(
    session: Session, campaign: Campaign, viewer: User
) -> list[Recommendation]:
    """The campaign's recommendations `viewer` may see: all for organizers and admins; for a
    department user only those assigned to their department (others are not listed at all)."""
    stmt = (
        select(Recommendation)
        .where(Recommendation.campaign_id == campaign.id)
        .options(selectinload(Recommendation.assignments).selectinload(Assignment.department))
        .order_by(Recommendation.id)
    )
    if viewer.role == "department":
        stmt = stmt.where(
            Recommendation.assignments.any(Assignment.department_id == viewer.department_id)
        )
    elif viewer.role not in ("organizer", "admin"):
        return []
    return list(session.scalars(stmt))


def visible_assignments(viewer: User, recommendation: Recommendation) -> list[Assignment]:
    """The assignments of `recommendation` that `viewer` may see (a department: its own)."""
    if viewer.role == "department":
        return [a for a in recommendation.assignments if a.department_id == viewer.department_id]
    return list(recommendation.assignments)
