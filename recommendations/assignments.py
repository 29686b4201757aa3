"""Assigning a recommendation to departments with a deadline (交办) and their progress reports
with evidence until the assignment is completed (办理, 办结)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from minsheng.accounts.models import Department, User
from minsheng.audit import record
from minsheng.db import local_date, utcnow
from minsheng.errors import Problem
from recommendations.errors import RecommendationError
from recommendations.evidence import Upload, check_uploads, store_uploads
from recommendations.models import Assignment, ProgressUpdate, Recommendation
from recommendations.workflow import (
    ASSIGNED,
    COMPLETED,
    IN_PROGRESS,
    check_transition,
    transition,
)


def assign_to_departments(
    session: Session,
    recommendation: Recommendation,
    departments: Sequence[Department],
    deadline: date,
    actor_id: int | None = None,
    today: date | None = None,
) -> list[Assignment]:
    """Hand an adopted recommendation to one or more departments with a deadline.

    The first assignment moves the recommendation to `assigned`; more departments can be added
    while it is assigned or in progress (a department already assigned is refused, so its
    deadline is never silently changed). The deadline must not be in the past.
    """
    today = today or local_date(utcnow())
    problems = []
    if recommendation.status not in (ASSIGNED, IN_PROGRESS):
        problem = check_transition(recommendation, ASSIGNED)
        if problem is not None:
            problems.append(problem)
    if not departments:
        problems.append(Problem("departments", "choose at least one department"))
    if deadline < today:
        problems.append(Problem("deadline", f"{deadline} is in the past (today is {today})"))
    already = {a.department_id for a in recommendation.assignments}
    for department in departments:
        if department.id in already:
            problems.append(
                Problem("departments", f"{department.name} ({department.code}) is already assigned")
            )
    if problems:
        raise RecommendationError(problems)
    created = []
    for department in departments:
        assignment = Assignment(department=department, deadline=deadline)
        recommendation.assignments.append(assignment)
        created.append(assignment)
    session.flush()
    for assignment in created:
        record(
            session,
            actor_id,
            "recommendation.assign",
            "recommendation",
            recommendation.id,
            department=assignment.department.code,
            deadline=deadline.isoformat(),
        )
    if recommendation.status not in (ASSIGNED, IN_PROGRESS):
        transition(session, recommendation, ASSIGNED, actor_id)
    return created


def record_progress(
    session: Session,
    assignment: Assignment,
    author: User,
    note: str,
    uploads: Sequence[Upload] = (),
    completes: bool = False,
) -> ProgressUpdate:
    """Add a progress note with evidence files; `completes` marks the assignment done (办结).

    Only a user of the assigned department (or an organizer/admin on its behalf) may report;
    a completed assignment takes no more updates. When every assignment of the recommendation is
    completed, the recommendation moves to `completed`.
    """
    problems = []
    if author.role == "department" and author.department_id != assignment.department_id:
        problems.append(
            Problem("author", f"{author.username!r} is not in {assignment.department.code!r}")
        )
    elif author.role not in ("department", "organizer", "admin"):
        problems.append(Problem("author", f"role {author.role!r} cannot report progress"))
    if assignment.status == COMPLETED:
        problems.append(Problem("assignment", f"assignment {assignment.id} is already completed"))
    if not note.strip():
        problems.append(Problem("note", "describe what was done"))
    problems.extend(check_uploads(list(uploads)))
    if problems:
        raise RecommendationError(problems)
    number = 1 + (
        session.scalar(
            select(func.count(ProgressUpdate.id)).where(
                ProgressUpdate.assignment_id == assignment.id
            )
        )
        or 0
    )
    keys = store_uploads(assignment.id, number, list(uploads)) if uploads else []
    update = ProgressUpdate(
        assignment_id=assignment.id,
        author_id=author.id,
        note=note.strip(),
        attachments=keys,
        completes=completes,
    )
    session.add(update)
    assignment.status = COMPLETED if completes else IN_PROGRESS
    if completes:
        assignment.completed_at = utcnow()
    session.flush()
    record(
        session,
        author.id,
        "recommendation.progress",
        "assignment",
        assignment.id,
        completes=completes,
        attachments=keys,
    )
    _advance(session, assignment.recommendation, author.id)
    return update


def _advance(session: Session, recommendation: Recommendation, actor_id: int) -> None:
    session.refresh(recommendation, ["assignments"])
    if all(a.status == COMPLETED for a in recommendation.assignments):
        transition(session, recommendation, COMPLETED, actor_id)
    elif recommendation.status == ASSIGNED:
        transition(session, recommendation, IN_PROGRESS, actor_id)


def completed_on_time(assignment: Assignment) -> bool:
    """Completed no later than the deadline day (local time)."""
    return (
        assignment.completed_at is not None
        and local_date(assignment.completed_at) <= assignment.deadline
    )


def department_assignments(session: Session, viewer: User) -> list[Assignment]:
    """The assignments a user works on: a department's own, or every one for organizers;
    open ones first, then by deadline."""
    stmt = (
        select(Assignment)
        # The work list links each row to its campaign's page: load them with the rows.
        .options(selectinload(Assignment.recommendation).selectinload(Recommendation.campaign))
        .order_by(Assignment.completed_at.is_not(None), Assignment.deadline)
    )
    if viewer.role == "department":
        stmt = stmt.where(Assignment.department_id == viewer.department_id)
    elif viewer.role not in ("organizer", "admin"):
        return []
    return list(session.scalars(stmt))
