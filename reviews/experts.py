"""Which experts review which campaign (and where they work and live), and the review round:
its settings, its start (suggestions stored, rubric fixed), closing and reopening."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from reviews.models import ExpertAssignment, ExpertProfile, ReviewRound


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
    session: Session, campaign: Campaign, actor_id: int | None = None, reason: str = ""
) -> ReviewRound:
    """Let experts change their scores again. A round the panel has decided reopens only with
    a recorded reason (its decisions stay on the record)."""
    current = review_round(session, campaign)
    if current.status == "open":
        return current
    if current.status == "decided" and not reason.strip():
        raise InputError(
            [Problem("reason", "the panel has decided this round; reopening needs a reason")]
        )
    previous = current.status
    current.status = "open"
    current.closed_at = None
    session.flush()
    record(
        session,
        actor_id,
        "review.reopen_round",
        "campaign",
        campaign.id,
        was=previous,
        reason=reason.strip(),
    )
    return current


def start_review_round(
    session: Session, campaign: Campaign, actor_id: int | None = None
) -> ReviewRound:
    """Store the campaign's suggestions as records (topping up with later answers when the
    round has started before) and fix the round's rubric: its latest version, the default
    one when the organizers wrote none."""
    from reviews.rubrics import ensure_rubric
    from reviews.suggestions import build_suggestions

    current = review_round(session, campaign)
    if current.rubric_id is None:
        current.rubric = ensure_rubric(session, campaign)
    added = build_suggestions(session, campaign)
    first = current.started_at is None
    if first:
        current.started_at = utcnow()
    session.flush()
    record(
        session,
        actor_id,
        "review.start_round" if first else "review.add_suggestions",
        "campaign",
        campaign.id,
        added=added,
        rubric=current.rubric.version if current.rubric else None,
    )
    return current


def configure_round(
    session: Session,
    campaign: Campaign,
    *,
    reviews_per_item: int,
    max_per_expert: int | None,
    working_days: int,
    nomination_quota: int,
    rubric_version: int | None = None,
    actor_id: int | None = None,
) -> ReviewRound:
    """Change the round's settings. The rubric version can change only before any review
    used the round's rubric (a rubric in use does not change mid-round)."""
    from reviews.models import Rubric
    from reviews.rubrics import reviews_in_campaign

    current = review_round(session, campaign)
    problems = []
    if not 1 <= reviews_per_item <= 20:
        problems.append(Problem("reviews_per_item", f"got {reviews_per_item}; expected 1 to 20"))
    if max_per_expert is not None and max_per_expert < 1:
        problems.append(Problem("max_per_expert", f"got {max_per_expert}; expected 1 or more"))
    if not 1 <= working_days <= 60:
        problems.append(Problem("working_days", f"got {working_days}; expected 1 to 60"))
    if not 0 <= nomination_quota <= 1000:
        problems.append(Problem("nomination_quota", f"got {nomination_quota}; expected 0 to 1000"))
    rubric = None
    if rubric_version is not None:
        rubric = session.scalar(
            select(Rubric).where(
                Rubric.campaign_id == campaign.id, Rubric.version == rubric_version
            )
        )
        if rubric is None:
            problems.append(Problem("rubric_version", f"no rubric version {rubric_version}"))
        elif rubric.id != current.rubric_id and reviews_in_campaign(session, campaign):
            problems.append(
                Problem(
                    "rubric_version",
                    "experts have scored under rubric version "
                    f"{current.rubric.version if current.rubric else '?'}; it stays for this round",
                )
            )
    if problems:
        raise InputError(problems)
    current.reviews_per_item = reviews_per_item
    current.max_per_expert = max_per_expert
    current.working_days = working_days
    current.nomination_quota = nomination_quota
    if rubric is not None:
        current.rubric = rubric
    session.flush()
    record(
        session,
        actor_id,
        "review.configure_round",
        "campaign",
        campaign.id,
        k=reviews_per_item,
        cap=max_per_expert,
        days=working_days,
        quota=nomination_quota,
        rubric=current.rubric.version if current.rubric else None,
    )
    return current


def set_expert_profile(
    session: Session, expert: User, organisation: str, district: str, actor_id: int | None = None
) -> ExpertProfile:
    """Where `expert` works and lives, for conflicts of interest."""
    profile = session.get(ExpertProfile, expert.id)
    if profile is None:
        profile = ExpertProfile(user_id=expert.id)
        session.add(profile)
    profile.organisation = organisation.strip()[:200]
    profile.district = district.strip()[:120]
    session.flush()
    record(session, actor_id, "review.expert_profile", "user", expert.id)
    return profile
