"""What happened in the field, for a report's methods section: invitations and their AAPOR
response rates (`invitations.funnel`), questionnaires broken off before submitting (drafts never
submitted), and the moment the data were cut off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import Draft, Response
from invitations.funnel import funnel


@dataclass(frozen=True)
class Fieldwork:
    """Counts the methods section reports besides the summary.

    ``invited`` counts the invitations made (0: an open campaign, no response rate exists), of
    which ``sent`` went out; ``rr1`` and ``rr2`` are AAPOR's response rates over all of them
    (one never sent is a case of unknown eligibility), 0..1. ``broken_off`` counts
    questionnaires started (a draft saved on a page turn) and never submitted; ``started`` is
    those plus every response received, the base of the break-off rate. ``cut_off`` is when the
    data were read (UTC).
    """

    invited: int
    sent: int
    completed_invitations: int
    partial_invitations: int
    rr1: float | None
    rr2: float | None
    broken_off: int
    started: int
    cut_off: datetime
    #: Names the responses the report was built from (`snapshot_id`).
    snapshot_id: str = ""

    @property
    def break_off_rate(self) -> float | None:
        """Share of started questionnaires never submitted, 0..1; None when none started."""
        return self.broken_off / self.started if self.started else None


def campaign_fieldwork(session: Session, campaign: Campaign, cut_off: datetime) -> Fieldwork:
    """The fieldwork counts of a stored campaign as of ``cut_off``.

    A break-off is a draft without a response: a respondent who turned at least one page and
    left. A one-page questionnaire abandoned before its only submit leaves no trace, so the rate
    is a lower bound (said in the report's limitations).
    """
    counts = funnel(session, campaign).total
    broken_off = session.scalar(
        select(func.count())
        .select_from(Draft)
        .where(Draft.campaign_id == campaign.id, Draft.response_id.is_(None))
    )
    received, last_id = session.execute(
        select(func.count(), func.max(Response.id)).where(Response.campaign_id == campaign.id)
    ).one()
    return Fieldwork(
        invited=counts.created,
        sent=counts.sent,
        completed_invitations=counts.dispositions["I"],
        partial_invitations=counts.dispositions["P"],
        rr1=counts.rr1,
        rr2=counts.rr2,
        broken_off=int(broken_off or 0),
        started=int(broken_off or 0) + int(received or 0),
        cut_off=cut_off,
        snapshot_id=snapshot_id(campaign, int(received or 0), int(last_id or 0)),
    )


def snapshot_id(campaign: Campaign, received: int, last_id: int) -> str:
    """``<slug>:<responses>:<last response id>``: responses are only ever added, so the count and
    the newest id name the data a report was built from, and a re-render that finds the same
    id read the same responses."""
    return f"{campaign.slug}:{received}:{last_id}"
