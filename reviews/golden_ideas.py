"""Golden ideas (金点子): the organizing unit nominates suggestions (单位推), experts score them
(专家评), and the panel picks the best from the ranking once the round is closed (集中审)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.results import Result
from campaigns.models import Campaign
from minsheng.audit import record
from minsheng.errors import InputError, Problem
from minsheng.masking import masked
from reviews.experts import round_is_open
from reviews.models import CRITERIA, GoldenIdea, Nomination
from reviews.scoring import campaign_scores
from reviews.suggestions import campaign_suggestions, get_suggestion


def nominate(
    session: Session,
    campaign: Campaign,
    response_id: int,
    question_name: str,
    actor_id: int | None = None,
    reason: str = "",
) -> Nomination:
    """Put a suggestion forward as a candidate; nominating it again returns the nomination."""
    get_suggestion(session, campaign, response_id, question_name)
    existing = session.scalar(
        select(Nomination).where(
            Nomination.response_id == response_id, Nomination.question_name == question_name
        )
    )
    if existing is not None:
        return existing
    nomination = Nomination(
        campaign_id=campaign.id,
        response_id=response_id,
        question_name=question_name,
        nominated_by_id=actor_id,
        reason=reason.strip(),
    )
    session.add(nomination)
    session.flush()
    record(
        session,
        actor_id,
        "review.nominate",
        "suggestion",
        f"{response_id}:{question_name}",
        nomination=nomination.id,
    )
    return nomination


@dataclass(frozen=True)
class RankedSuggestion(Result):
    """A scored suggestion with its mean score (1-5, the mean over experts of each expert's mean
    of the three criteria), t interval, number of experts and per-criterion means."""

    response_id: int
    question_name: str
    text: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n_raters: int
    criteria: dict[str, float]
    nomination_id: int | None
    citation: str | None


def ranking(
    session: Session, campaign: Campaign, nominated_only: bool = False, alpha: float = 0.05
) -> list[RankedSuggestion]:
    """Scored suggestions, best mean first; ties go to the one more experts scored.

    Notes
    -----
    Each expert's score of a suggestion is the mean of the three criteria, so the criteria weigh
    equally; the interval is the t interval of `analysis.scales.mean_ci` over experts (None with
    one expert). Nominated suggestions nobody scored yet are listed last, without a mean.
    """
    # numpy, scipy and statsmodels: loaded for a ranking, not by creating the app (issue 10).
    import numpy as np

    from analysis.scales import mean_ci

    per_expert: dict[tuple[int, str], list[float]] = defaultdict(list)
    per_criterion: dict[tuple[int, str], dict[str, list[int]]] = defaultdict(
        lambda: {c: [] for c in CRITERIA}
    )
    for s in campaign_scores(session, campaign):
        key = (s.response_id, s.question_name)
        per_expert[key].append(float(np.mean([getattr(s, c) for c in CRITERIA])))
        for c in CRITERIA:
            per_criterion[key][c].append(getattr(s, c))
    nominations = {
        (n.response_id, n.question_name): n
        for n in session.scalars(select(Nomination).where(Nomination.campaign_id == campaign.id))
    }
    citations = {
        g.nomination_id: g.citation
        for g in session.scalars(
            select(GoldenIdea).where(
                GoldenIdea.nomination_id.in_([n.id for n in nominations.values()])
            )
        )
    }
    keys = set(nominations) if nominated_only else set(per_expert) | set(nominations)
    texts = {s.key: s.text for s in campaign_suggestions(session, campaign, keys=keys)}
    ranked = []
    for key in keys:
        estimate = mean_ci(np.asarray(per_expert.get(key, []), dtype=np.float64), alpha=alpha)
        nomination = nominations.get(key)
        ranked.append(
            RankedSuggestion(
                response_id=key[0],
                question_name=key[1],
                text=texts.get(key, ""),
                mean=estimate.estimate,
                ci_low=estimate.ci_low,
                ci_high=estimate.ci_high,
                n_raters=len(per_expert.get(key, [])),
                criteria={c: float(np.mean(v)) for c, v in per_criterion[key].items() if v},
                nomination_id=nomination.id if nomination else None,
                citation=citations.get(nomination.id) if nomination else None,
            )
        )
    ranked.sort(key=lambda r: (r.mean is None, -(r.mean or 0.0), -r.n_raters, r.response_id))
    return ranked


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
