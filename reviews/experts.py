"""Which experts review which campaign, and the review round that scores are frozen by."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from reviews.models import ExpertAssignment, ReviewRound


def assign_expert(
    session: Session, campaign: Campaign, expert: User, actor_id: int | None = None
) -> ExpertAssignment:
    """Ask `expert` to review `campaign`; assigning twice returns the first assignment.

    Only users with role `expert` can be assigned (an organizer scoring would mix the two roles
    that 单位推、专家评 keep apart).
    """
    if expert.role != "expert":
        raise InputError(
            [
                Problem(
                    "expert",
                    f"{expert.username!r} has role {expert.role!r}; only role 'expert' can be "
                    "assigned to review",
                )
            ]
        )
    existing = session.scalar(
        select(ExpertAssignment).where(
            ExpertAssignment.campaign_id == campaign.id,
            ExpertAssignment.expert_id == expert.id,
        )
    )
    if existing is not None:
        return existing
    assignment = ExpertAssignment(
        campaign_id=campaign.id, expert_id=expert.id, assigned_by_id=actor_id
    )
    session.add(assignment)
    session.flush()
    record(
        session,
        actor_id,
        "review.assign_expert",
        "campaign",
        campaign.id,
        expert=expert.username,
    )
    return assignment


def campaign_experts(session: Session, campaign: Campaign) -> list[User]:
    """The experts assigned to the campaign, by username."""
    stmt = (
        select(User)
        .join(ExpertAssignment, ExpertAssignment.expert_id == User.id)
        .where(ExpertAssignment.campaign_id == campaign.id)
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def expert_campaigns(session: Session, expert: User) -> list[Campaign]:
    """The campaigns `expert` is assigned to, newest first."""
    stmt = (
        select(Campaign)
        .join(ExpertAssignment, ExpertAssignment.campaign_id == Campaign.id)
        .where(ExpertAssignment.expert_id == expert.id)
        .order_by(Campaign.id.desc())
    )
    return list(session.scalars(stmt))


def is_assigned(session: Session, campaign: Campaign, user: User) -> bool:
    return (
        session.scalar(
            select(ExpertAssignment.id).where(
                ExpertAssignment.campaign_id == campaign.id,
                ExpertAssignment.expert_id == user.id,
            )
        )
        is not None
    )


def review_round(session: Session, campaign: Campaign) -> ReviewRound:
    """The campaign's review round, opened (stored) on first use."""
    found = session.scalar(select(ReviewRound).where(ReviewRound.campaign_id == campaign.id))
    if found is None:
        found = ReviewRound(campaign_id=campaign.id, status="open")
        session.add(found)
        session.flush()
    return found


def round_is_open(session: Session, campaign: Campaign) -> bool:
    status = session.scalar(
        select(ReviewRound.status).where(ReviewRound.campaign_id == campaign.id)
    )
    return status in (None, "open")


def close_review_round(
    session: Session, campaign: Campaign, actor_id: int | None = None
) -> ReviewRound:
    """Freeze the scores of the campaign so the panel decides on a fixed ranking; closing a
    closed round changes nothing."""
    current = review_round(session, campaign)
    if current.status == "closed":
        return current
    current.status = "closed"
    current.closed_at = utcnow()
    current.closed_by_id = actor_id
    session.flush()
    record(session, actor_id, "review.close_round", "campaign", campaign.id)
    return current


def reopen_review_round(
    session: Session, campaign: Campaign, actor_id: int | None = None
) -> ReviewRound:
    """Let experts change their scores again (before the panel has decided)."""
    current = review_round(session, campaign)
    if current.status == "open":
        return current
    current.status = "open"
    current.closed_at = None
    session.flush()
    record(session, actor_id, "review.reopen_round", "campaign", campaign.id)
    return current
