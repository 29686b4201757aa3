"""What the review pages show, read with a few SQL queries whatever the number of suggestions:
an expert's queue (search, theme, progress, deadline), the units' nomination list, and the
organizer's overview (each expert's progress, conflicts, agreement, ranking, flags, decisions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.db import local_date, utcnow
from minsheng.workdays import CalendarError, working_days_between
from reviews.experts import campaign_experts, review_round
from reviews.models import GoldenIdea, Nomination, ReviewRound, ReviewTask, Suggestion


@dataclass(frozen=True)
class Progress:
    """How far an expert is: scored of assigned, the nearest open deadline, and how many
    working days are left to it (negative: overdue)."""

    scored: int
    assigned: int
    due_on: date | None
    days_left: int | None


def expert_progress(session: Session, campaign: Campaign, expert: User) -> Progress:
    row = session.execute(
        select(
            func.count(ReviewTask.id),
            func.sum(case((ReviewTask.status == "submitted", 1), else_=0)),
            func.min(case((ReviewTask.status == "assigned", ReviewTask.due_on), else_=None)),
        )
        .join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
        .where(
            Suggestion.campaign_id == campaign.id,
            ReviewTask.expert_id == expert.id,
            ReviewTask.status.in_(("assigned", "submitted")),
        )
    ).one()
    due = row[2]
    left = None
    if due is not None:
        try:
            left = working_days_between(local_date(utcnow()), due)
        except CalendarError:  # a year no holiday notice covers yet: the date alone is shown
            left = None
    return Progress(int(row[1] or 0), int(row[0] or 0), due, left)


def _filtered(stmt: Any, search: str, theme: str) -> Any:
    if search:
        stmt = stmt.where(Suggestion.text.contains(search, autoescape=True))
    if theme:
        stmt = stmt.where(Suggestion.theme == theme)
    return stmt


@dataclass
class QueuePage:
    """One page of an expert's queue: rows of (suggestion, task), the page, the themes to
    filter by, and the expert's progress."""

    rows: list[tuple[Suggestion, ReviewTask]]
    page: int
    pages: int
    matching: int
    themes: list[str]
    progress: Progress


def queue_page(
    session: Session,
    campaign: Campaign,
    expert: User,
    search: str,
    theme: str,
    size: int,
    page_of: Callable[[int], int],
) -> QueuePage:
    """The expert's assigned suggestions matching `search` and `theme`, unscored first."""
    base = (
        select(Suggestion, ReviewTask)
        .join(ReviewTask, ReviewTask.suggestion_id == Suggestion.id)
        .where(
            Suggestion.campaign_id == campaign.id,
            ReviewTask.expert_id == expert.id,
            ReviewTask.status.in_(("assigned", "submitted")),
        )
    )
    base = _filtered(base, search, theme)
    matching = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    pages = max(1, -(-matching // size))
    page = page_of(pages)
    rows = session.execute(
        base.order_by((ReviewTask.status == "submitted").asc(), Suggestion.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    themes = sorted(
        t
        for t in session.scalars(
            select(Suggestion.theme)
            .join(ReviewTask, ReviewTask.suggestion_id == Suggestion.id)
            .where(
                Suggestion.campaign_id == campaign.id,
                ReviewTask.expert_id == expert.id,
                Suggestion.theme.is_not(None),
            )
            .distinct()
        )
        if t
    )
    return QueuePage(
        [(s, t) for s, t in rows],
        page,
        pages,
        matching,
        themes,
        expert_progress(session, campaign, expert),
    )


@dataclass
class NominationPage:
    """Suggestions a unit may nominate (a page), its nominations and how many it has left."""

    rows: list[Suggestion]
    page: int
    pages: int
    unit: str
    mine: list[Nomination]
    left: int


def nomination_page(
    session: Session,
    campaign: Campaign,
    user: User,
    search: str,
    size: int,
    page_of: Callable[[int], int],
) -> NominationPage:
    current = review_round(session, campaign)
    unit = user.department.code if user.role == "department" and user.department else "organizer"
    base = _filtered(select(Suggestion).where(Suggestion.campaign_id == campaign.id), search, "")
    count = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    pages = max(1, -(-count // size))
    page = page_of(pages)
    rows = list(
        session.scalars(
            base.order_by(Suggestion.n_sources.desc(), Suggestion.id)
            .limit(size)
            .offset((page - 1) * size)
        )
    )
    mine = list(
        session.scalars(
            select(Nomination)
            .where(Nomination.campaign_id == campaign.id, Nomination.unit == unit)
            .order_by(Nomination.id)
        )
    )
    return NominationPage(
        rows, page, pages, unit, mine, max(0, current.nomination_quota - len(mine))
    )


@dataclass
class Overview:
    """Everything the organizer's review page shows."""

    round: ReviewRound
    n_suggestions: int
    experts: list[tuple[User, Progress]]
    conflicts: list[ReviewTask]
    stepped_down: list[ReviewTask]
    agreement: list[Any]
    ranking: list[Any]
    suggestions: dict[int, Suggestion] = field(default_factory=dict)
    nominations: dict[int, list[Nomination]] = field(default_factory=dict)
    golden: dict[int, GoldenIdea] = field(default_factory=dict)
    #: Nominated suggestions nobody has scored yet, listed after the ranking.
    unscored: list[int] = field(default_factory=list)


def overview_facts(session: Session, campaign: Campaign, limit: int = 100) -> Overview:
    """The round, experts with their progress, conflicts and hand-backs, agreement and the
    best `limit` of the ranking (with their nominations and golden ideas)."""
    from reviews.ranking import campaign_agreement, item_scores
    from reviews.scoring import campaign_reviews

    current = review_round(session, campaign)
    n = int(
        session.scalar(
            select(func.count(Suggestion.id)).where(Suggestion.campaign_id == campaign.id)
        )
        or 0
    )
    tasks = select(ReviewTask).join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
    tasks = tasks.where(Suggestion.campaign_id == campaign.id).order_by(ReviewTask.id)
    conflicts = list(session.scalars(tasks.where(ReviewTask.status == "conflict")))
    stepped = list(
        session.scalars(tasks.where(ReviewTask.status.in_(("declined", "recused", "overdue"))))
    )
    ranked = item_scores(campaign_reviews(session, campaign, "latest"))[:limit]
    nominations: dict[int, list[Nomination]] = {}
    for nomination in session.scalars(
        select(Nomination).where(Nomination.campaign_id == campaign.id).order_by(Nomination.id)
    ):
        if nomination.suggestion_id is not None:
            nominations.setdefault(nomination.suggestion_id, []).append(nomination)
    nominated_ids = set(nominations)
    shown = {r.suggestion_id for r in ranked} | nominated_ids
    suggestions = {
        s.id: s for s in session.scalars(select(Suggestion).where(Suggestion.id.in_(shown)))
    }
    golden = {
        g.nomination.suggestion_id or 0: g
        for g in session.scalars(
            select(GoldenIdea)
            .join(Nomination, Nomination.id == GoldenIdea.nomination_id)
            .where(Nomination.campaign_id == campaign.id)
        )
    }
    return Overview(
        round=current,
        n_suggestions=n,
        experts=[
            (e, expert_progress(session, campaign, e)) for e in campaign_experts(session, campaign)
        ],
        conflicts=conflicts,
        stepped_down=stepped,
        agreement=campaign_agreement(session, campaign),
        ranking=ranked,
        suggestions=suggestions,
        nominations=nominations,
        golden=golden,
        unscored=sorted(nominated_ids - {r.suggestion_id for r in ranked}),
    )
