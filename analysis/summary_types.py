"""What a summary says, whichever way it was computed: the result objects (`CampaignSummary`,
`QuestionSummary`, `ChoiceRow`), their bilingual labels, and the pieces of a question's summary
that the row-level path (`analysis.frame_summary`) and the count path
(`analysis.count_summary`) build alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from analysis.crosstabs import CrosstabScan
from analysis.errors import UnknownOptionError
from analysis.frames import OTHER, OTHER_LABEL
from analysis.proportions import (
    FrequencyTable,
    MultipleChoiceTable,
    ProportionEstimate,
    proportion_ci,
)
from analysis.quality import QualityReport
from analysis.results import Result
from analysis.scales import MeanEstimate, NetPromoterScore, NumericSummary, RankedItem
from analysis.survey_design import AnalysisDesign, DesignReport
from analysis.text import TextSummary
from analysis.weighting import RakingReport
from minsheng.problems import Problem
from questionnaire.schema import Form, Question, text_in

Label = dict[str, str]


WeightsArg = str | npt.ArrayLike | None


#: Called with the share done (0..1) and what is being done, e.g. to update a `Job` row.
Progress = Callable[[float, str], None]


LANGUAGES = ("zh", "en")


#: Where the summarised responses came from, counted by `CampaignSummary.responses_by`.
ORIGINS = ("channel", "collection_point", "target_group")

#: The largest number of points a numeric scale may have to be tabulated point by point.
MAX_TABULATED_POINTS = 21


@dataclass(frozen=True)
class ChoiceRow(Result):
    """One answer category of a question; percentages and their interval on the 0-100 scale.

    ``count`` is unweighted; ``weighted_count`` is set when the summary is weighted.
    Design-based summaries also give the percentage's standard error ``se`` (0-100 scale), its
    ``design_effect`` and ``effective_n`` (the base divided by the design effect).
    ``percent_of_mentions`` is set for multiple choice only (share of all ticks).
    ``suppressed`` rows (department outputs, `analysis.suppression`) have their numbers blanked.
    """

    name: str
    label: Label
    count: int | None
    weighted_count: float | None
    percent: float | None
    ci_low: float | None
    ci_high: float | None
    percent_of_mentions: float | None = None
    suppressed: bool = False
    se: float | None = None
    design_effect: float | None = None
    effective_n: float | None = None


@dataclass(frozen=True)
class QuestionSummary(Result):
    """One question. ``kind`` says which blocks are filled:

    - ``single``: ``rows`` (count, %, interval);
    - ``multiple``: ``rows`` as % of respondents (with interval) and % of mentions;
    - ``rating`` (Likert): ``rows``, ``mean`` of the scores and ``top_box`` (top-2-box, the
      satisfaction rate 满意率, 0..1) over the choices in ``top_box_choices``;
    - ``numeric``: ``numeric`` (mean with interval, quartiles), and ``rows`` for short scales;
    - ``nps``: as numeric, plus ``nps``;
    - ``ranking``: ``ranking`` (mean rank, share ranked first), best first;
    - ``text``: ``text`` (keywords, themes with quotes, near-duplicate clusters);
    - ``date``, ``acknowledge``: the number of answers only.

    ``n_base`` is the unweighted number of respondents who answered: the base of every
    percentage of the question.
    """

    name: str
    label: Label
    type: str
    kind: str
    n_base: int
    n_missing: int
    weighted_base: float | None
    rows: tuple[ChoiceRow, ...] = ()
    mean: MeanEstimate | None = None
    top_box: ProportionEstimate | None = None
    top_box_choices: tuple[str, ...] = ()
    nps: NetPromoterScore | None = None
    numeric: NumericSummary | None = None
    ranking: tuple[RankedItem, ...] = ()
    text: TextSummary | None = None
    note: str | None = None


@dataclass(frozen=True)
class CampaignSummary(Result):
    """Everything a report says about a campaign; ``to_dict()`` is plain JSON.

    ``n_responses`` counts the responses summarised: those received minus those excluded by the
    data-quality flags, which ``quality`` counts; ``responses_by`` splits them by channel,
    collection point and target group (category -> count, categories never met left out).
    ``weighting`` reports the raking (convergence,
    margin fit, Kish effective n and design effect) when the summary was raked to margins.
    ``crosstabs`` holds every single-choice question by every segment, with Benjamini-Hochberg
    control over their tests, when segments are given. ``estimation`` is ``unweighted``,
    ``design-based`` (a declared design and/or calibration: Taylor-linearisation standard
    errors, described by ``design``) or ``kish-approximation`` (ad-hoc weights without a
    design: intervals on Kish's effective n).
    """

    slug: str
    title: Label
    n_responses: int
    quality: QualityReport
    weighted: bool
    weighting: RakingReport | None
    alpha: float
    method: str
    questions: tuple[QuestionSummary, ...]
    segments: tuple[str, ...] = ()
    crosstabs: CrosstabScan | None = None
    responses_by: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    estimation: str = "unweighted"
    design: DesignReport | None = None

    def question(self, name: str) -> QuestionSummary:
        """The summary of question ``name``; KeyError naming the known questions otherwise."""
        for item in self.questions:
            if item.name == name:
                return item
        known = ", ".join(q.name for q in self.questions)
        raise KeyError(f"no question {name!r} in the summary; questions are {known}")


def labels(label: dict[str, str], default_language: str) -> Label:
    """A label in both report languages (a missing language falls back to the form's default)."""
    return {lang: text_in(label, lang, default_language) for lang in LANGUAGES}


def is_nps(question: Question) -> bool:
    """A 0-10 ``range`` question (or appearance ``nps``) is summarised as a Net Promoter Score."""
    if "nps" in (question.appearance or "").split():
        return True
    params = question.parameters
    return question.type == "range" and (
        params.get("start", params.get("min")) in ("0", "0.0")
        and params.get("end", params.get("max")) in ("10", "10.0")
    )


def choice_label(form: Form, question: Question, name: str) -> Label:
    for choice in form.choices_for(question):
        if choice.name == name:
            return labels(choice.label, form.default_language)
    return dict(OTHER_LABEL) if name == OTHER else {lang: name for lang in LANGUAGES}


def rows_from_table(
    form: Form, question: Question, table: FrequencyTable, names: Sequence[str]
) -> tuple[ChoiceRow, ...]:
    return _frequency_rows(table, [(name, choice_label(form, question, name)) for name in names])


def _frequency_rows(
    table: FrequencyTable, categories: Sequence[tuple[str, Label]]
) -> tuple[ChoiceRow, ...]:
    """One row per category of `table`, named and labelled by `categories` in the table's order
    (a category list of another length is a bug: `zip(strict=True)` raises)."""
    return tuple(
        ChoiceRow(
            name=name,
            label=label,
            count=row.count,
            weighted_count=row.weighted_count,
            percent=row.percent,
            ci_low=row.percent_ci_low,
            ci_high=row.percent_ci_high,
        )
        for (name, label), row in zip(categories, table.rows, strict=True)
    )


@dataclass(frozen=True)
class Options:
    weights: npt.NDArray[np.float64] | None
    alpha: float
    method: str
    text_analysis: bool = True
    keep: npt.NDArray[np.bool_] | None = None
    design: AnalysisDesign | None = None

    def column(self, frame: pd.DataFrame, name: str) -> pd.Series[Any]:
        """Column ``name`` restricted to the kept rows (quality exclusions), copied only here,
        so each question copies just its own columns, in its own thread."""
        column = frame[name]
        if self.keep is None:
            return column
        return pd.Series(column.array[self.keep], name=name)

    def columns(
        self, frame: pd.DataFrame, names: Sequence[str], labels: Sequence[str]
    ) -> pd.DataFrame:
        """Several columns, renamed to ``labels``, restricted to the kept rows."""
        return pd.DataFrame(
            {label: self.column(frame, name) for name, label in zip(names, labels, strict=True)}
        )


def rating_from_counts(
    table: FrequencyTable,
    scores: Sequence[float],
    top_codes: npt.NDArray[np.intp],
    n_rows: int,
    o: Options,
) -> tuple[MeanEstimate, ProportionEstimate]:
    """Unweighted mean and top-2-box of a rating from its distribution, without another pass
    over the rows: the counts are sufficient statistics.

    The mean, standard deviation and t interval come from
    ``statsmodels.stats.weightstats.DescrStatsW`` with the counts as frequency weights, which
    equals `analysis.scales.mean_ci` on the expanded answers (checked in the tests); the top-box
    share is `analysis.proportions.proportion_ci` of the top count, as `indicator_proportion`
    gives unweighted.
    """
    counts = np.array([row.count for row in table.rows[: len(scores)]], dtype=np.float64)
    n = int(counts.sum())
    top = float(counts[top_codes].sum())
    share = proportion_ci(top, float(n), o.alpha, o.method)
    share = dataclasses.replace(share, note=None if n else "no valid answers")
    note = None if n > 1 else ("no valid answers" if n == 0 else "one answer: no interval")
    values: list[float | None] = [None] * 5
    if n:
        stats = DescrStatsW(np.asarray(scores, dtype=np.float64), weights=counts, ddof=1)
        values[0] = float(stats.mean)
    if n > 1:
        low, high = stats.tconfint_mean(o.alpha)
        values[1:5] = [float(stats.std_mean), float(low), float(high), float(stats.std)]
    mean = MeanEstimate(
        estimate=values[0],
        se=values[1],
        ci_low=values[2],
        ci_high=values[3],
        sd=values[4],
        n_unweighted=n,
        n_missing=n_rows - n,
        weighted_base=None,
        method="t",
        alpha=o.alpha,
        note=note,
    )
    return mean, share


def question_base(
    q: Question, form: Form, n: int, missing: int, weighted_base: float | None
) -> dict[str, Any]:
    return {
        "name": q.name,
        "label": labels(q.label, form.default_language),
        "type": q.type,
        "n_base": n,
        "n_missing": missing,
        "weighted_base": weighted_base,
    }


def multiple_summary(form: Form, q: Question, table: MultipleChoiceTable) -> QuestionSummary:
    rows = tuple(
        ChoiceRow(
            name=str(row.option),
            label=choice_label(form, q, str(row.option)),
            count=row.count,
            weighted_count=row.weighted_count,
            percent=row.percent_of_respondents,
            ci_low=row.percent_ci_low,
            ci_high=row.percent_ci_high,
            percent_of_mentions=row.percent_of_mentions,
        )
        for row in table.rows
    )
    base = question_base(q, form, table.n_unweighted, table.n_missing, table.weighted_base)
    return QuestionSummary(**base, kind="multiple", rows=rows, note=table.note)


def point_rows(points: Sequence[float], table: FrequencyTable) -> tuple[ChoiceRow, ...]:
    return _frequency_rows(
        table, [(f"{p:g}", {lang: f"{p:g}" for lang in LANGUAGES}) for p in points]
    )


def scale_points(q: Question) -> list[float] | None:
    """Whole-number points of a range question with few enough of them to tabulate."""
    if q.type != "range":
        return None
    params = q.parameters
    try:
        start = float(params.get("start", params.get("min", "")))
        end = float(params.get("end", params.get("max", "")))
        step = float(params.get("step", "1"))
    except ValueError:
        return None
    if step <= 0 or end < start or (end - start) / step + 1 > MAX_TABULATED_POINTS:
        return None
    return [float(x) for x in np.arange(start, end + step / 2, step)]


def segments_not_categorical(names: Sequence[str]) -> UnknownOptionError:
    """The error for segments that are not categorical columns."""
    return UnknownOptionError(
        [
            Problem(
                f"segment `{s}`",
                "is not a categorical column; segments are single-choice "
                "questions or channel, collection_point, target_group, language",
            )
            for s in names
        ]
    )
