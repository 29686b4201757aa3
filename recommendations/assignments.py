"""Handing a recommendation to a lead department (主办) and co-handling ones (协办) with working-day
clocks (交办), and what a department does with it (办理): accept or return it, ask for more time,
report progress with evidence, reply; the organizer grants time and approves or sends back the
lead's reply (办结). Every step goes through `workflow.take`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from minsheng.accounts.models import Department, User
from minsheng.db import local_date, utcnow
from minsheng.errors import Problem
from minsheng.workdays import CalendarError, WorkCalendar, calendar_for
from recommendations import clocks
from recommendations.clocks import policy_for
from recommendations.errors import RecommendationError
from recommendations.evidence import Upload, check_uploads, store_uploads
from recommendations.models import Assignment, LoopEvent, ProgressUpdate, Recommendation
from recommendations.workflow import (
    ADOPTED,
    ASSIGNED,
    ASSIGNMENT_STEPS,
    DONE,
    IN_PROGRESS,
    PARTLY_ADOPTED,
    RECOMMENDATION_STEPS,
    REOPENED,
    RETURNED,
    check_step,
    take,
)

MAX_TEXT = 5000


def lead_assignment(recommendation: Recommendation) -> Assignment | None:
    """The lead department's assignment in force: the newest lead that did not return it."""
    leads = [a for a in recommendation.assignments if a.role == "lead" and a.status != RETURNED]
    return max(leads, key=lambda a: a.id) if leads else None


def actor_for(user: User, assignment: Assignment) -> str:
    """`handler` for a user of the assigned department, `organizer` for staff who run it."""
    if user.role == "department":
        if user.department_id != assignment.department_id:
            raise RecommendationError(
                [
                    Problem(
                        "assignment", f"{user.username!r} is not in {assignment.department.code!r}"
                    )
                ]
            )
        return "handler"
    if user.role in ("organizer", "admin"):
        return "organizer"
    raise RecommendationError([Problem("actor", f"role {user.role!r} cannot act on assignments")])


def assign_to_departments(
    session: Session,
    recommendation: Recommendation,
    lead: Department | None,
    co_handlers: Sequence[Department] = (),
    *,
    tasks: dict[int, str] | None = None,
    deadline: date | None = None,
    actor_id: int | None = None,
    today: date | None = None,
    calendar: WorkCalendar | None = None,
) -> list[Assignment]:
    """Hand the recommendation to one lead and any co-handlers (交办), each with its own task.

    Clocks come from the campaign's `DeadlinePolicy` in working days from `today`: accept within
    `accept_days`, reply within `reply_days` (co-handlers `co_reply_days`). `deadline` may set
    the lead's reply day by hand; it must be a working day after today. A lead is needed the
    first time and again after a lead returned the task; co-handlers may be added later. A
    department already handling it is refused, so its deadline never changes silently.
    """
    today = today or clocks.today()
    calendar = calendar or calendar_for(session)
    policy = policy_for(session, recommendation.campaign)
    tasks = tasks or {}
    problems: list[Problem] = []
    current = lead_assignment(recommendation)
    first = recommendation.status in (ADOPTED, PARTLY_ADOPTED)
    if first:
        problems += check_step_for_assign(recommendation, lead)
    elif recommendation.status not in (ASSIGNED, IN_PROGRESS, REOPENED):
        problems.append(
            Problem(
                "status",
                f"recommendation {recommendation.id} is {recommendation.status!r}; it is assigned "
                "once adopted and until it is completed",
            )
        )
    if lead is not None and current is not None:
        problems.append(
            Problem("lead", f"{current.department.name} is the lead already; add co-handlers")
        )
    if lead is None and current is None and not first:
        problems.append(Problem("lead", "choose the lead department (主办)"))
    if lead is None and not co_handlers:
        problems.append(Problem("co_handlers", "choose at least one department"))
    busy = {a.department_id for a in recommendation.assignments if a.status != RETURNED}
    chosen = [d for d in (lead, *co_handlers) if d is not None]
    for department in chosen:
        if department.id in busy or chosen.count(department) > 1:
            problems.append(
                Problem("co_handlers", f"{department.name} ({department.code}) handles it already")
            )
    try:
        accept_due = calendar.add_working_days(today, policy.accept_days)
        reply_due = calendar.add_working_days(today, policy.reply_days)
        co_due = calendar.add_working_days(today, policy.co_reply_days)
        if deadline is not None:
            if deadline <= today or not calendar.is_working_day(deadline):
                problems.append(
                    Problem("deadline", f"{deadline} is not a working day after today ({today})")
                )
            reply_due = deadline
            co_due = min(co_due, deadline)
    except CalendarError as exc:  # a year without a holiday notice
        raise RecommendationError([*problems, *exc.problems]) from exc
    if problems:
        raise RecommendationError(problems)
    created = []
    for department in chosen:
        role = "lead" if department is lead else "co"
        assignment = Assignment(
            department=department,
            role=role,
            task=tasks.get(department.id, "").strip()[:MAX_TEXT],
            accept_due=accept_due,
            deadline=reply_due if role == "lead" else co_due,
            status="submitted",
        )
        recommendation.assignments.append(assignment)
        created.append(assignment)
    session.flush()
    for assignment in created:
        session.add(
            LoopEvent(
                recommendation_id=recommendation.id,
                assignment_id=assignment.id,
                action=f"assign_{assignment.role}",
                to_state="submitted",
                actor_id=actor_id,
                actor_role="organizer",
                deadline=assignment.deadline,
                public=assignment.role == "lead",
                detail={"department": assignment.department.code, "accept_due": str(accept_due)},
            )
        )
    if first:
        take(
            session,
            recommendation,
            "assign",
            "organizer",
            actor_id,
            deadline=reply_due,
            lead=lead.code if lead else None,
        )
    session.flush()
    return created


def check_step_for_assign(recommendation: Recommendation, lead: Department | None) -> list[Problem]:
    return check_step(
        RECOMMENDATION_STEPS,
        "assign",
        recommendation.status,
        "organizer",
        {"lead": lead.code if lead else None},
        f"recommendation {recommendation.id}",
    )


def _locked(session: Session, assignment: Assignment) -> Assignment:
    """The assignment row locked for this transaction (PostgreSQL `FOR UPDATE`; SQLite serialises
    writers anyway): two steps at once are taken one after the other, never both from one state."""
    session.execute(select(Assignment.id).where(Assignment.id == assignment.id).with_for_update())
    session.refresh(assignment)
    return assignment


def accept(session: Session, assignment: Assignment, user: User) -> None:
    """签收: the department takes the task; its reply clock runs on."""
    _locked(session, assignment)
    take(
        session,
        assignment.recommendation,
        "accept",
        actor_for(user, assignment),
        user.id,
        assignment=assignment,
    )
    assignment.accepted_at = utcnow()
    recommendation = assignment.recommendation
    if assignment.role == "lead" and recommendation.status == ASSIGNED:
        take(session, recommendation, "start", "system", user.id)
    session.flush()


def return_assignment(session: Session, assignment: Assignment, user: User, reason: str) -> None:
    """退回: not this department's business; the organizer assigns another lead."""
    _locked(session, assignment)
    take(
        session,
        assignment.recommendation,
        "return",
        actor_for(user, assignment),
        user.id,
        assignment=assignment,
        note=reason,
        reason=reason,
    )
    assignment.reason = reason.strip()[:MAX_TEXT]
    session.flush()


def request_extension(
    session: Session,
    assignment: Assignment,
    user: User,
    until: date | None,
    reason: str,
    today: date | None = None,
) -> None:
    """延期申请: ask for a later reply day; the reply clock pauses until the organizer decides."""
    today = today or clocks.today()
    _locked(session, assignment)
    calendar = calendar_for(session)
    if until is not None:
        problems = []
        if until <= assignment.deadline:
            problems.append(
                Problem("until", f"{until} is not after the deadline {assignment.deadline}")
            )
        else:
            try:
                if not calendar.is_working_day(until):
                    problems.append(Problem("until", f"{until} is not a working day"))
            except CalendarError as exc:
                problems.extend(exc.problems)
        if problems:
            raise RecommendationError(problems)
    take(
        session,
        assignment.recommendation,
        "request_extension",
        actor_for(user, assignment),
        user.id,
        assignment=assignment,
        note=reason,
        until=until,
        reason=reason,
    )
    assignment.extension_until = until
    assignment.reason = reason.strip()[:MAX_TEXT]
    assignment.paused_on = today
    session.flush()


def decide_extension(
    session: Session,
    assignment: Assignment,
    user: User,
    grant: bool,
    reason: str = "",
    today: date | None = None,
) -> None:
    """The organizer grants the requested day, or refuses: the clock resumes with the working
    days it was paused added, so waiting for the answer never costs the department time."""
    today = today or clocks.today()
    _locked(session, assignment)
    actor = actor_for(user, assignment)
    name = "grant_extension" if grant else "refuse_extension"
    calendar = calendar_for(session)
    if grant and assignment.extension_until is not None:
        new_deadline = assignment.extension_until
    else:
        paused = calendar.working_days_between(assignment.paused_on or today, today)
        new_deadline = (
            calendar.add_working_days(assignment.deadline, paused)
            if paused
            else assignment.deadline
        )
    take(
        session,
        assignment.recommendation,
        name,
        actor,
        user.id,
        assignment=assignment,
        note=reason,
        deadline=new_deadline,
        reason=reason or None,
    )
    assignment.deadline = new_deadline
    assignment.paused_on = None
    assignment.extension_until = None
    session.flush()


def record_progress(
    session: Session,
    assignment: Assignment,
    author: User,
    note: str,
    uploads: Sequence[Upload] = (),
    percent: int | None = None,
) -> ProgressUpdate:
    """Add a progress note with evidence files and, optionally, the share of the work done.

    The update's number is the next one of the assignment with the row locked, so two updates
    posted at once get two numbers and their files two keys; the files are removed again if
    the transaction rolls back (`evidence.store_uploads`).
    """
    problems = []
    actor = actor_for(author, assignment)
    _locked(session, assignment)
    problems += check_step(
        ASSIGNMENT_STEPS,
        "progress",
        assignment.status,
        actor,
        {"note": note},
        f"assignment {assignment.id} ({assignment.department.code}, {assignment.role})",
    )
    if percent is not None and (isinstance(percent, bool) or not 0 <= percent <= 100):
        problems.append(Problem("percent", f"got {percent!r}; expected 0 to 100"))
    problems.extend(check_uploads(list(uploads)))
    if problems:
        raise RecommendationError(problems)
    number = 1 + (
        session.scalar(
            select(func.max(ProgressUpdate.number)).where(
                ProgressUpdate.assignment_id == assignment.id
            )
        )
        or 0
    )
    keys = store_uploads(session, assignment.id, number, list(uploads)) if uploads else []
    update = ProgressUpdate(
        assignment_id=assignment.id,
        number=number,
        author_id=author.id,
        note=note.strip()[:MAX_TEXT],
        attachments=keys,
        percent=percent,
    )
    session.add(update)
    if percent is not None:
        assignment.progress = percent
    take(
        session,
        assignment.recommendation,
        "progress",
        actor,
        author.id,
        assignment=assignment,
        note=note,
        attachments=len(keys),
        percent=percent,
    )
    return update


def reply(session: Session, assignment: Assignment, user: User, text: str) -> None:
    """答复: the lead submits its reply for approval, once every co-handler handed in its part;
    a co-handler hands in its part (the lead's reply builds on it)."""
    _locked(session, assignment)
    actor = actor_for(user, assignment)
    recommendation = assignment.recommendation
    if assignment.role == "lead":
        waiting = [
            a
            for a in recommendation.assignments
            if a.role == "co" and a.status not in (DONE, RETURNED)
        ]
        if waiting:
            names = ", ".join(a.department.name for a in waiting)
            raise RecommendationError(
                [Problem("reply", f"the co-handlers' parts are not in yet: {names}")]
            )
    name = "reply" if assignment.role == "lead" else "hand_in_part"
    take(session, recommendation, name, actor, user.id, assignment=assignment, reply=text)
    assignment.reply = text.strip()[:MAX_TEXT]
    assignment.replied_at = utcnow()
    if assignment.role == "co":
        assignment.completed_at = assignment.replied_at
        assignment.progress = 100
    session.flush()


def review_reply(
    session: Session,
    assignment: Assignment,
    user: User,
    approve: bool,
    reason: str = "",
    today: date | None = None,
) -> None:
    """The organizer approves the lead's reply (办结: the recommendation is completed and the
    feedback clock starts) or sends it back with a reason."""
    today = today or clocks.today()
    _locked(session, assignment)
    actor = actor_for(user, assignment)
    recommendation = assignment.recommendation
    if not approve:
        take(
            session,
            recommendation,
            "send_back",
            actor,
            user.id,
            assignment=assignment,
            note=reason,
            reason=reason,
        )
        return
    take(session, recommendation, "approve", actor, user.id, assignment=assignment)
    assignment.completed_at = utcnow()
    assignment.progress = 100
    policy = policy_for(session, recommendation.campaign)
    recommendation.feedback_due = calendar_for(session).add_working_days(
        today, policy.feedback_days
    )
    take(
        session, recommendation, "complete", "system", user.id, deadline=recommendation.feedback_due
    )


def _text(fields: Mapping[str, object], name: str) -> str:
    return str(fields.get(name) or "")


#: The steps of an assignment that pages and the API take, each a function of this module.
STEP_ACTIONS: dict[str, Callable[[Session, Assignment, User, Mapping[str, object]], None]] = {
    "accept": lambda s, a, u, f: accept(s, a, u),
    "return": lambda s, a, u, f: return_assignment(s, a, u, _text(f, "reason")),
    "request_extension": lambda s, a, u, f: request_extension(
        s, a, u, cast(date | None, f.get("until")), _text(f, "reason")
    ),
    "grant_extension": lambda s, a, u, f: decide_extension(s, a, u, True),
    "refuse_extension": lambda s, a, u, f: decide_extension(s, a, u, False, _text(f, "reason")),
    "reply": lambda s, a, u, f: reply(s, a, u, _text(f, "reply")),
    "approve": lambda s, a, u, f: review_reply(s, a, u, True),
    "send_back": lambda s, a, u, f: review_reply(s, a, u, False, _text(f, "reason")),
}


def take_assignment_step(
    session: Session, assignment: Assignment, user: User, step: str, fields: Mapping[str, object]
) -> None:
    """Take the named step (`STEP_ACTIONS`) for `user` with the posted `fields`."""
    action = STEP_ACTIONS.get(step)
    if action is None:
        known = ", ".join(STEP_ACTIONS)
        raise RecommendationError(
            [Problem("step", f"unknown step {step!r}; expected one of {known}")]
        )
    action(session, assignment, user, fields)


def completed_on_time(assignment: Assignment) -> bool:
    """Completed no later than the deadline day (local time)."""
    return (
        assignment.completed_at is not None
        and local_date(assignment.completed_at) <= assignment.deadline
    )


def department_assignments(session: Session, viewer: User) -> list[Assignment]:
    """The assignments a user works on: a department's own, or every one for organizers;
    open ones first, then by the nearest clock."""
    stmt = (
        select(Assignment)
        # The work list links each row to its campaign's page: load them with the rows.
        .options(selectinload(Assignment.recommendation).selectinload(Recommendation.campaign))
        .order_by(Assignment.status.in_((DONE, RETURNED)), Assignment.deadline, Assignment.id)
    )
    if viewer.role == "department":
        stmt = stmt.where(Assignment.department_id == viewer.department_id)
    elif viewer.role not in ("organizer", "admin"):
        return []
    return list(session.scalars(stmt))
