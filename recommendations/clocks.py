"""The clocks of the loop in working days: a campaign's deadline policy (accept within 2, reply
within 15...), and where each assignment stands against its clocks (green, amber within the
last working days before the due day, red once past it, paused while an extension is pending).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.audit import record
from minsheng.db import local_date, utcnow
from minsheng.errors import Problem
from minsheng.workdays import WorkCalendar
from recommendations.errors import RecommendationError
from recommendations.models import Assignment, DeadlinePolicy, Recommendation
from recommendations.workflow import COMPLETED, DONE, EXTENSION_REQUESTED, RETURNED, SUBMITTED

#: Each policy value and the working days it may take.
POLICY_LIMITS = {
    "accept_days": (1, 30),
    "reply_days": (1, 120),
    "co_reply_days": (1, 120),
    "feedback_days": (1, 60),
    "amber_days": (1, 30),
    "ladder_days": (1, 30),
}
BANDS = ("green", "amber", "red", "paused")


def today() -> date:
    """The day (in Beijing) the clocks are read on; the one place that asks the system clock,
    so tests can set the day."""
    return local_date(utcnow())


def policy_for(session: Session, campaign: Campaign) -> DeadlinePolicy:
    """The campaign's policy, or the default one (not stored) when it has none."""
    policy = session.get(DeadlinePolicy, campaign.id)
    if policy is None:
        policy = DeadlinePolicy(campaign_id=campaign.id)
        for name in (*POLICY_LIMITS, "reopen_share"):
            setattr(policy, name, DeadlinePolicy.__table__.c[name].default.arg)
    return policy


def set_policy(
    session: Session, campaign: Campaign, actor_id: int | None = None, **values: object
) -> DeadlinePolicy:
    """Change the campaign's clocks; every value out of range is named. Deadlines already set
    keep their day: a policy applies to the assignments made after it."""
    problems = []
    for name, value in values.items():
        if name == "reopen_share":
            if not isinstance(value, int | float) or not 0 < float(value) <= 1:
                problems.append(Problem(name, f"got {value!r}; expected a share in (0, 1]"))
            continue
        if name not in POLICY_LIMITS:
            known = ", ".join([*POLICY_LIMITS, "reopen_share"])
            problems.append(Problem(name, f"unknown setting {name!r}; expected one of {known}"))
            continue
        low, high = POLICY_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(Problem(name, f"got {value!r}; expected {low} to {high} working days"))
    if problems:
        raise RecommendationError(problems)
    policy = session.get(DeadlinePolicy, campaign.id)
    if policy is None:
        policy = policy_for(session, campaign)
        session.add(policy)
    for name, value in values.items():
        setattr(policy, name, value)
    session.flush()
    record(session, actor_id, "recommendation.policy", "campaign", campaign.slug, **values)
    return policy


@dataclass(frozen=True)
class Clock:
    """One running clock: `name` is accept, reply or feedback; `left` the working days until
    `due` (0 on the due day, negative past it)."""

    name: str
    due: date
    band: str
    left: int


def _clock(name: str, due: date, today: date, calendar: WorkCalendar, amber: int) -> Clock:
    left = calendar.working_days_between(today, due)
    if today > due:
        left = -calendar.working_days_between(due, today)
        band = "red"
    else:
        band = "amber" if left < amber else "green"
    return Clock(name, due, band, left)


def assignment_clock(
    assignment: Assignment, today: date, calendar: WorkCalendar, amber: int
) -> Clock | None:
    """The clock the assignment runs against now: acceptance while submitted, the reply
    otherwise; none once it is done or returned; `paused` while an extension is pending."""
    if assignment.status in (DONE, RETURNED):
        return None
    if assignment.status == EXTENSION_REQUESTED:
        return Clock("reply", assignment.deadline, "paused", 0)
    if assignment.status == SUBMITTED and assignment.accept_due is not None:
        return _clock("accept", assignment.accept_due, today, calendar, amber)
    return _clock("reply", assignment.deadline, today, calendar, amber)


def feedback_clock(
    recommendation: Recommendation, today: date, calendar: WorkCalendar, amber: int
) -> Clock | None:
    """The feedback clock (反馈) of a completed recommendation, once its reply is approved."""
    if recommendation.status != COMPLETED or recommendation.feedback_due is None:
        return None
    return _clock("feedback", recommendation.feedback_due, today, calendar, amber)
