"""Scoring suggestions against the rubric (专家评), and agreement between the experts who did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.results import Result
from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.errors import InputError, Problem
from reviews.experts import is_assigned, round_is_open
from reviews.models import CRITERIA, SCORE_MAX, SCORE_MIN, SuggestionScore
from reviews.suggestions import get_suggestion

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from reviews.agreement import IntraclassCorrelation, KrippendorffAlpha


def _criterion_value(name: str, raw: object, problems: list[Problem]) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if isinstance(raw, bool) or not SCORE_MIN <= value <= SCORE_MAX or str(value) != str(raw):
        problems.append(
            Problem(name, f"got {raw!r}; expected a whole number from {SCORE_MIN} to {SCORE_MAX}")
        )
    return value


def score_suggestion(
    session: Session,
    campaign: Campaign,
    expert: User,
    response_id: int,
    question_name: str,
    scores: Mapping[str, object],
    comment: str = "",
) -> SuggestionScore:
    """Store (or change) `expert`'s score of a suggestion: `scores` maps each of `CRITERIA` to
    1-5. Refused, with every reason at once, when the expert is not assigned to the campaign, the
    review round is closed, the suggestion does not exist or a criterion is missing or out of
    range."""
    problems: list[Problem] = []
    if not is_assigned(session, campaign, expert):
        problems.append(
            Problem("expert", f"{expert.username!r} is not assigned to campaign {campaign.slug!r}")
        )
    if not round_is_open(session, campaign):
        problems.append(
            Problem("round", f"the review round of {campaign.slug!r} is closed; scores are final")
        )
    unknown = sorted(set(scores) - set(CRITERIA))
    if unknown:
        problems.append(
            Problem(
                "scores",
                f"unknown criteria {', '.join(unknown)}; expected {', '.join(CRITERIA)}",
            )
        )
    values = {name: _criterion_value(name, scores.get(name, ""), problems) for name in CRITERIA}
    try:
        get_suggestion(session, campaign, response_id, question_name)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    score = expert_score(session, expert, response_id, question_name)
    action = "review.rescore" if score is not None else "review.score"
    if score is None:
        score = SuggestionScore(
            campaign_id=campaign.id,
            response_id=response_id,
            question_name=question_name,
            expert_id=expert.id,
            **values,
        )
        session.add(score)
    else:
        for name, value in values.items():
            setattr(score, name, value)
    score.comment = comment.strip()
    session.flush()
    record(
        session,
        expert.id,
        action,
        "suggestion",
        f"{response_id}:{question_name}",
        **values,
    )
    return score


def expert_score(
    session: Session, expert: User, response_id: int, question_name: str
) -> SuggestionScore | None:
    return session.scalar(
        select(SuggestionScore).where(
            SuggestionScore.response_id == response_id,
            SuggestionScore.question_name == question_name,
            SuggestionScore.expert_id == expert.id,
        )
    )


def scored_keys(session: Session, campaign: Campaign, expert: User) -> set[tuple[int, str]]:
    """The suggestions `expert` has already scored in the campaign."""
    rows = session.execute(
        select(SuggestionScore.response_id, SuggestionScore.question_name).where(
            SuggestionScore.campaign_id == campaign.id,
            SuggestionScore.expert_id == expert.id,
        )
    )
    return {(response_id, name) for response_id, name in rows}


def campaign_scores(session: Session, campaign: Campaign) -> list[SuggestionScore]:
    stmt = (
        select(SuggestionScore)
        .where(SuggestionScore.campaign_id == campaign.id)
        .order_by(SuggestionScore.id)
    )
    return list(session.scalars(stmt))


def score_table(
    scores: list[SuggestionScore], criterion: str
) -> tuple[npt.NDArray[np.float64], list[tuple[int, str]], list[int]]:
    """Suggestions x experts table of one criterion (NaN where an expert did not score), with
    the suggestion keys (rows) and expert ids (columns)."""
    import numpy as np  # the statistics load with the agreement page, not the app (issue 10)

    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; expected one of {CRITERIA}")
    keys = sorted({(s.response_id, s.question_name) for s in scores})
    experts = sorted({s.expert_id for s in scores})
    row = {key: i for i, key in enumerate(keys)}
    column = {expert: j for j, expert in enumerate(experts)}
    table = np.full((len(keys), len(experts)), np.nan)
    for s in scores:
        table[row[(s.response_id, s.question_name)], column[s.expert_id]] = getattr(s, criterion)
    return table, keys, experts


@dataclass(frozen=True)
class CriterionAgreement(Result):
    """Agreement between the experts on one rubric criterion.

    ``icc`` uses the suggestions every scoring expert rated (complete rows only); ``alpha``
    (ordinal) uses every suggestion with at least two scores.
    """

    criterion: str
    icc: IntraclassCorrelation
    alpha: KrippendorffAlpha


def campaign_agreement(session: Session, campaign: Campaign) -> list[CriterionAgreement]:
    """ICC(2,1) and ordinal Krippendorff's alpha for each criterion of the campaign's scores."""
    from reviews.agreement import icc_2_1, krippendorff_alpha

    scores = campaign_scores(session, campaign)
    result = []
    for criterion in CRITERIA:
        table, _, _ = score_table(scores, criterion)
        result.append(
            CriterionAgreement(criterion, icc_2_1(table), krippendorff_alpha(table, "ordinal"))
        )
    return result
