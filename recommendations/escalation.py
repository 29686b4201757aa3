"""Reminders and the escalation ladder (督办) of assignments against their working-day clocks,
and the notices (e-mail and in-app) that announce them to the right people only.

`escalate_overdue` is idempotent: an escalation is unique per assignment, clock, due day and
level, so the beat job may run every hour (or twice after a restart) and each level is reached
once per breach. Notices are sent in a second step for rows not yet notified, so a mail server
that is down delays the e-mail without losing or repeating the escalation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from hashlib import sha256

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from invitations.channels import Channel, ChannelError, OutgoingMessage
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import Problem
from minsheng.workdays import calendar_for
from recommendations.clocks import assignment_clock, policy_for
from recommendations.errors import RecommendationError
from recommendations.models import Assignment, Escalation, LadderContact, Notice, Recommendation
from recommendations.workflow import DONE, RETURNED

log = logging.getLogger(__name__)

#: The rungs: 0 提醒 before the due day, 1 催办 (the handler), 2 督办 (the department head),
#: 3 挂牌督办 (the supervising office), 4 约谈 (leadership).
LEVELS = {0: "提醒", 1: "催办", 2: "督办", 3: "挂牌督办", 4: "约谈"}
TOP = max(LEVELS)


def escalation_level(working_days_overdue: int, ladder_days: int = 3) -> int:
    """0 when not overdue; 1 from the first working day past the due day, one level more every
    `ladder_days` working days after that, up to the top of the ladder."""
    if working_days_overdue < 1:
        return 0
    return min(TOP, 1 + (working_days_overdue - 1) // ladder_days)


def escalate_overdue(session: Session, today: date) -> list[Escalation]:
    """Add the reminders and escalations the open assignments' clocks call for on `today` (a
    paused clock calls for none); every level up to the one reached, once per breach. Returns
    the rows added by this call, each with an in-app notice for every recipient."""
    calendar = calendar_for(session)
    stmt = (
        select(Assignment)
        .where(Assignment.status.not_in((DONE, RETURNED)))
        .options(selectinload(Assignment.recommendation).selectinload(Recommendation.campaign))
    )
    existing = {
        (a, c, d, lvl)
        for a, c, d, lvl in session.execute(
            select(Escalation.assignment_id, Escalation.clock, Escalation.due_on, Escalation.level)
        )
    }
    added = []
    for assignment in session.scalars(stmt):
        policy = policy_for(session, assignment.recommendation.campaign)
        clock = assignment_clock(assignment, today, calendar, policy.amber_days)
        if clock is None or clock.band in ("green", "paused"):
            continue
        overdue = -clock.left if clock.band == "red" else 0
        reached = escalation_level(overdue, policy.ladder_days)
        levels = range(1, reached + 1) if clock.band == "red" else range(0, 1)
        if clock.band == "red":
            assignment.overdue = True
            assignment.escalation_level = max(assignment.escalation_level, reached)
        for level in levels:
            if (assignment.id, clock.name, clock.due, level) in existing:
                continue
            escalation = Escalation(
                assignment_id=assignment.id,
                clock=clock.name,
                due_on=clock.due,
                level=level,
                on_day=today,
                days_overdue=overdue,
            )
            session.add(escalation)
            added.append(escalation)
    session.flush()
    for escalation in added:
        # In-app notices go with the escalation itself: a mail server that is down delays
        # only the e-mail.
        for user in recipient_users(session, escalation):
            session.add(
                Notice(
                    user_id=user.id,
                    escalation_id=escalation.id,
                    text=_message(escalation, "", "").subject,
                    link=_page(escalation),
                )
            )
        record(
            session,
            None,
            "recommendation.escalate",
            "assignment",
            escalation.assignment_id,
            level=escalation.level,
            clock=escalation.clock,
            days_overdue=escalation.days_overdue,
        )
    return added


def add_ladder_contact(
    session: Session, level: int, user: User, department_id: int | None = None
) -> LadderContact:
    """Name who hears of escalations at `level` (2 to 4), for one department or all."""
    if level not in range(2, TOP + 1):
        raise RecommendationError(
            [Problem("level", f"got {level!r}; expected 2 (department head) to {TOP} (leadership)")]
        )
    if level == 2 and department_id is None:
        raise RecommendationError([Problem("department", "a department head names a department")])
    contact = LadderContact(level=level, department_id=department_id, user_id=user.id)
    session.add(contact)
    session.flush()
    record(session, None, "recommendation.ladder", "user", user.id, level=level)
    return contact


def recipient_users(session: Session, escalation: Escalation) -> list[User]:
    """The active users who hear of this escalation: the department's own users at levels 0
    and 1, the ladder's contacts for the department (or for all) above; sorted by username."""
    department_id = escalation.assignment.department_id
    if escalation.level <= 1:
        stmt = select(User).where(User.role == "department", User.department_id == department_id)
    else:
        stmt = (
            select(User)
            .join(LadderContact, LadderContact.user_id == User.id)
            .where(
                LadderContact.level == escalation.level,
                or_(
                    LadderContact.department_id.is_(None),
                    LadderContact.department_id == department_id,
                ),
            )
        )
    users = session.scalars(stmt.where(User.active.is_(True)).order_by(User.username))
    return list(dict.fromkeys(users))


def recipients(session: Session, escalation: Escalation) -> list[str]:
    """E-mail addresses of the users who hear of this escalation, sorted."""
    return sorted({u.email for u in recipient_users(session, escalation) if u.email})


@dataclass(frozen=True)
class NoticeResult:
    sent: int
    failed: int


def notify_escalations(session: Session, channel: Channel, base_url: str = "") -> NoticeResult:
    """E-mail each escalation not yet notified and mark it; the caller commits. A failure leaves
    the row for the next run; an escalation nobody with an e-mail address should hear of is
    marked with an empty recipient list (the page and the audit log still show it)."""
    pending = list(
        session.scalars(
            select(Escalation)
            .where(Escalation.notified_at.is_(None))
            .options(
                selectinload(Escalation.assignment)
                .selectinload(Assignment.recommendation)
                .selectinload(Recommendation.campaign)
            )
            .order_by(Escalation.id)
        )
    )
    plans = [(escalation, recipients(session, escalation)) for escalation in pending]
    sent = failed = 0
    opened = False
    if any(addresses for _, addresses in plans):
        try:
            channel.open()
            opened = True
        except ChannelError as exc:
            log.warning("escalation notices not sent: %s", exc)
    try:
        for escalation, addresses in plans:
            if addresses and not opened:
                failed += 1
                continue
            try:
                for address in addresses:
                    channel.send(_message(escalation, address, base_url))
            except ChannelError as exc:
                log.warning("escalation %s not notified: %s", escalation.id, exc)
                failed += 1
                continue
            escalation.notified_at = utcnow()
            escalation.notified_to = addresses
            sent += 1
            session.flush()
    finally:
        if opened:
            channel.close()
    return NoticeResult(sent, failed)


def _page(escalation: Escalation) -> str:
    recommendation = escalation.assignment.recommendation
    return f"/campaigns/{recommendation.campaign.slug}/recommendations/{recommendation.id}"


def _message(escalation: Escalation, address: str, base_url: str) -> OutgoingMessage:
    assignment = escalation.assignment
    recommendation: Recommendation = assignment.recommendation
    label = LEVELS[escalation.level]
    link = f"{base_url.rstrip('/')}{_page(escalation)}" if base_url else ""
    what = {"accept": "签收", "reply": "答复"}.get(escalation.clock, escalation.clock)
    due = escalation.due_on.isoformat() if escalation.due_on else assignment.deadline.isoformat()
    if escalation.level == 0:
        state = f"{what}期限 {due} 临近"
        english = f"is due for {escalation.clock} on {due}"
    else:
        state = f"已超过{what}期限 {escalation.days_overdue} 个工作日（期限 {due}）"
        english = (
            f"is {escalation.days_overdue} working day(s) past its {escalation.clock} day {due}"
        )
    text = (
        f"【{label}】建议事项“{recommendation.title}”{state}，"
        f"承办单位 {assignment.department.name}。\n请尽快办理。{link}\n\n"
        f"[{label}] Recommendation “{recommendation.title}” {english}."
    )
    return OutgoingMessage(
        to=address,
        subject=f"【{label}】{recommendation.title}",
        text=text,
        # Stable per escalation and recipient, so a resend after a failure threads as the same.
        message_id=f"escalation-{escalation.id}-{sha256(address.encode()).hexdigest()[:12]}",
    )


def notices_for(session: Session, user: User, limit: int = 20) -> list[Notice]:
    """The user's latest in-app notices, newest first."""
    stmt = select(Notice).where(Notice.user_id == user.id).order_by(Notice.id.desc())
    return list(session.scalars(stmt.limit(limit)))
