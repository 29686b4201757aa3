"""Golden ideas (金点子): units nominate suggestions (单位推荐: the organizers and the linked
departments), experts score them (专家评分), and the panel picks the best from the ranking once
the round is closed (集中评审)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.errors import InputError, Problem
from minsheng.masking import masked
from reviews.experts import review_round, round_is_open, start_review_round
from reviews.models import GoldenIdea, Nomination
from reviews.suggestions import get_suggestion, suggestion_of_answer


def _unit(campaign: Campaign, nominator: User | None) -> tuple[str, int | None]:
    """The nominating unit of `nominator`: `organizer` for the campaign's organizers (and
    commands run without a user), the department's code for a linked department's user."""
    if nominator is None or nominator.role in ("organizer", "admin"):
        return "organizer", None
    if nominator.role == "department" and nominator.department is not None:
        if nominator.department in campaign.departments:
            return nominator.department.code, nominator.department.id
        raise InputError(
            [
                Problem(
                    "unit",
                    f"department {nominator.department.code!r} is not linked to campaign "
                    f"{campaign.slug!r}",
                )
            ]
        )
    raise InputError(
        [Problem("unit", f"role {nominator.role!r} cannot nominate; units nominate, experts score")]
    )


def nominate_suggestion(
    session: Session,
    campaign: Campaign,
    suggestion_id: int,
    nominator: User | None,
    reason: str = "",
) -> Nomination:
    """A unit puts a suggestion forward with its rationale (单位推荐), within the round's quota
    per unit and while the round is open; nominating it again returns the nomination."""
    unit, department_id = _unit(campaign, nominator)
    item = get_suggestion(session, campaign, suggestion_id)
    current = review_round(session, campaign)
    existing = session.scalar(
        select(Nomination).where(Nomination.suggestion_id == item.id, Nomination.unit == unit)
    )
    if existing is not None:
        return existing
    problems = []
    if not round_is_open(session, campaign):
        problems.append(Problem("round", "the review round is closed; nominations are over"))
    used = session.scalar(
        select(func.count(Nomination.id)).where(
            Nomination.campaign_id == campaign.id, Nomination.unit == unit
        )
    )
    if (used or 0) >= current.nomination_quota:
        problems.append(
            Problem("quota", f"unit {unit!r} has used its {current.nomination_quota} nominations")
        )
    if len(reason.strip()) > 2000:
        problems.append(Problem("reason", f"{len(reason.strip())} characters; at most 2000"))
    if problems:
        raise InputError(problems)
    nomination = Nomination(
        campaign_id=campaign.id,
        suggestion_id=item.id,
        response_id=item.sources[0].response_id,
        question_name=item.question_name,
        unit=unit,
        department_id=department_id,
        nominated_by_id=nominator.id if nominator else None,
        reason=masked(reason.strip()),
    )
    session.add(nomination)
    session.flush()
    record(
        session,
        nominator.id if nominator else None,
        "review.nominate",
        "suggestion",
        item.id,
        nomination=nomination.id,
        unit=unit,
    )
    return nomination


def nominate(
    session: Session,
    campaign: Campaign,
    response_id: int,
    question_name: str,
    actor_id: int | None = None,
    reason: str = "",
) -> Nomination:
    """`nominate_suggestion` for the suggestion holding response `response_id`'s answer to
    `question_name`, by the user `actor_id` (None: the organizers). The round is started
    (suggestions stored) when it has not been."""
    current = review_round(session, campaign)
    if current.started_at is None:
        start_review_round(session, campaign, actor_id)
    item = suggestion_of_answer(session, campaign, response_id, question_name)
    nominator = session.get(User, actor_id) if actor_id is not None else None
    return nominate_suggestion(session, campaign, item.id, nominator, reason)


def campaign_nominations(session: Session, campaign: Campaign) -> list[Nomination]:
    stmt = select(Nomination).where(Nomination.campaign_id == campaign.id).order_by(Nomination.id)
    return list(session.scalars(stmt))


def choose_golden_ideas(
    session: Session,
    campaign: Campaign,
    citations: Mapping[int, str],
    actor_id: int | None = None,
) -> list[GoldenIdea]:
    """The panel decision: mark the nominations in `citations` (nomination id -> citation text)
    as golden ideas. Needs a closed review round, nominations of this campaign and a citation
    for each; a nomination chosen before keeps its row and gets the new citation."""
    problems = []
    if round_is_open(session, campaign):
        problems.append(
            Problem("round", "close the review round first; the panel decides on final scores")
        )
    if not citations:
        problems.append(Problem("nominations", "choose at least one nominated suggestion"))
    nominations = {
        n.id: n
        for n in session.scalars(select(Nomination).where(Nomination.id.in_(list(citations))))
    }
    for nomination_id, citation in citations.items():
        nomination = nominations.get(nomination_id)
        if nomination is None or nomination.campaign_id != campaign.id:
            problems.append(
                Problem(
                    f"nomination {nomination_id}",
                    f"is not a nomination of campaign {campaign.slug!r}",
                )
            )
        elif not citation.strip():
            problems.append(Problem(f"nomination {nomination_id}", "needs a citation text"))
    if problems:
        raise InputError(problems)
    chosen = []
    for nomination_id, citation in citations.items():
        golden = session.scalar(select(GoldenIdea).where(GoldenIdea.nomination_id == nomination_id))
        if golden is None:
            golden = GoldenIdea(nomination_id=nomination_id, citation="", decided_by_id=actor_id)
            session.add(golden)
        # The citation quotes the suggestion; personal data copied with it is stored masked.
        golden.citation = masked(citation.strip())
        chosen.append(golden)
    session.flush()
    for golden in chosen:
        record(
            session,
            actor_id,
            "review.golden_idea",
            "golden_idea",
            golden.id,
            nomination=golden.nomination_id,
        )
    return chosen


def golden_ideas(session: Session, campaign: Campaign) -> list[GoldenIdea]:
    """The campaign's golden ideas in the order they were decided."""
    stmt = (
        select(GoldenIdea)
        .join(Nomination, Nomination.id == GoldenIdea.nomination_id)
        .where(Nomination.campaign_id == campaign.id)
        .order_by(GoldenIdea.id)
    )
    return list(session.scalars(stmt))
