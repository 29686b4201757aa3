"""Celery tasks of the recommendations (queue `default`): thin wrappers around `escalation`."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from flask import current_app

from invitations.channels import SmtpChannel, SmtpSettings
from minsheng.db import get_session, local_date, utcnow
from minsheng.jobs import DATABASE_RETRY
from recommendations.escalation import escalate_overdue, notify_escalations


@shared_task(
    name="recommendations.escalate_overdue",
    # Safe to redeliver: escalations are unique per assignment, level and day, and only rows
    # not yet notified are e-mailed.
    acks_late=True,
    **DATABASE_RETRY,
)
def escalate_overdue_task(today: str | None = None) -> dict[str, int]:
    """Escalate overdue assignments as of `today` (ISO date; default: today in Beijing), commit,
    then e-mail the escalations not yet notified through the configured SMTP server."""
    session = get_session()
    day = date.fromisoformat(today) if today else local_date(utcnow())
    added = escalate_overdue(session, day)
    session.commit()
    channel = SmtpChannel(SmtpSettings.from_config(current_app.config))
    notices = notify_escalations(session, channel, current_app.config["BASE_URL"])
    session.commit()
    return {"escalated": len(added), "notified": notices.sent, "failed": notices.failed}
