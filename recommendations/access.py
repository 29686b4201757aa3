"""Who may follow a campaign's recommendations up (issue 11): its organizers see and act on
all of them; a department linked to the campaign sees those assigned to it and reports progress
on its own assignments; anyone else is refused, and a department asking for another department's
recommendation gets the 404 a missing one gives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from campaigns.access import campaign_rule, object_rule, runs, runs_or_receives
from minsheng.accounts.models import User
from minsheng.accounts.permissions import add_access_rule
from recommendations.models import Assignment, Recommendation

FOLLOWERS = {"owner", "linked_department", "admin"}


def holds_recommendation(user: User, recommendation: Recommendation) -> bool:
    """A department holds a recommendation one of its assignments is for."""
    return any(a.department_id == user.department_id for a in recommendation.assignments)


def _recommendation(session: Session, arguments: Mapping[str, Any]) -> Recommendation | None:
    return session.get(Recommendation, int(arguments["rec_id"]))


def _assignment(session: Session, arguments: Mapping[str, Any]) -> Assignment | None:
    return session.get(Assignment, int(arguments["assignment_id"]))


def init_app() -> None:
    """Register the follow-up rules: the campaign's list, one recommendation (read, decide), one
    assignment (its progress and evidence)."""
    add_access_rule(
        "campaign:follow-up",
        campaign_rule(runs_or_receives),
        ("organizer", "department"),
        allows=FOLLOWERS,
    )
    add_access_rule(
        "recommendation",
        object_rule(
            _recommendation,
            lambda r: r.campaign,
            runs_or_receives,
            department_has=holds_recommendation,
        ),
        ("organizer", "department"),
        allows=FOLLOWERS,
    )
    add_access_rule(
        "recommendation:decide",
        object_rule(_recommendation, lambda r: r.campaign, runs),
        ("organizer",),
        allows={"owner", "admin"},
    )
    add_access_rule(
        "assignment",
        object_rule(
            _assignment,
            lambda a: a.recommendation.campaign,
            runs_or_receives,
            department_has=lambda user, a: a.department_id == user.department_id,
        ),
        ("organizer", "department"),
        allows=FOLLOWERS,
    )
