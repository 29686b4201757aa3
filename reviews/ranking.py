"""Aggregating the experts' reviews: each review's weighted total, the item score (median or
trimmed mean, optionally of per-expert standardised totals) with a bootstrap interval that stays
on the 1-5 scale, ranks that show ties where intervals overlap, flags for items whose experts
disagree, and agreement per criterion and overall."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from analysis.results import Result
from campaigns.models import Campaign
from reviews.models import Review
from reviews.rubrics import SCORE_MAX, SCORE_MIN

METHODS = ("median", "trimmed_mean")
#: An item is flagged when its experts' totals span more than this many scale points.
DISAGREEMENT_RANGE = 2.0
BOOTSTRAP_REPLICATES = 2000


@dataclass(frozen=True)
class ItemScore(Result):
    """One suggestion's aggregate: the estimate and its bootstrap interval (both within 1-5),
    the rank range it shares with items whose intervals overlap, how many experts scored it,
    how many reviews a gate excluded, the spread of totals and whether it needs adjudication."""

    suggestion_id: int
    estimate: float
    ci_low: float
    ci_high: float
    rank_best: int
    rank_worst: int
    n_raters: int
    n_gated: int
    spread: float
    flagged: bool
    criteria: dict[str, float]
    method: str

    @property
    def tied(self) -> bool:
        return self.rank_best != self.rank_worst


def _estimate(values: object, method: str, trim: float) -> object:
    import numpy as np
    from scipy import stats

    data = np.asarray(values, dtype=np.float64)
    if method == "median":
        return np.median(data, axis=-1)
    return stats.trim_mean(data, trim, axis=-1)


def item_score_interval(
    totals: list[float],
    method: str = "median",
    trim: float = 0.2,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The estimate and percentile bootstrap interval of one item's totals.

    Notes
    -----
    Resampling the experts' totals with replacement (Efron & Tibshirani 1993, ch. 13) keeps
    every replicate inside the range of the scores, so the interval never leaves the 1-5 scale
    (a t interval on two or three scores does: 2.83 gave -11.99 to 17.66). With one score the
    interval is that score. The seed is fixed so a page shows the same interval every time.

    References
    ----------
    Efron, B., Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    import numpy as np

    if method not in METHODS:
        raise ValueError(f"method: got {method!r}; expected one of {', '.join(METHODS)}")
    data = np.asarray(totals, dtype=np.float64)
    estimate = float(_estimate(data, method, trim))  # type: ignore[arg-type]
    if len(data) < 2:
        return estimate, estimate, estimate
    rng = np.random.default_rng(seed)
    samples = data[rng.integers(0, len(data), size=(BOOTSTRAP_REPLICATES, len(data)))]
    replicates = np.asarray(_estimate(samples, method, trim))
    low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return estimate, float(max(SCORE_MIN, low)), float(min(SCORE_MAX, high))


def _standardised(reviews: list[Review]) -> dict[int, float]:
    """Each review's total as the expert's z-score mapped back onto the pooled mean and SD, so
    a lenient and a strict expert weigh alike (clipped to the scale)."""
    import numpy as np

    by_expert: dict[int, list[Review]] = defaultdict(list)
    for r in reviews:
        by_expert[r.expert_id].append(r)
    pooled = np.array([r.total for r in reviews])
    centre, scale = float(pooled.mean()), float(pooled.std()) or 1.0
    out = {}
    for own in by_expert.values():
        values = np.array([r.total for r in own])
        sd = float(values.std()) or 1.0
        for r, v in zip(own, values, strict=True):
            z = (v - values.mean()) / sd
            out[r.id] = float(np.clip(centre + z * scale, SCORE_MIN, SCORE_MAX))
    return out


def item_scores(
    reviews: list[Review],
    method: str = "median",
    standardise: bool = False,
    threshold: float = DISAGREEMENT_RANGE,
) -> list[ItemScore]:
    """Aggregate `reviews` (one per expert and item, e.g. `campaign_reviews(..., "latest")`),
    best first. A review a gate excluded counts with its total, and the item is marked; an
    item counts as gated when most of its reviews are."""
    if method not in METHODS:
        raise ValueError(f"method: got {method!r}; expected one of {', '.join(METHODS)}")
    adjusted = _standardised(reviews) if standardise and reviews else {}
    per_item: dict[int, list[Review]] = defaultdict(list)
    for r in reviews:
        per_item[r.suggestion_id].append(r)
    rows = []
    for item, own in per_item.items():
        totals = [adjusted.get(r.id, r.total) for r in own]
        estimate, low, high = item_score_interval(totals, method, seed=item)
        criteria: dict[str, list[int]] = defaultdict(list)
        for r in own:
            for key, value in r.scores.items():
                criteria[key].append(int(value))
        rows.append(
            ItemScore(
                suggestion_id=item,
                estimate=estimate,
                ci_low=low,
                ci_high=high,
                rank_best=0,
                rank_worst=0,
                n_raters=len(own),
                n_gated=sum(r.gated for r in own),
                spread=max(totals) - min(totals),
                flagged=max(totals) - min(totals) > threshold,
                criteria={k: sum(v) / len(v) for k, v in criteria.items()},
                method=method + (" of standardised totals" if standardise else ""),
            )
        )
    rows.sort(key=lambda r: (r.n_gated * 2 > r.n_raters, -r.estimate, -r.n_raters, r.suggestion_id))
    ranked = []
    for row in rows:
        # Rank range: items whose interval lies wholly above this one's are surely better;
        # items whose intervals overlap it may be better or worse (a tie).
        better = sum(1 for o in rows if o.ci_low > row.ci_high)
        not_worse = sum(1 for o in rows if o.ci_high >= row.ci_low)
        ranked.append(replace(row, rank_best=better + 1, rank_worst=max(better + 1, not_worse)))
    return ranked


@dataclass(frozen=True)
class CriterionAgreement(Result):
    """Agreement between the experts on one rubric criterion (`criterion` None: the weighted
    total): Krippendorff's alpha at every level of measurement and ICC(2,1)."""

    criterion: str | None
    alpha: dict[str, object]
    icc: object


def campaign_agreement(session: Session, campaign: Campaign) -> list[CriterionAgreement]:
    """Agreement on the independent (first) scores, per criterion of the round's rubric and
    for the weighted total."""
    from reviews.agreement import METRICS, icc_2_1, krippendorff_alpha
    from reviews.experts import review_round
    from reviews.scoring import campaign_reviews, score_table

    current = review_round(session, campaign)
    reviews = campaign_reviews(session, campaign, "first")
    keys: list[str | None] = [c.key for c in current.rubric.criteria] if current.rubric else []
    result = []
    for key in [*keys, None]:
        table, _, _ = score_table(reviews, key)
        result.append(
            CriterionAgreement(
                key,
                {m: krippendorff_alpha(table, m) for m in METRICS},
                icc_2_1(table),
            )
        )
    return result
