"""Rubrics as versioned data: criteria with weights, an anchor for every level of the 1-5 scale
and optional gates. The default is the screening of a suggestion by the authenticity of the
problem (问题的真实性), the certainty of its cause (原因的确定性) and the feasibility of the remedy
(对策的可行性)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.audit import record
from minsheng.errors import InputError, Problem
from reviews.models import Review, Rubric, RubricCriterion, Suggestion

SCORE_MIN, SCORE_MAX = 1, 5
LEVELS = SCORE_MAX - SCORE_MIN + 1
_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")

#: The default rubric, as an organizer would write it (see `rubric_spec`).
DEFAULT_RUBRIC: list[dict[str, Any]] = [
    {
        "key": "authenticity",
        "label": {"zh": "问题的真实性", "en": "Authenticity of the problem"},
        "weight": 1.0,
        "gate": 2,
        "anchors": [
            {
                "zh": "无事实依据，问题不存在",
                "en": "No facts behind it; the problem does not exist",
            },
            {"zh": "个别现象，依据不足", "en": "An isolated case, weakly supported"},
            {"zh": "有一定依据，范围有限", "en": "Some evidence, limited in scope"},
            {"zh": "有事实依据，较为普遍", "en": "Backed by facts and fairly widespread"},
            {"zh": "事实清楚，普遍存在且影响大", "en": "Clear facts, widespread, large impact"},
        ],
    },
    {
        "key": "cause",
        "label": {"zh": "原因的确定性", "en": "Certainty of the cause"},
        "weight": 1.0,
        "gate": None,
        "anchors": [
            {"zh": "未分析原因", "en": "No cause given"},
            {"zh": "原因推测，缺乏依据", "en": "A guessed cause without support"},
            {"zh": "指出部分原因", "en": "Part of the cause identified"},
            {"zh": "原因分析合理", "en": "A sound analysis of the cause"},
            {"zh": "原因明确，分析透彻", "en": "Cause clear and thoroughly analysed"},
        ],
    },
    {
        "key": "feasibility",
        "label": {"zh": "对策的可行性", "en": "Feasibility of the remedy"},
        "weight": 1.0,
        "gate": None,
        "anchors": [
            {"zh": "没有对策或无法实施", "en": "No remedy, or one that cannot be done"},
            {"zh": "对策笼统，难以操作", "en": "A vague remedy, hard to act on"},
            {"zh": "对策可行但代价较大", "en": "Feasible, at a high cost"},
            {"zh": "对策具体可行", "en": "A concrete, feasible remedy"},
            {"zh": "对策具体、成本合理、可推广", "en": "Concrete, affordable and replicable"},
        ],
    },
]


@dataclass(frozen=True)
class Scored:
    """A review's weighted total (on the 1-5 scale) and whether a gate excluded it."""

    total: float
    gated: bool
    failed_gates: tuple[str, ...]


def _label(value: object, where: str, problems: list[Problem]) -> dict[str, str]:
    if isinstance(value, str):
        value = {"zh": value}
    if not isinstance(value, Mapping) or not str(value.get("zh") or "").strip():
        problems.append(Problem(where, "needs a Chinese text (zh)"))
        return {}
    return {str(k): str(v).strip() for k, v in value.items() if str(v).strip()}


def _criterion(item: object, at: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        problems.append(
            Problem(at, f"expected a mapping with key, label, weight, anchors; got {item!r}")
        )
        return None
    unknown = sorted(set(item) - {"key", "label", "weight", "gate", "anchors"})
    if unknown:
        problems.append(
            Problem(
                at,
                f"unknown fields {', '.join(map(str, unknown))}; expected key, label, "
                "weight, gate, anchors",
            )
        )
    key = str(item.get("key") or "")
    if not key or not set(key) <= _KEY_CHARS or len(key) > 40:
        problems.append(
            Problem(f"{at}.key", f"got {key!r}; expected lower-case letters, digits, _")
        )
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        problems.append(Problem(f"{at}.weight", f"got {weight!r}; expected a number above 0"))
        weight = 1.0
    gate = item.get("gate")
    if gate is not None and (
        isinstance(gate, bool) or not isinstance(gate, int) or not SCORE_MIN < gate <= SCORE_MAX
    ):
        problems.append(
            Problem(
                f"{at}.gate",
                f"got {gate!r}; expected none or a whole number from "
                f"{SCORE_MIN + 1} to {SCORE_MAX} (scores below it exclude)",
            )
        )
        gate = None
    anchors = item.get("anchors")
    if not isinstance(anchors, Sequence) or isinstance(anchors, str) or len(anchors) != LEVELS:
        problems.append(
            Problem(
                f"{at}.anchors",
                f"expected {LEVELS} anchor texts, one per level "
                f"{SCORE_MIN}-{SCORE_MAX}; got {anchors!r}",
            )
        )
        anchors = []
    return {
        "key": key,
        "label": _label(item.get("label"), f"{at}.label", problems),
        "weight": float(weight),
        "gate": gate,
        "anchors": [
            _label(text, f"{at}.anchors[{SCORE_MIN + i}]", problems)
            for i, text in enumerate(anchors)
        ],
    }


def checked_spec(spec: object) -> list[dict[str, Any]]:
    """`spec` (a list of criteria) checked and normalised; `InputError` names every problem
    by its place (`criteria[2].anchors[4]`)."""
    problems: list[Problem] = []
    if not isinstance(spec, Sequence) or isinstance(spec, str) or not spec:
        raise InputError([Problem("criteria", "expected a list of one or more criteria")])
    criteria = [_criterion(item, f"criteria[{i + 1}]", problems) for i, item in enumerate(spec)]
    keys = [c["key"] for c in criteria if c]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(Problem("criteria", f"key {key!r} is used twice"))
    if problems:
        raise InputError(problems)
    return [c for c in criteria if c]


def rubric_spec(rubric: Rubric) -> list[dict[str, Any]]:
    """The rubric as data, the form `save_rubric` takes (for the editor and exports)."""
    return [
        {"key": c.key, "label": c.label, "weight": c.weight, "gate": c.gate, "anchors": c.anchors}
        for c in rubric.criteria
    ]


def latest_rubric(session: Session, campaign: Campaign) -> Rubric | None:
    return session.scalar(
        select(Rubric).where(Rubric.campaign_id == campaign.id).order_by(Rubric.version.desc())
    )


def save_rubric(
    session: Session, campaign: Campaign, spec: object, actor_id: int | None = None
) -> Rubric:
    """Store `spec` as the campaign's next rubric version (an unchanged spec returns the
    latest version). Earlier versions stay as they were: reviews point at the one they used."""
    criteria = checked_spec(spec)
    latest = latest_rubric(session, campaign)
    if latest is not None and rubric_spec(latest) == criteria:
        return latest
    rubric = Rubric(
        campaign_id=campaign.id,
        version=(latest.version + 1) if latest else 1,
        created_by_id=actor_id,
        criteria=[RubricCriterion(position=i, **c) for i, c in enumerate(criteria)],
    )
    session.add(rubric)
    session.flush()
    record(
        session,
        actor_id,
        "review.rubric",
        "campaign",
        campaign.id,
        version=rubric.version,
        criteria=[c["key"] for c in criteria],
    )
    return rubric


def ensure_rubric(session: Session, campaign: Campaign) -> Rubric:
    """The campaign's latest rubric, the default one stored on first use."""
    return latest_rubric(session, campaign) or save_rubric(session, campaign, DEFAULT_RUBRIC)


def rubric_in_use(session: Session, rubric: Rubric) -> bool:
    return bool(session.scalar(select(func.count(Review.id)).where(Review.rubric_id == rubric.id)))


def reviews_in_campaign(session: Session, campaign: Campaign) -> int:
    stmt = (
        select(func.count(Review.id))
        .join(Suggestion, Suggestion.id == Review.suggestion_id)
        .where(Suggestion.campaign_id == campaign.id)
    )
    return int(session.scalar(stmt) or 0)


def scored(rubric: Rubric, values: Mapping[str, int]) -> Scored:
    """The weighted mean of `values` (criterion key -> 1-5) and the gates it fails.

    The total stays on the 1-5 scale (weights are normalised), so totals of rubrics with
    different weights read alike; a failed gate keeps the total but marks the review gated.
    """
    weight = sum(c.weight for c in rubric.criteria)
    total = sum(c.weight * values[c.key] for c in rubric.criteria) / weight
    failed = tuple(c.key for c in rubric.criteria if c.gate is not None and values[c.key] < c.gate)
    return Scored(float(total), bool(failed), failed)


def checked_values(
    rubric: Rubric, raw: Mapping[str, object]
) -> tuple[dict[str, int], list[Problem]]:
    """`raw` (criterion key -> score as typed) as whole numbers, with a problem for each
    missing, unknown or out-of-range criterion."""
    problems: list[Problem] = []
    keys = [c.key for c in rubric.criteria]
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        problems.append(
            Problem(
                "scores",
                f"unknown criteria {', '.join(unknown)}; rubric version "
                f"{rubric.version} has {', '.join(keys)}",
            )
        )
    values: dict[str, int] = {}
    for key in keys:
        given = raw.get(key, "")
        text = str(given).strip()
        if isinstance(given, bool) or not text.isdigit() or not SCORE_MIN <= int(text) <= SCORE_MAX:
            problems.append(
                Problem(
                    key, f"got {given!r}; expected a whole number from {SCORE_MIN} to {SCORE_MAX}"
                )
            )
            continue
        values[key] = int(text)
    return values, problems
