"""The two state machines of the loop 征集—交办—办理—反馈—评价—激励, as data: one table of steps
for recommendations and one for assignments [Signalen's `ALLOWED_STATUS_CHANGES`]. A step names
the states it leaves, the state it reaches, who may take it, the fields it needs, its side
effect and whether the public sees it. `take` is the only way a status changes: it refuses
anything else with the current state and the allowed steps, and writes the recommendation's
own history (`LoopEvent`) and the audit log. `markdown` renders the tables for the README.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from minsheng.audit import record
from minsheng.errors import Problem
from recommendations.errors import TransitionError
from recommendations.models import Assignment, LoopEvent, Recommendation

# Recommendation states.
PROPOSED = "proposed"
ADOPTED = "adopted"  # 采纳
PARTLY_ADOPTED = "partly_adopted"  # 部分采纳
NOT_ADOPTED = "not_adopted"  # 不予采纳 (with a reason)
ASSIGNED = "assigned"  # 交办
IN_PROGRESS = "in_progress"  # 办理
COMPLETED = "completed"  # 办结: the lead's reply is approved
FEEDBACK_GIVEN = "feedback_given"  # 反馈
EVALUATED = "evaluated"  # 评价
REOPENED = "reopened"  # 重办
CLOSED = "closed"
RECOGNISED = "recognised"  # 激励

# Assignment states.
SUBMITTED = "submitted"  # 交办, waiting to be accepted
ACCEPTED = "accepted"  # 签收
RETURNED = "returned"  # 退回
EXTENSION_REQUESTED = "extension_requested"  # 延期申请
REPLIED = "replied"  # 答复, waiting for approval
DONE = "completed"  # 办结 (a co-handler: its part handed to the lead)

#: Who takes a step: the organizer of the campaign, the assigned department (`handler`), a
#: credited suggester, or the system itself (the consequence of another step).
ACTORS = ("organizer", "handler", "suggester", "system")


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]
    requires: tuple[str, ...] = ()
    effect: str = ""
    public: bool = False
    #: Assignment steps only: which handling roles (lead 主办, co 协办) may take it.
    handling: tuple[str, ...] = ("lead", "co")


RECOMMENDATION_STEPS: dict[str, Step] = {
    "adopt": Step((PROPOSED,), ADOPTED, ("organizer",), public=True),
    "adopt_in_part": Step((PROPOSED,), PARTLY_ADOPTED, ("organizer",), ("reason",), public=True),
    "reject": Step(
        (PROPOSED,), NOT_ADOPTED, ("organizer",), ("reason",), "suggesters hear why", True
    ),
    "assign": Step(
        (ADOPTED, PARTLY_ADOPTED),
        ASSIGNED,
        ("organizer",),
        ("lead",),
        "acceptance and reply clocks start for each department",
        True,
    ),
    "start": Step((ASSIGNED,), IN_PROGRESS, ("system",), (), "the lead accepted", True),
    "complete": Step(
        (IN_PROGRESS, REOPENED),
        COMPLETED,
        ("system",),
        (),
        "the lead's reply was approved; the feedback clock starts",
        True,
    ),
    "give_feedback": Step(
        (COMPLETED, NOT_ADOPTED),
        FEEDBACK_GIVEN,
        ("organizer",),
        ("text",),
        "credited suggesters are invited to evaluate",
        True,
    ),
    "evaluate": Step((FEEDBACK_GIVEN,), EVALUATED, ("system",), (), "first evaluation in", False),
    "reopen": Step(
        (FEEDBACK_GIVEN, EVALUATED),
        REOPENED,
        ("organizer",),
        ("reason",),
        "the lead handles it again with a new reply clock (重办); a new evaluation round",
        True,
    ),
    "close": Step((FEEDBACK_GIVEN, EVALUATED), CLOSED, ("organizer",), (), "", True),
    "recognise": Step((CLOSED, RECOGNISED), RECOGNISED, ("organizer",), ("kind",), "", True),
}

ASSIGNMENT_STEPS: dict[str, Step] = {
    "accept": Step((SUBMITTED,), ACCEPTED, ("handler",), (), "stops the acceptance clock"),
    "return": Step(
        (SUBMITTED,), RETURNED, ("handler",), ("reason",), "the organizer assigns another lead"
    ),
    "resubmit": Step((RETURNED,), SUBMITTED, ("organizer",), ("reason",), "a new acceptance clock"),
    "progress": Step(
        (ACCEPTED, IN_PROGRESS), IN_PROGRESS, ("handler", "organizer"), ("note",), "evidence kept"
    ),
    "request_extension": Step(
        (ACCEPTED, IN_PROGRESS),
        EXTENSION_REQUESTED,
        ("handler",),
        ("until", "reason"),
        "the reply clock pauses",
    ),
    "grant_extension": Step(
        (EXTENSION_REQUESTED,), IN_PROGRESS, ("organizer",), (), "the deadline moves"
    ),
    "refuse_extension": Step(
        (EXTENSION_REQUESTED,),
        IN_PROGRESS,
        ("organizer",),
        ("reason",),
        "the clock resumes, the paused working days added",
    ),
    "reply": Step(
        (ACCEPTED, IN_PROGRESS),
        REPLIED,
        ("handler",),
        ("reply",),
        "waits for every co-handler's part",
        handling=("lead",),
    ),
    "hand_in_part": Step(
        (ACCEPTED, IN_PROGRESS),
        DONE,
        ("handler",),
        ("reply",),
        "the lead may reply once every part is in",
        handling=("co",),
    ),
    "approve": Step(
        (REPLIED,),
        DONE,
        ("organizer",),
        (),
        "the recommendation is completed",
        True,
        handling=("lead",),
    ),
    "send_back": Step((REPLIED,), IN_PROGRESS, ("organizer",), ("reason",), "", handling=("lead",)),
    "reopen": Step(
        (DONE,), IN_PROGRESS, ("system",), ("reason",), "a new reply clock", handling=("lead",)
    ),
}

STATES = tuple(
    dict.fromkeys(s for step in RECOMMENDATION_STEPS.values() for s in (*step.sources, step.target))
)
ASSIGNMENT_STATES = tuple(
    dict.fromkeys(s for step in ASSIGNMENT_STEPS.values() for s in (*step.sources, step.target))
)
DECISIONS = (ADOPTED, PARTLY_ADOPTED, NOT_ADOPTED)
DECISION_STEPS = {ADOPTED: "adopt", PARTLY_ADOPTED: "adopt_in_part", NOT_ADOPTED: "reject"}


def allowed_steps(table: Mapping[str, Step], status: str, role: str | None = None) -> list[str]:
    """The steps that leave `status` (for one handling role, in the assignment table)."""
    return [
        name
        for name, step in table.items()
        if status in step.sources and (role is None or role in step.handling)
    ]


def check_step(
    table: Mapping[str, Step],
    name: str,
    status: str,
    actor: str,
    fields: Mapping[str, object],
    what: str,
    handling: str | None = None,
) -> list[Problem]:
    """Every problem with taking step `name` from `status` as `actor` with `fields`."""
    step = table.get(name)
    if step is None:
        return [Problem("step", f"unknown step {name!r}; expected one of {', '.join(table)}")]
    problems = []
    if status not in step.sources or (handling is not None and handling not in step.handling):
        allowed = ", ".join(allowed_steps(table, status, handling)) or "nothing (final state)"
        problems.append(
            Problem("status", f"{what} is {status!r}; it allows {allowed}, not {name!r}")
        )
    if actor not in step.actors:
        problems.append(
            Problem("actor", f"{name!r} is taken by {' or '.join(step.actors)}, not by {actor}")
        )
    for field in step.requires:
        value = fields.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(Problem(field, f"{name!r} needs a {field}"))
    return problems


def take(
    session: Session,
    recommendation: Recommendation,
    name: str,
    actor: str,
    actor_id: int | None = None,
    *,
    assignment: Assignment | None = None,
    note: str = "",
    deadline: date | None = None,
    **fields: object,
) -> LoopEvent:
    """Take step `name` of the recommendation (or of `assignment`, when given) or raise
    `TransitionError` with every problem; record it in the recommendation's history."""
    if assignment is None:
        table, status, what, handling = (
            RECOMMENDATION_STEPS,
            recommendation.status,
            f"recommendation {recommendation.id}",
            None,
        )
    else:
        table, status, handling = ASSIGNMENT_STEPS, assignment.status, assignment.role
        what = f"assignment {assignment.id} ({assignment.department.code}, {assignment.role})"
    problems = check_step(table, name, status, actor, {"note": note, **fields}, what, handling)
    if problems:
        raise TransitionError(problems)
    step = table[name]
    if assignment is None:
        recommendation.status = step.target
    else:
        assignment.status = step.target
    event = LoopEvent(
        recommendation_id=recommendation.id,
        assignment_id=assignment.id if assignment is not None else None,
        action=name,
        from_state=status,
        to_state=step.target,
        actor_id=actor_id,
        actor_role=actor,
        deadline=deadline or (assignment.deadline if assignment is not None else None),
        public=step.public,
        note=note.strip(),
        detail={k: _plain(v) for k, v in fields.items() if v is not None},
    )
    session.add(event)
    session.flush()
    record(
        session,
        actor_id,
        f"recommendation.{name}" if assignment is None else f"assignment.{name}",
        "recommendation" if assignment is None else "assignment",
        recommendation.id if assignment is None else assignment.id,
        previous=status,
        status=step.target,
    )
    return event


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def markdown() -> str:
    """Both tables as Markdown (the README's "Follow-up workflow" section is this text)."""
    lines = []
    for title, table in (
        ("Recommendations", RECOMMENDATION_STEPS),
        ("Assignments", ASSIGNMENT_STEPS),
    ):
        lines += [
            f"#### {title}",
            "",
            "| step | from | to | taken by | needs | effect | public |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, step in table.items():
            actors = ", ".join(step.actors)
            if table is ASSIGNMENT_STEPS and step.handling != ("lead", "co"):
                actors += f" ({', '.join(step.handling)})"
            lines.append(
                f"| `{name}` | {', '.join(step.sources)} | {step.target} | {actors} | "
                f"{', '.join(step.requires) or '–'} | {step.effect or '–'} | "
                f"{'yes' if step.public else 'no'} |"
            )
        lines.append("")
    return "\n".join(lines)
