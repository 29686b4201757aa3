"""Reminders (提醒) to people who have not answered: at most N per campaign, spaced by a minimum
interval after the previous message, stopped by an answer, an opt-out or a bounce. The beat job
`invitations.send_reminders` plans them every hour; `invitations.sending` sends them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from contacts.lists import not_opted_out
from contacts.models import Contact
from invitations.lifecycle import NO_MORE_MESSAGES
from invitations.messages import campaign_sending_settings
from invitations.models import Delivery, Invitation
from invitations.sending import BATCH_SIZE, batches
from minsheng.db import utcnow


@dataclass(frozen=True)
class ReminderPolicy:
    """At most `maximum` reminders, each at least `interval` after the previous message."""

    maximum: int = 0
    interval: timedelta = timedelta(days=3)

    @classmethod
    def of(cls, campaign: Campaign) -> ReminderPolicy:
        """From `settings.sending.reminders: {max: 2, interval_hours: 72}`; none by default."""
        block = campaign_sending_settings(campaign).get("reminders") or {}
        return cls(
            maximum=int(block.get("max", 0)),
            interval=timedelta(hours=float(block.get("interval_hours", 72))),
        )


def plan_reminders(
    session: Session,
    campaign: Campaign,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[tuple[str, int, list[int]]]:
    """`(channel, step, invitation ids)` batches of reminders due now.

    Due: the invitation's last step went out (`sent` or `uncertain`) at least the policy's
    interval ago, fewer than `maximum` reminders were sent, the person has not completed, did
    not opt out and was not bounced. The reminder goes by the channel of the last step.
    """
    policy = ReminderPolicy.of(campaign)
    if policy.maximum <= 0:
        return []
    now = now or utcnow()
    last = (
        select(
            Delivery.invitation_id,
            func.max(Delivery.step).label("step"),
            func.max(Delivery.sent_at).label("sent_at"),
        )
        .where(Delivery.campaign_id == campaign.id)
        .group_by(Delivery.invitation_id)
        .subquery()
    )
    rows = session.execute(
        select(Invitation.id, last.c.step, Delivery.channel, Delivery.state)
        .join(last, last.c.invitation_id == Invitation.id)
        .join(
            Delivery,
            and_(Delivery.invitation_id == Invitation.id, Delivery.step == last.c.step),
        )
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(
            Invitation.campaign_id == campaign.id,
            Invitation.status.not_in(NO_MORE_MESSAGES),
            (Invitation.expires_at.is_(None)) | (Invitation.expires_at > now),
            last.c.step < policy.maximum,
            last.c.sent_at <= now - policy.interval,
            not_opted_out(),
        )
        .order_by(Invitation.id)
    )
    groups: dict[tuple[str, int], list[int]] = {}
    for invitation_id, step, channel, state in rows:
        if state in ("sent", "uncertain"):
            groups.setdefault((channel, step + 1), []).append(invitation_id)
    return [
        (channel, step, batch)
        for (channel, step), ids in sorted(groups.items())
        for batch in batches(ids, batch_size)
    ]
