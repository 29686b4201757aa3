"""Deadlines and escalation (督办) of overdue assignments, and the e-mails that announce them.

`escalate_overdue` is idempotent: an escalation row is unique per assignment, level and day, so
the beat job may run every hour (or twice after a restart) and still escalates once per level
per day. E-mails are sent in a second step for rows not yet notified, so a mail server that is
down delays the notice without losing or repeating the escalation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from hashlib import sha256

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from invitations.channels import Channel, ChannelError, OutgoingMessage
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from recommendations.models import Assignment, Escalation, Recommendation

log = logging.getLogger(__name__)

#: Days past the deadline at which each level starts: 1 催办 (reminder to the department),
#: 2 督办 (the organizers are told too), 3 挂牌督办 (administrators as well).
LEVEL_STARTS = {1: 1, 2: 7, 3: 14}
LEVEL_AUDIENCE = {
    1: ("department",),
    2: ("department", "organizer"),
    3: ("department", "organizer", "admin"),
}


def escalation_level(days_overdue: int) -> int:
    """0 when not overdue, else the highest level whose start has been reached."""
    return max((lvl for lvl, start in LEVEL_STARTS.items() if days_overdue >= start), default=0)


def escalate_overdue(session: Session, today: date) -> list[Escalation]:
    """Mark open assignments past their deadline overdue and add today's escalation at their
    level, unless it exists already. Returns the escalations added by this call."""
    stmt = (
        select(Assignment)
        .where(Assignment.completed_at.is_(None), Assignment.deadline < today)
        .options(selectinload(Assignment.recommendation))
    )
    overdue = list(session.scalars(stmt))
    existing = {
        (assignment_id, level)
        for assignment_id, level in session.execute(
            select(Escalation.assignment_id, Escalation.level).where(Escalation.on_day == today)
        )
    }
    added = []
    for assignment in overdue:
        days = (today - assignment.deadline).days
        level = escalation_level(days)
        assignment.overdue = True
        assignment.escalation_level = max(assignment.escalation_level, level)
        if (assignment.id, level) in existing:
            continue
        escalation = Escalation(
            assignment_id=assignment.id, level=level, on_day=today, days_overdue=days
        )
        session.add(escalation)
        added.append(escalation)
    session.flush()
    for escalation in added:
        record(
            session,
            None,
            "recommendation.escalate",
            "assignment",
            escalation.assignment_id,
            level=escalation.level,
            days_overdue=escalation.days_overdue,
        )
    return added


def recipients(session: Session, escalation: Escalation) -> list[str]:
    """E-mail addresses of the active users who hear of this escalation, sorted."""
    roles = LEVEL_AUDIENCE[escalation.level]
    department_id = escalation.assignment.department_id
    users = session.scalars(select(User).where(User.active.is_(True), User.role.in_(roles)))
    return sorted(
        {
            u.email
            for u in users
            if u.email and (u.role != "department" or u.department_id == department_id)
        }
    )


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


def _message(escalation: Escalation, address: str, base_url: str) -> OutgoingMessage:
    assignment = escalation.assignment
    recommendation: Recommendation = assignment.recommendation
    label = {1: "催办", 2: "督办", 3: "挂牌督办"}[escalation.level]
    page = f"/campaigns/{recommendation.campaign.slug}/recommendations/{recommendation.id}"
    link = f"{base_url.rstrip('/')}{page}" if base_url else ""
    text = (
        f"【{label}】建议事项“{recommendation.title}”已超过办理期限 {escalation.days_overdue} 天"
        f"（期限 {assignment.deadline.isoformat()}，承办单位 {assignment.department.name}）。\n"
        f"请尽快办理并上报进展。{link}\n\n"
        f"[{label}] Recommendation “{recommendation.title}” is {escalation.days_overdue} day(s) "
        f"past its deadline of {assignment.deadline.isoformat()}."
    )
    return OutgoingMessage(
        to=address,
        subject=f"【{label}】{recommendation.title}",
        text=text,
        # Stable per escalation and recipient, so a resend after a failure threads as the same.
        message_id=f"escalation-{escalation.id}-{sha256(address.encode()).hexdigest()[:12]}",
    )
