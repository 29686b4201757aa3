"""How well the loop closes, per campaign and per department: adoption rate, resolution rate
(办结率), on-time rate and satisfaction rate (满意率), each with a Wilson interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.results import Result
from campaigns.models import Campaign
from minsheng.accounts.models import Department
from recommendations.assignments import completed_on_time
from recommendations.models import Assignment, Evaluation, Recommendation

if TYPE_CHECKING:
    from analysis.proportions import ProportionEstimate
from recommendations.workflow import ADOPTED, PARTLY_ADOPTED

SATISFIED = (4, 5)


@dataclass(frozen=True)
class LoopRates(Result):
    """The rates of one campaign or one department (``scope``).

    adoption
        adopted or partly adopted / decided recommendations (campaign scope only: departments
        receive recommendations after the decision, so it is None for them).
    resolution
        completed assignments, on time or late / assignments (办结率): a late completion is
        still a resolution; the on-time rate says how many were late.
    on_time
        assignments completed by their deadline / completed assignments.
    satisfaction
        evaluations of 4 or 5 / evaluations (满意率); for a department, the evaluations of the
        recommendations assigned to it.
    """

    scope: str
    adoption: ProportionEstimate | None
    resolution: ProportionEstimate
    on_time: ProportionEstimate
    satisfaction: ProportionEstimate
    recommendations: int
    assignments: int
    overdue: int


def _rates(
    scope: str,
    recommendations: list[Recommendation],
    assignments: list[Assignment],
    scores: list[int],
    with_adoption: bool,
) -> LoopRates:
    from analysis.proportions import proportion_ci  # statsmodels: only when rates are asked for

    decided = [r for r in recommendations if r.decision is not None]
    # Counted by the decision, whatever stage the recommendation has reached since.
    adopted = [r for r in decided if r.decision in (ADOPTED, PARTLY_ADOPTED)]
    completed = [a for a in assignments if a.completed_at is not None]
    on_time = [a for a in completed if completed_on_time(a)]
    satisfied = [s for s in scores if s in SATISFIED]
    return LoopRates(
        scope=scope,
        adoption=proportion_ci(len(adopted), len(decided)) if with_adoption else None,
        resolution=proportion_ci(len(completed), len(assignments)),
        on_time=proportion_ci(len(on_time), len(completed)),
        satisfaction=proportion_ci(len(satisfied), len(scores)),
        recommendations=len(recommendations),
        assignments=len(assignments),
        overdue=sum(1 for a in assignments if a.overdue and a.completed_at is None),
    )


def campaign_rates(session: Session, campaign: Campaign) -> LoopRates:
    """The four rates of the campaign's recommendations (Wilson 95% intervals)."""
    recommendations = list(
        session.scalars(select(Recommendation).where(Recommendation.campaign_id == campaign.id))
    )
    ids = [r.id for r in recommendations]
    assignments = list(
        session.scalars(select(Assignment).where(Assignment.recommendation_id.in_(ids)))
    )
    scores = list(
        session.scalars(
            select(Evaluation.satisfaction).where(Evaluation.recommendation_id.in_(ids))
        )
    )
    return _rates(campaign.slug, recommendations, assignments, scores, with_adoption=True)


def department_rates(session: Session, campaign: Campaign) -> list[LoopRates]:
    """The rates of each department with assignments in the campaign, by department code."""
    rows = session.execute(
        select(Assignment, Department)
        .join(Recommendation, Recommendation.id == Assignment.recommendation_id)
        .join(Department, Department.id == Assignment.department_id)
        .where(Recommendation.campaign_id == campaign.id)
        .order_by(Department.code, Assignment.id)
    )
    by_department: dict[str, list[Assignment]] = {}
    for assignment, department in rows:
        by_department.setdefault(department.code, []).append(assignment)
    result = []
    for code, assignments in by_department.items():
        ids = {a.recommendation_id for a in assignments}
        scores = list(
            session.scalars(
                select(Evaluation.satisfaction).where(Evaluation.recommendation_id.in_(ids))
            )
        )
        recommendations = [a.recommendation for a in assignments]
        result.append(_rates(code, recommendations, assignments, scores, with_adoption=False))
    return result
