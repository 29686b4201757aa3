"""Scoring suggestions against the round's rubric (专家评): independent first, each expert on
the items assigned to them; other experts' scores and the discussion open to an expert once
they have submitted their own; a revision is a new version linked to the first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from minsheng.masking import masked
from reviews.assignment import task_of
from reviews.experts import review_round, round_is_open
from reviews.models import DiscussionPost, Review, ReviewTask, Suggestion
from reviews.rubrics import checked_values, scored

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_POST = 5000


def submit_review(
    session: Session,
    campaign: Campaign,
    expert: User,
    suggestion_id: int,
    scores: Mapping[str, object],
    comment: str = "",
) -> Review:
    """Store `expert`'s scores of an assigned suggestion under the round's rubric; a second
    submission is a revision (version 2, 3...) pointing at the one it revises. Refused, with
    every reason at once, when the item is not assigned to the expert, the round is closed, or a
    criterion is missing, unknown or out of range."""
    current = review_round(session, campaign)
    task = task_of(session, campaign, expert, suggestion_id)
    problems: list[Problem] = []
    if task is None:
        problems.append(
            Problem(
                "suggestion", f"suggestion {suggestion_id} is not assigned to {expert.username!r}"
            )
        )
    if not round_is_open(session, campaign):
        problems.append(
            Problem("round", f"the review round of {campaign.slug!r} is closed; scores are final")
        )
    rubric = current.rubric
    if rubric is None:
        problems.append(Problem("round", "the review round has not started"))
        raise InputError(problems)
    values, invalid = checked_values(rubric, scores)
    problems.extend(invalid)
    if problems or task is None:
        raise InputError(problems)
    previous = latest_review(session, task)
    result = scored(rubric, values)
    review = Review(
        task_id=task.id,
        suggestion_id=suggestion_id,
        expert_id=expert.id,
        rubric_id=rubric.id,
        version=previous.version + 1 if previous else 1,
        previous_id=previous.id if previous else None,
        scores=values,
        total=result.total,
        gated=result.gated,
        comment=masked(comment.strip()),
    )
    session.add(review)
    task.status = "submitted"
    task.answered_at = utcnow()
    session.flush()
    record(
        session,
        expert.id,
        "review.revise" if previous else "review.score",
        "suggestion",
        suggestion_id,
        version=review.version,
        rubric=rubric.version,
        **values,
    )
    return review


def latest_review(session: Session, task: ReviewTask) -> Review | None:
    return session.scalar(
        select(Review).where(Review.task_id == task.id).order_by(Review.version.desc())
    )


def task_reviews(session: Session, task: ReviewTask) -> list[Review]:
    """Every version of the task's scores, first first."""
    return list(
        session.scalars(select(Review).where(Review.task_id == task.id).order_by(Review.version))
    )


def campaign_reviews(session: Session, campaign: Campaign, which: str = "latest") -> list[Review]:
    """One review per task: its `latest` version (what the ranking uses) or its `first`, the
    independent score (what agreement is measured on); `all` gives every version."""
    if which not in ("latest", "first", "all"):
        raise ValueError(f"which: got {which!r}; expected latest, first or all")
    stmt = (
        select(Review)
        .join(Suggestion, Suggestion.id == Review.suggestion_id)
        .where(Suggestion.campaign_id == campaign.id)
        .order_by(Review.id)
    )
    if which != "all":
        pick = func.max(Review.version) if which == "latest" else func.min(Review.version)
        chosen = select(Review.task_id, pick.label("v")).group_by(Review.task_id).subquery()
        stmt = stmt.join(
            chosen, (chosen.c.task_id == Review.task_id) & (chosen.c.v == Review.version)
        )
    return list(session.scalars(stmt))


def has_submitted(session: Session, campaign: Campaign, expert: User, suggestion_id: int) -> bool:
    task = task_of(session, campaign, expert, suggestion_id)
    return task is not None and latest_review(session, task) is not None


@dataclass(frozen=True)
class PeerScore:
    """Another expert's latest scores as an expert sees them: by number, never by name."""

    label: int
    scores: dict[str, int]
    total: float
    comment: str
    version: int


def peer_scores(
    session: Session, campaign: Campaign, viewer: User, suggestion_id: int
) -> list[PeerScore] | None:
    """The other experts' latest scores of the suggestion, or None while `viewer` (an expert)
    has not submitted their own: independent first."""
    if viewer.role == "expert" and not has_submitted(session, campaign, viewer, suggestion_id):
        return None
    latest = {
        r.task_id: r
        for r in campaign_reviews(session, campaign)
        if r.suggestion_id == suggestion_id
    }
    others = sorted(
        (r for r in latest.values() if r.expert_id != viewer.id), key=lambda r: r.task_id
    )
    return [
        PeerScore(i + 1, dict(r.scores), r.total, r.comment, r.version)
        for i, r in enumerate(others)
    ]


def post_discussion(
    session: Session, campaign: Campaign, author: User, suggestion_id: int, text: str
) -> DiscussionPost:
    """Add to the suggestion's discussion. An expert may post once they have scored it; the
    campaign's organizers (checked by the caller's permission) at any time."""
    problems = []
    item = session.get(Suggestion, suggestion_id)
    if item is None or item.campaign_id != campaign.id:
        raise InputError(
            [Problem("suggestion", f"no suggestion {suggestion_id} in {campaign.slug!r}")]
        )
    if author.role == "expert" and not has_submitted(session, campaign, author, suggestion_id):
        problems.append(Problem("text", "submit your own score first; the discussion opens after"))
    body = text.strip()
    if not body:
        problems.append(Problem("text", "a message needs some text"))
    elif len(body) > MAX_POST:
        problems.append(Problem("text", f"{len(body)} characters; at most {MAX_POST}"))
    if problems:
        raise InputError(problems)
    post = DiscussionPost(suggestion_id=suggestion_id, author_id=author.id, text=masked(body))
    session.add(post)
    session.flush()
    record(session, author.id, "review.discuss", "suggestion", suggestion_id, post=post.id)
    return post


def discussion(session: Session, suggestion_id: int) -> list[DiscussionPost]:
    stmt = (
        select(DiscussionPost)
        .where(DiscussionPost.suggestion_id == suggestion_id)
        .order_by(DiscussionPost.id)
    )
    return list(session.scalars(stmt))


def score_table(
    reviews: list[Review], criterion: str | None
) -> tuple[npt.NDArray[np.float64], list[int], list[int]]:
    """Suggestions x experts table of one criterion's scores (`None`: the weighted totals),
    NaN where an expert gave none, with the suggestion ids (rows) and expert ids (columns)."""
    import numpy as np  # the statistics load with the agreement page, not the app (issue 10)

    keys = sorted({r.suggestion_id for r in reviews})
    experts = sorted({r.expert_id for r in reviews})
    row = {key: i for i, key in enumerate(keys)}
    column = {expert: j for j, expert in enumerate(experts)}
    table = np.full((len(keys), len(experts)), np.nan)
    for r in reviews:
        value = r.total if criterion is None else r.scores.get(criterion)
        if value is not None:
            table[row[r.suggestion_id], column[r.expert_id]] = float(value)
    return table, keys, experts
