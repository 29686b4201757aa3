"""The delivery funnel of a campaign: created -> sent -> delivered / bounced -> opened -> started
-> completed, by stratum and channel, with AAPOR response rates RR1 and RR2.

Dispositions (AAPOR Standard Definitions, 10th edition 2023, internet surveys of specifically
named persons), each invitation counted once, in this order:

- I  complete (1.0): the invitation completed its response.
- P  partial (1.2): the questionnaire was started through the link but not submitted.
- R  refusal and break-off (2.10): the person opted out through a message (explicit refusal,
     2.11), or opened the message or link and never started (implicit refusal, 2.12).
- NC non-contact (2.20) and O other (2.30): no signal we receive tells these apart (an
     out-of-office reply is not read), so both are 0 and those cases fall in UH.
- UH unknown eligibility, nothing returned: never sent (3.11) or delivered with no sign since
     (3.19).
- UO unknown eligibility, other: the message was returned undelivered (bounce, 3.30) or could not
     be sent at all (permanent failure, 3.90).

RR1 = I / (I + P + R + NC + O + UH + UO); RR2 = (I + P) / (same). Both assume every case of
unknown eligibility is eligible, which makes them the most conservative rates (RR3/RR4 would
estimate e). An e-mail accepted by the receiving server counts as delivered unless it bounces
later; a step whose worker died during the call (`uncertain`) counts as sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from invitations.models import Delivery, Invitation, OptOutEvent
from invitations.quotas import stratum_values

STAGES = ("created", "sent", "delivered", "bounced", "opened", "started", "completed")
DISPOSITIONS = ("I", "P", "R", "NC", "O", "UH", "UO")


@dataclass
class FunnelCounts:
    """Invitations that reached each stage (a stage counts everyone beyond it too), the AAPOR
    dispositions and the response rates of one group."""

    created: int = 0
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0
    opted_out: int = 0
    failed: int = 0
    uncertain: int = 0
    dispositions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DISPOSITIONS, 0))

    @property
    def rr1(self) -> float | None:
        """AAPOR RR1: completes over all cases of known and unknown eligibility."""
        total = sum(self.dispositions.values())
        return self.dispositions["I"] / total if total else None

    @property
    def rr2(self) -> float | None:
        """AAPOR RR2: completes and partials over all cases of known and unknown eligibility."""
        total = sum(self.dispositions.values())
        return (self.dispositions["I"] + self.dispositions["P"]) / total if total else None

    def add(self, other: FunnelCounts) -> None:
        for item in fields(self):
            if item.name == "dispositions":
                for key, value in other.dispositions.items():
                    self.dispositions[key] += value
            else:
                setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rr1": self.rr1, "rr2": self.rr2}


@dataclass
class Funnel:
    """The funnel of one campaign: in total, and by stratum, by channel and by both."""

    campaign: str
    total: FunnelCounts
    by_stratum: dict[str, FunnelCounts]
    by_channel: dict[str, FunnelCounts]
    cells: dict[tuple[str, str], FunnelCounts]

    def to_dict(self) -> dict[str, Any]:
        """The API shape: plain JSON types, strata and channels as keys."""
        return {
            "campaign": self.campaign,
            "total": self.total.to_dict(),
            "by_stratum": {k: v.to_dict() for k, v in self.by_stratum.items()},
            "by_channel": {k: v.to_dict() for k, v in self.by_channel.items()},
            "cells": [
                {"stratum": s, "channel": c, **v.to_dict()} for (s, c), v in self.cells.items()
            ],
        }


NO_STRATUM = "(none)"
NO_CHANNEL = "(not sent)"


def stratum_label(key: str) -> str:
    """`{"district":"锦江区"}` -> `district=锦江区`, for pages and the CLI."""
    if key == NO_STRATUM:
        return key
    return ", ".join(f"{k}={v}" for k, v in stratum_values(key).items()) or key


def _flag(condition: Any) -> Any:
    return func.max(case((condition, 1), else_=0))


def funnel(session: Session, campaign: Campaign) -> Funnel:
    """Count the funnel of `campaign` in one grouped query (no row per invitation in Python)."""
    per_invitation = (
        select(
            Delivery.invitation_id,
            _flag(Delivery.state.in_(("sent", "uncertain", "bounced"))).label("sent"),
            _flag(Delivery.state == "bounced").label("bounced"),
            _flag(Delivery.state == "failed").label("failed"),
            _flag(Delivery.state == "uncertain").label("uncertain"),
            _flag(Delivery.opened_at.is_not(None)).label("opened"),
            func.min(case((Delivery.step == 0, Delivery.channel))).label("channel"),
        )
        .where(Delivery.campaign_id == campaign.id)
        .group_by(Delivery.invitation_id)
        .subquery()
    )
    opted = (
        select(OptOutEvent.invitation_id).where(OptOutEvent.campaign_id == campaign.id).subquery()
    )
    channel = func.coalesce(per_invitation.c.channel, Invitation.channel)
    columns = (
        Invitation.stratum,
        channel.label("channel"),
        Invitation.status,
        func.coalesce(per_invitation.c.sent, 0),
        func.coalesce(per_invitation.c.bounced, 0),
        func.coalesce(per_invitation.c.failed, 0),
        func.coalesce(per_invitation.c.uncertain, 0),
        func.coalesce(per_invitation.c.opened, 0),
        case((opted.c.invitation_id.is_not(None), 1), else_=0),
    )
    query = (
        select(*columns, func.count())
        .select_from(Invitation)
        .outerjoin(per_invitation, per_invitation.c.invitation_id == Invitation.id)
        .outerjoin(opted, opted.c.invitation_id == Invitation.id)
        .where(Invitation.campaign_id == campaign.id)
        .group_by(*columns)
    )
    cells: dict[tuple[str, str], FunnelCounts] = {}
    for stratum, chan, status, *flags, count in session.execute(query):
        key = (stratum or NO_STRATUM, chan or NO_CHANNEL)
        counts = cells.setdefault(key, FunnelCounts())
        sent, bounced, failed, uncertain, opened, opted_out = (bool(f) for f in flags)
        counts.add(
            _classify(status, sent, bounced, failed, uncertain, opened, opted_out, int(count))
        )
    return _assemble(campaign.slug, cells)


def _classify(
    status: str,
    sent: bool,
    bounced: bool,
    failed: bool,
    uncertain: bool,
    opened: bool,
    opted_out: bool,
    count: int,
) -> FunnelCounts:
    completed = status == "completed"
    started = completed or status == "started"
    opened = opened or started or status == "opened"
    bounced = bounced or status == "bounced"
    sent = sent or bounced or status in ("sent", "delivered")
    delivered = sent and not bounced
    c = FunnelCounts(
        created=count,
        sent=count * sent,
        delivered=count * delivered,
        bounced=count * bounced,
        opened=count * opened,
        started=count * started,
        completed=count * completed,
        opted_out=count * opted_out,
        failed=count * (failed and not sent),
        uncertain=count * uncertain,
    )
    if completed:
        code = "I"
    elif started:
        code = "P"
    elif opted_out or opened:
        code = "R"
    elif bounced or (failed and not sent):
        code = "UO"
    else:
        code = "UH"
    c.dispositions[code] = count
    return c


def _assemble(slug: str, cells: dict[tuple[str, str], FunnelCounts]) -> Funnel:
    total = FunnelCounts()
    by_stratum: dict[str, FunnelCounts] = {}
    by_channel: dict[str, FunnelCounts] = {}
    for (stratum, chan), counts in sorted(cells.items()):
        total.add(counts)
        by_stratum.setdefault(stratum, FunnelCounts()).add(counts)
        by_channel.setdefault(chan, FunnelCounts()).add(counts)
    return Funnel(
        campaign=slug,
        total=total,
        by_stratum=by_stratum,
        by_channel=by_channel,
        cells=dict(sorted(cells.items())),
    )
