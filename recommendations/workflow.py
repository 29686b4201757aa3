"""The recommendation state machine: the closed loop 征集—交办—办理—反馈—评价—激励 as a table of
allowed transitions [Signalen's `ALLOWED_STATUS_CHANGES`]. Every change goes through `transition`,
which refuses anything else and writes the audit event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from minsheng.audit import record
from minsheng.errors import Problem
from recommendations.errors import TransitionError
from recommendations.models import Recommendation

PROPOSED = "proposed"
ADOPTED = "adopted"  # 采纳
PARTLY_ADOPTED = "partly_adopted"  # 部分采纳
NOT_ADOPTED = "not_adopted"  # 不予采纳 (with a reason)
ASSIGNED = "assigned"  # 交办
IN_PROGRESS = "in_progress"  # 办理
COMPLETED = "completed"  # 办结
FEEDBACK_GIVEN = "feedback_given"  # 反馈
EVALUATED = "evaluated"  # 评价
RECOGNISED = "recognised"  # 激励

ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    PROPOSED: (ADOPTED, PARTLY_ADOPTED, NOT_ADOPTED),
    ADOPTED: (ASSIGNED,),
    PARTLY_ADOPTED: (ASSIGNED,),
    # Suggesters hear why a recommendation was not adopted, too (反馈 closes that branch).
    NOT_ADOPTED: (FEEDBACK_GIVEN,),
    # A department may report completion in its first update, without an update in between.
    ASSIGNED: (IN_PROGRESS, COMPLETED),
    IN_PROGRESS: (COMPLETED,),
    COMPLETED: (FEEDBACK_GIVEN,),
    FEEDBACK_GIVEN: (EVALUATED,),
    EVALUATED: (RECOGNISED,),
    RECOGNISED: (),
}
STATES = tuple(ALLOWED_TRANSITIONS)
DECISIONS = (ADOPTED, PARTLY_ADOPTED, NOT_ADOPTED)


def allowed_from(status: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(status, ())


def check_transition(recommendation: Recommendation, new_status: str) -> Problem | None:
    """The problem with moving `recommendation` to `new_status`, or None when it is allowed."""
    if new_status not in ALLOWED_TRANSITIONS:
        return Problem(
            "status", f"unknown status {new_status!r}; expected one of {', '.join(STATES)}"
        )
    allowed = allowed_from(recommendation.status)
    if new_status in allowed:
        return None
    return Problem(
        "status",
        f"recommendation {recommendation.id} is {recommendation.status!r}; it can move to "
        f"{', '.join(allowed) or 'nothing (final state)'}, not to {new_status!r}",
    )


def transition(
    session: Session,
    recommendation: Recommendation,
    new_status: str,
    actor_id: int | None = None,
    **detail: object,
) -> None:
    """Move `recommendation` to `new_status` or raise `TransitionError` naming the current state
    and the allowed ones; the audit event records both states."""
    problem = check_transition(recommendation, new_status)
    if problem is not None:
        raise TransitionError([problem])
    previous = recommendation.status
    recommendation.status = new_status
    session.flush()
    record(
        session,
        actor_id,
        f"recommendation.{new_status}",
        "recommendation",
        recommendation.id,
        previous=previous,
        **detail,
    )
