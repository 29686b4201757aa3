"""The one result object of a campaign: every question summarised in form order, with its base,
interval and method, plus crosstabs by segment. Pages, the API and the PDF report all render
`CampaignSummary.to_dict()`; `summarize_frame` computes the same from a DataFrame in a notebook.

Example (no database, no app)::

    from analysis.frames import answers_frame
    from analysis.summary import summarize_frame
    from campaigns.definition import read_campaign_file

    form = read_campaign_file("examples/transport.yaml").form
    frame = answers_frame([{"district": "wuhou", "sat_bus": "4"}, ...], form)
    summary = summarize_frame(frame, form, segments=("district",))
    summary.question("sat_bus").top_box.estimate      # satisfaction rate, 0..1
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from sqlalchemy.orm import Session
from statsmodels.stats.weightstats import DescrStatsW

from analysis.arrow import read_schema
from analysis.categories import weight_array
from analysis.counting import Tally, tally_parquet, tally_table
from analysis.crosstabs import (
    CrosstabScan,
    benjamini_hochberg,
    crosstab_from_counts,
    crosstab_scan,
)
from analysis.design import SamplingDesign
from analysis.errors import (
    AnalysisProblem,
    UnknownCategoryError,
    UnknownOptionError,
    check_alpha,
    check_columns,
)
from analysis.frames import (
    OTHER,
    OTHER_LABEL,
    campaign_form,
    categorical_of,
    choice_names,
    frame_template,
    option_column,
    rating_scores,
    response_frame,
)
from analysis.proportions import (
    FrequencyTable,
    MultipleChoiceTable,
    ProportionEstimate,
    check_method,
    frequencies,
    frequencies_from_counts,
    indicator_proportion,
    multiple_choice_frequencies,
    multiple_choice_from_counts,
    proportion_ci,
)
from analysis.quality import FLAGS, QualityReport, quality_check
from analysis.results import Result
from analysis.scales import (
    MeanEstimate,
    NetPromoterScore,
    NumericSummary,
    RankedItem,
    mean_ci,
    net_promoter_score,
    net_promoter_score_from_counts,
    numeric_summary,
    numeric_summary_from_counts,
    ranking_from_counts,
    ranking_summary,
)
from analysis.snapshots import snapshot_files, snapshot_frame
from analysis.text import TextSummary, text_summary, text_summary_from_counts
from analysis.weighting import Margins, RakingReport, raked_weights
from campaigns.models import Campaign
from forms.schema import Form, Question, text_in

Label = dict[str, str]
WeightsArg = str | npt.ArrayLike | None
#: Called with the share done (0..1) and what is being done, e.g. to update a `Job` row.
Progress = Callable[[float, str], None]
LANGUAGES = ("zh", "en")
#: The largest number of points a numeric scale may have to be tabulated point by point.
MAX_TABULATED_POINTS = 21
WEIGHT_COLUMN = "__weight__"


@dataclass(frozen=True)
class ChoiceRow(Result):
    """One answer category of a question; percentages and their interval on the 0-100 scale.

    ``count`` is unweighted; ``weighted_count`` is set when the summary is weighted.
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
    data-quality flags, which ``quality`` counts. ``weighting`` reports the raking (convergence,
    margin fit, Kish effective n and design effect) when the summary was raked to margins.
    ``crosstabs`` holds every single-choice question by every segment, with Benjamini-Hochberg
    control over their tests, when segments are given.
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


def _choice_label(form: Form, question: Question, name: str) -> Label:
    for choice in form.choices_for(question):
        if choice.name == name:
            return labels(choice.label, form.default_language)
    return dict(OTHER_LABEL) if name == OTHER else {lang: name for lang in LANGUAGES}


def _rows_from_table(
    form: Form, question: Question, table: FrequencyTable, names: Sequence[str]
) -> tuple[ChoiceRow, ...]:
    return tuple(
        ChoiceRow(
            name=name,
            label=_choice_label(form, question, name),
            count=row.count,
            weighted_count=row.weighted_count,
            percent=row.percent,
            ci_low=row.percent_ci_low,
            ci_high=row.percent_ci_high,
        )
        for name, row in zip(names, table.rows, strict=True)
    )


@dataclass(frozen=True)
class _Options:
    weights: npt.NDArray[np.float64] | None
    alpha: float
    method: str
    text_analysis: bool = True
    keep: npt.NDArray[np.bool_] | None = None

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


def _single(form: Form, q: Question, frame: pd.DataFrame, o: _Options) -> QuestionSummary:
    names = choice_names(form, q)
    column = categorical_of(o.column(frame, q.name), names)
    table = frequencies(column, None, o.weights, o.alpha, o.method)
    base = _base(q, form, table.n_unweighted, table.n_missing, table.weighted_base)
    rows = _rows_from_table(form, q, table, names)
    scores = rating_scores(form, q)
    if scores is None:
        return QuestionSummary(**base, kind="single", rows=rows, note=table.note)
    top_codes = np.argsort(scores, kind="stable")[-2:]
    if o.weights is None:
        mean, top_box = _rating_from_counts(table, scores, top_codes, len(column), o)
    else:
        mean, top_box = _rating_from_rows(column, scores, top_codes, len(names), o)
    return QuestionSummary(
        **base,
        kind="rating",
        rows=rows,
        mean=mean,
        top_box=top_box,
        top_box_choices=tuple(names[i] for i in sorted(top_codes)),
        note=table.note,
    )


def _rating_from_rows(
    column: pd.Series[Any],
    scores: Sequence[float],
    top_codes: npt.NDArray[np.intp],
    n_names: int,
    o: _Options,
) -> tuple[MeanEstimate, ProportionEstimate]:
    """Weighted mean and top-2-box of a rating, row by row (`mean_ci`, `indicator_proportion`).

    Scores and the top-box indicator are looked up from the category codes; unscored categories
    ("other") and the missing code -1 (the last entry of the lookup) give NaN.
    """
    codes = column.cat.codes.to_numpy()
    unscored = [np.nan] * (n_names - len(scores) + 1)
    score = np.array([*scores, *unscored])[codes]
    top_of = np.array([0.0] * len(scores) + unscored)
    top_of[top_codes] = 1.0
    return (
        mean_ci(score, o.weights, o.alpha),
        indicator_proportion(top_of[codes], o.weights, o.alpha, o.method),
    )


def _rating_from_counts(
    table: FrequencyTable,
    scores: Sequence[float],
    top_codes: npt.NDArray[np.intp],
    n_rows: int,
    o: _Options,
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


def _base(
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


def _multiple(form: Form, q: Question, frame: pd.DataFrame, o: _Options) -> QuestionSummary:
    names = choice_names(form, q)
    selected = o.columns(frame, [option_column(q, n) for n in names], names)
    table = multiple_choice_frequencies(selected, o.weights, o.alpha, o.method)
    return _multiple_summary(form, q, table)


def _multiple_summary(form: Form, q: Question, table: MultipleChoiceTable) -> QuestionSummary:
    rows = tuple(
        ChoiceRow(
            name=str(row.option),
            label=_choice_label(form, q, str(row.option)),
            count=row.count,
            weighted_count=row.weighted_count,
            percent=row.percent_of_respondents,
            ci_low=row.percent_ci_low,
            ci_high=row.percent_ci_high,
            percent_of_mentions=row.percent_of_mentions,
        )
        for row in table.rows
    )
    base = _base(q, form, table.n_unweighted, table.n_missing, table.weighted_base)
    return QuestionSummary(**base, kind="multiple", rows=rows, note=table.note)


def _ranking(form: Form, q: Question, frame: pd.DataFrame, o: _Options) -> QuestionSummary:
    names = choice_names(form, q)
    ranks = o.columns(frame, [option_column(q, n) for n in names], names)
    answered = ranks.notna().any(axis=1).to_numpy()
    n = int(answered.sum())
    weighted = None if o.weights is None else float(o.weights[answered].sum())
    base = _base(q, form, n, len(ranks) - n, weighted)
    items = ranking_summary(ranks, o.weights, o.alpha, o.method)
    return QuestionSummary(
        **base, kind="ranking", ranking=items, note=None if n else "no valid answers"
    )


def _numeric(form: Form, q: Question, frame: pd.DataFrame, o: _Options) -> QuestionSummary:
    values = o.column(frame, q.name)
    summary = numeric_summary(values, o.weights, o.alpha)
    mean = summary.mean
    base = _base(q, form, mean.n_unweighted, mean.n_missing, mean.weighted_base)
    rows: tuple[ChoiceRow, ...] = ()
    points = _scale_points(q)
    if points is not None:
        rows = _point_rows(points, frequencies(values, points, o.weights, o.alpha, o.method))
    nps = net_promoter_score(values, o.weights, o.alpha) if is_nps(q) else None
    kind = "nps" if nps is not None else "numeric"
    return QuestionSummary(**base, kind=kind, rows=rows, numeric=summary, nps=nps, note=mean.note)


def _point_rows(points: Sequence[float], table: FrequencyTable) -> tuple[ChoiceRow, ...]:
    return tuple(
        ChoiceRow(
            name=f"{p:g}",
            label={lang: f"{p:g}" for lang in LANGUAGES},
            count=row.count,
            weighted_count=row.weighted_count,
            percent=row.percent,
            ci_low=row.percent_ci_low,
            ci_high=row.percent_ci_high,
        )
        for p, row in zip(points, table.rows, strict=True)
    )


def _scale_points(q: Question) -> list[float] | None:
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


def _answered_only(form: Form, q: Question, frame: pd.DataFrame, o: _Options) -> QuestionSummary:
    column = o.column(frame, q.name)
    answered = column.notna().to_numpy()
    n = int(answered.sum())
    weighted = None if o.weights is None else float(o.weights[answered].sum())
    kind = q.type if q.type in ("date", "acknowledge") else "text"
    text = None
    if kind == "text" and o.text_analysis:
        text = text_summary(column[answered])
    return QuestionSummary(
        **_base(q, form, n, len(column) - n, weighted),
        kind=kind,
        text=text,
        note=None if n else "no answers",
    )


def summarize_question(
    frame: pd.DataFrame,
    form: Form,
    question: Question,
    weights: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "wilson",
    text_analysis: bool = True,
) -> QuestionSummary:
    """The `QuestionSummary` of one question (see its docstring for what each kind holds).

    ``text_analysis=False`` skips keywords, themes and duplicates of text questions (counts
    only), which is what a quick look at a large campaign needs.
    """
    options = _Options(weight_array(weights, len(frame)), alpha, method, text_analysis)
    return _summarize_question(frame, form, question, options)


def _summarize_question(
    frame: pd.DataFrame, form: Form, question: Question, options: _Options
) -> QuestionSummary:
    if question.type == "select_one":
        return _single(form, question, frame, options)
    if question.type == "select_multiple":
        return _multiple(form, question, frame, options)
    if question.type == "rank":
        return _ranking(form, question, frame, options)
    if question.type in ("integer", "decimal", "range"):
        return _numeric(form, question, frame, options)
    return _answered_only(form, question, frame, options)


def _weights(frame: pd.DataFrame, weights: WeightsArg) -> npt.NDArray[np.float64] | None:
    if isinstance(weights, str):
        check_columns(list(frame.columns), [weights])
        return weight_array(frame[weights].to_numpy(dtype=np.float64), len(frame))
    return weight_array(weights, len(frame))


def summarize_frame(
    frame: pd.DataFrame,
    form: Form,
    *,
    segments: Sequence[str] = (),
    weights: WeightsArg = None,
    alpha: float = 0.05,
    method: str = "wilson",
    slug: str = "",
    title: dict[str, str] | None = None,
    progress: Progress | None = None,
    text_analysis: bool = True,
    exclude: Sequence[str] = FLAGS,
    workers: int | None = None,
    margins: Margins | None = None,
    weight_bounds: tuple[float, float] | None = None,
) -> CampaignSummary:
    """Summarise every question of ``form`` on ``frame`` (as built by `analysis.frames`).

    Parameters
    ----------
    frame : DataFrame
        One row per response, columns as in `analysis.frames` (extra columns are ignored).
    form : Form
        The questionnaire (`analysis.frames.campaign_form` for a stored campaign).
    segments : sequence of str
        Columns to crosstab every single-choice question by (a question such as ``district`` or
        a metadata column such as ``channel``, ``collection_point``, ``target_group``).
    weights : str or array-like, optional
        A weight column of ``frame`` or one weight per row (e.g. from
        `analysis.weighting.raked_weights`). Estimates are then weighted with intervals on
        Kish's effective n, crosstab tests are Rao-Scott corrected; bases stay unweighted.
    alpha, method
        Confidence level 1 - alpha and proportion interval method (see
        `analysis.proportions.proportion_ci`; Wilson by default).
    progress : callable, optional
        Called after each question with the share of questions done and the question name.
    text_analysis : bool
        Keywords, themes and near-duplicate clusters for text questions (`analysis.text`);
        False gives their answer counts only.
    exclude : sequence of str
        Data-quality flags (`analysis.quality.FLAGS`) whose responses are left out; all by
        default, ``()`` keeps everyone. The flags are counted in ``quality`` either way.
    workers : int, optional
        Threads summarising questions at once (default: one per CPU core).
    margins : mapping, optional
        Population margins to rake the analysed responses to (`analysis.weighting.raked_weights`,
        after the quality exclusions, starting from ``weights`` if given); ``weight_bounds``
        trims the adjustment factors. The raking report is ``weighting`` in the result.

    Returns
    -------
    CampaignSummary
    """
    check_alpha(alpha)
    check_method(method)
    w = _weights(frame, weights)
    check = quality_check(frame, form, exclude)
    keep = None if check.keep.all() else check.keep
    kept_weights: npt.NDArray[np.float64] | None = w if w is None or keep is None else w[keep]
    weighting = None
    if margins:
        variables = sorted(
            {v for key in margins for v in ((key,) if isinstance(key, str) else key)}
        )
        check_columns(list(frame.columns), variables)
        sample = pd.DataFrame(
            {v: _Options(None, alpha, method, keep=keep).column(frame, v) for v in variables}
        )
        raked = raked_weights(sample, margins, kept_weights, bounds=weight_bounds)
        kept_weights = np.asarray(raked.weights, dtype=np.float64)
        weighting = raked.report
    options = _Options(kept_weights, alpha, method, text_analysis, keep)
    asked = [q for q in form.questions() if q.type not in ("note", "calculate")]
    # Questions are independent and numpy releases the GIL in its array loops, so a thread per
    # core summarises several at once.
    threads = max(1, workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        if threads == 1:  # in this thread: simpler to debug and to profile
            results = [_done(_summarize_question(frame, form, q, options)) for q in asked]
        else:
            results = [pool.submit(_summarize_question, frame, form, q, options) for q in asked]
        summaries = []
        for done, (question, result) in enumerate(zip(asked, results, strict=True), start=1):
            summaries.append(result.result())
            if progress is not None:
                progress(done / (len(asked) + bool(segments)), question.name)
    questions = tuple(summaries)
    crosstabs = None
    if segments:
        crosstabs = _crosstabs(frame, form, tuple(segments), kept_weights, alpha, keep)
        if progress is not None:
            progress(1.0, "crosstabs")
    return CampaignSummary(
        slug=slug,
        title=labels(title or form.title, form.default_language),
        n_responses=int(check.keep.sum()),
        quality=check.report,
        weighted=kept_weights is not None,
        weighting=weighting,
        alpha=alpha,
        method=method,
        questions=questions,
        segments=tuple(segments),
        crosstabs=crosstabs,
    )


def summarize_table(
    table: Any,
    form: Form,
    *,
    segments: Sequence[str] = (),
    weights: WeightsArg = None,
    alpha: float = 0.05,
    method: str = "wilson",
    slug: str = "",
    title: dict[str, str] | None = None,
    progress: Progress | None = None,
    text_analysis: bool = True,
    exclude: Sequence[str] = FLAGS,
    margins: Margins | None = None,
    weight_bounds: tuple[float, float] | None = None,
) -> CampaignSummary:
    """`summarize_frame` on an Arrow table (e.g. `analysis.arrow.read_table` of a Parquet
    file): the same result, computed from count tables (`analysis.counting.tally_table`).

    Unweighted, every statistic is a function of counts (answers per category, ticks per
    option, distinct numbers and texts with their counts, two-way cells for the crosstabs), so
    no row-level frame is built. Weighted summaries (``weights`` or ``margins``) need a weight
    per row and go through `summarize_frame` on the table converted to pandas.
    """
    check_alpha(alpha)
    check_method(method)
    if weights is not None or margins:
        frame = table.to_pandas(split_blocks=True)
        return summarize_frame(
            frame,
            form,
            segments=segments,
            weights=weights,
            alpha=alpha,
            method=method,
            slug=slug,
            title=title,
            progress=progress,
            text_analysis=text_analysis,
            exclude=exclude,
            margins=margins,
            weight_bounds=weight_bounds,
        )
    _check_table_segments(table.schema, segments)
    tally, quality = tally_table(table, form, exclude=exclude, cells=crosstab_cells(form, segments))
    return summarize_tally(
        tally,
        quality,
        form,
        segments=segments,
        alpha=alpha,
        method=method,
        slug=slug,
        title=title,
        progress=progress,
        text_analysis=text_analysis,
    )


def summarize_parquet(
    paths: str | Path | Sequence[str | Path],
    form: Form,
    *,
    segments: Sequence[str] = (),
    alpha: float = 0.05,
    method: str = "wilson",
    slug: str = "",
    title: dict[str, str] | None = None,
    progress: Progress | None = None,
    text_analysis: bool = True,
    exclude: Sequence[str] = FLAGS,
) -> CampaignSummary:
    """The unweighted `summarize_frame` of Parquet files of response frames (a campaign's
    snapshot), counted row group by row group (`analysis.counting.tally_parquet`): memory
    stays at a few row groups however many responses there are."""
    check_alpha(alpha)
    check_method(method)
    sources = [paths] if isinstance(paths, str | Path) else list(paths)
    if not sources:
        raise ValueError("no Parquet files to summarise")
    _check_table_segments(read_schema(sources[0]), segments)
    if progress is not None:
        progress(0.0, "counting responses")
    tally, quality = tally_parquet(
        sources, form, exclude=exclude, cells=crosstab_cells(form, segments)
    )
    return summarize_tally(
        tally,
        quality,
        form,
        segments=segments,
        alpha=alpha,
        method=method,
        slug=slug,
        title=title,
        progress=progress,
        text_analysis=text_analysis,
    )


def crosstab_cells(form: Form, segments: Sequence[str]) -> list[tuple[str, str]]:
    """The two-way cells the crosstab scan of ``segments`` needs (see `table_crosstabs`)."""
    return [(row, segment) for row in _crosstab_rows(form, segments) for segment in segments]


def _crosstab_rows(form: Form, segments: Sequence[str]) -> list[str]:
    return [q.name for q in form.questions() if q.type == "select_one" and q.name not in segments]


def summarize_tally(
    tally: Tally,
    quality: QualityReport,
    form: Form,
    *,
    segments: Sequence[str] = (),
    alpha: float = 0.05,
    method: str = "wilson",
    slug: str = "",
    title: dict[str, str] | None = None,
    progress: Progress | None = None,
    text_analysis: bool = True,
) -> CampaignSummary:
    """The unweighted summary from count tables (`analysis.counting`): every question, and
    the crosstab scan of ``segments`` when the tally counted its cells (`crosstab_cells`)."""
    options = _Options(None, alpha, method, text_analysis)
    asked = [q for q in form.questions() if q.type not in ("note", "calculate")]
    summaries = []
    for done, question in enumerate(asked, start=1):
        summaries.append(_summarize_counted(form, question, tally, options))
        if progress is not None:
            progress(done / (len(asked) + bool(segments)), question.name)
    crosstabs = None
    if segments:
        crosstabs = table_crosstabs(tally, form, tuple(segments), alpha)
        if progress is not None:
            progress(1.0, "crosstabs")
    return CampaignSummary(
        slug=slug,
        title=labels(title or form.title, form.default_language),
        n_responses=tally.n_rows,
        quality=quality,
        weighted=False,
        weighting=None,
        alpha=alpha,
        method=method,
        questions=tuple(summaries),
        segments=tuple(segments),
        crosstabs=crosstabs,
    )


def _check_table_segments(schema: Any, segments: Sequence[str]) -> None:
    check_columns(list(schema.names), list(segments))
    not_categorical = [s for s in segments if not pa.types.is_dictionary(schema.field(s).type)]
    if not_categorical:
        raise UnknownOptionError(
            [
                AnalysisProblem(
                    f"segment `{s}`",
                    "is not a categorical column; segments are single-choice "
                    "questions or channel, collection_point, target_group, language",
                )
                for s in not_categorical
            ]
        )


def _categories(form: Form, counted: Tally, name: str) -> list[str]:
    """Categories of a column: the form's choices for a question, else the column's own."""
    if name in {q.name for q in form.questions()}:
        return choice_names(form, form.question(name))
    return counted.categories(name)


def table_crosstabs(
    counted: Tally,
    form: Form,
    segments: Sequence[str],
    alpha: float = 0.05,
    rows: Sequence[str] | None = None,
) -> CrosstabScan:
    """Unweighted crosstabs of ``rows`` (default: every single-choice question that is not a
    segment) by every segment, from the two-way counts of the kept rows of ``counted``, with
    Benjamini-Hochberg control over their tests, as `analysis.crosstabs.crosstab_scan`."""
    if rows is None:
        rows = _crosstab_rows(form, segments)
    tables = []
    for row in rows:
        row_names = _categories(form, counted, row)
        for segment in segments:
            column_names = _categories(form, counted, segment)
            cells, missing = counted.cross_counts(row, segment, row_names, column_names)
            tables.append(
                crosstab_from_counts(
                    cells, row, segment, row_names, column_names, n_missing=missing
                )
            )
    return CrosstabScan(tuple(tables), benjamini_hochberg([t.test.p_value for t in tables], alpha))


def _summarize_counted(form: Form, q: Question, counted: Tally, o: _Options) -> QuestionSummary:
    if q.type == "select_one":
        return _single_counted(form, q, counted, o)
    if q.type == "select_multiple":
        names = choice_names(form, q)
        ticks, answered = counted.option_counts([option_column(q, n) for n in names])
        table = multiple_choice_from_counts(
            ticks, names, answered, counted.n_rows - answered, o.alpha, o.method
        )
        return _multiple_summary(form, q, table)
    if q.type == "rank":
        names = choice_names(form, q)
        columns = [option_column(q, n) for n in names]
        _, answered = counted.option_counts(columns)
        ranks = {n: counted.number_counts(c) for n, c in zip(names, columns, strict=True)}
        base = _base(q, form, answered, counted.n_rows - answered, None)
        items = ranking_from_counts(ranks, answered, counted.n_rows, o.alpha, o.method)
        return QuestionSummary(
            **base, kind="ranking", ranking=items, note=None if answered else "no valid answers"
        )
    if q.type in ("integer", "decimal", "range"):
        return _numeric_counted(form, q, counted, o)
    n = counted.answered(q.name)
    kind = q.type if q.type in ("date", "acknowledge") else "text"
    text = None
    if kind == "text" and o.text_analysis:
        text = text_summary_from_counts(counted.text_counts(q.name))
    return QuestionSummary(
        **_base(q, form, n, counted.n_rows - n, None),
        kind=kind,
        text=text,
        note=None if n else "no answers",
    )


def _single_counted(form: Form, q: Question, counted: Tally, o: _Options) -> QuestionSummary:
    names = choice_names(form, q)
    counts, missing = counted.category_counts(q.name, names)
    table = frequencies_from_counts(counts, names, missing, o.alpha, o.method)
    base = _base(q, form, table.n_unweighted, table.n_missing, None)
    rows = _rows_from_table(form, q, table, names)
    scores = rating_scores(form, q)
    if scores is None:
        return QuestionSummary(**base, kind="single", rows=rows, note=table.note)
    top_codes = np.argsort(scores, kind="stable")[-2:]
    mean, top_box = _rating_from_counts(table, scores, top_codes, counted.n_rows, o)
    return QuestionSummary(
        **base,
        kind="rating",
        rows=rows,
        mean=mean,
        top_box=top_box,
        top_box_choices=tuple(names[i] for i in sorted(top_codes)),
        note=table.note,
    )


def _numeric_counted(form: Form, q: Question, counted: Tally, o: _Options) -> QuestionSummary:
    values, counts = counted.number_counts(q.name)
    n_missing = counted.n_rows - int(counts.sum())
    summary = numeric_summary_from_counts(values, counts, n_missing, o.alpha)
    mean = summary.mean
    base = _base(q, form, mean.n_unweighted, mean.n_missing, None)
    rows: tuple[ChoiceRow, ...] = ()
    points = _scale_points(q)
    if points is not None:
        at = {p: i for i, p in enumerate(points)}
        outside = [v for v in values.tolist() if v not in at]
        if outside:
            allowed = ", ".join(repr(p) for p in points)
            raise UnknownCategoryError(
                [
                    AnalysisProblem(
                        f"variable `{q.name}`",
                        f"values {outside[:10]!r} are not among the categories; "
                        f"expected one of {allowed}",
                    )
                ]
            )
        per_point = np.zeros(len(points))
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            per_point[at[value]] += count
        table = frequencies_from_counts(per_point, points, n_missing, o.alpha, o.method)
        rows = _point_rows(points, table)
    nps = net_promoter_score_from_counts(values, counts, n_missing, o.alpha) if is_nps(q) else None
    kind = "nps" if nps is not None else "numeric"
    return QuestionSummary(**base, kind=kind, rows=rows, numeric=summary, nps=nps, note=mean.note)


def _done(summary: QuestionSummary) -> Future[QuestionSummary]:
    future: Future[QuestionSummary] = Future()
    future.set_result(summary)
    return future


def _crosstabs(
    frame: pd.DataFrame,
    form: Form,
    segments: tuple[str, ...],
    weights: npt.NDArray[np.float64] | None,
    alpha: float,
    keep: npt.NDArray[np.bool_] | None,
) -> CrosstabScan:
    check_columns(list(frame.columns), list(segments))
    not_categorical = [s for s in segments if not isinstance(frame[s].dtype, pd.CategoricalDtype)]
    if not_categorical:
        raise UnknownOptionError(
            [
                AnalysisProblem(
                    f"segment `{s}`",
                    "is not a categorical column; segments are single-choice "
                    "questions or channel, collection_point, target_group, language",
                )
                for s in not_categorical
            ]
        )
    rows = [q.name for q in form.questions() if q.type == "select_one" and q.name not in segments]
    if keep is not None:
        frame = frame.loc[keep, [*rows, *segments]]
    design = None
    if weights is not None:
        frame = frame.assign(**{WEIGHT_COLUMN: weights})
        design = SamplingDesign(weights=WEIGHT_COLUMN)
    return crosstab_scan(frame, rows, list(segments), design=design, alpha=alpha)


JOINT = " x "


def campaign_margins(
    settings: Mapping[str, Any],
) -> tuple[Margins, tuple[float, float] | None]:
    """Population margins and weight bounds declared in a campaign file's ``settings``.

    The file says, for example (a joint margin names its variables and categories with " x ")::

        settings:
          weighting:
            margins:
              district: {jinjiang: 904000, wuhou: 1210000}
              age_group x gender: {a18_29 x female: 310000, a18_29 x male: 322000}
            bounds: [0.3, 3.0]

    Raises `UnknownOptionError` naming the setting when there are none or they are malformed.
    """
    weighting = settings.get("weighting") if isinstance(settings, Mapping) else None
    raw = weighting.get("margins") if isinstance(weighting, Mapping) else None
    if not isinstance(raw, Mapping) or not raw:
        raise UnknownOptionError(
            [
                AnalysisProblem(
                    "settings.weighting.margins",
                    "the campaign file declares no population margins; expected a mapping of "
                    "variable to {category: population}",
                )
            ]
        )
    problems = []
    margins: dict[str | tuple[str, ...], Mapping[Any, float]] = {}
    for key, targets in raw.items():
        where = f"settings.weighting.margins.{key}"
        if not isinstance(targets, Mapping) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in targets.values()
        ):
            problems.append(AnalysisProblem(where, "expected {category: population count}"))
            continue
        names = tuple(str(key).split(JOINT))
        if len(names) == 1:
            margins[names[0]] = {str(c): float(v) for c, v in targets.items()}
        else:
            margins[names] = {tuple(str(c).split(JOINT)): float(v) for c, v in targets.items()}
    bounds = weighting.get("bounds") if isinstance(weighting, Mapping) else None
    if bounds is not None and (
        not isinstance(bounds, Sequence) or len(bounds) != 2 or isinstance(bounds, str)
    ):
        problems.append(AnalysisProblem("settings.weighting.bounds", "expected [lower, upper]"))
        bounds = None
    if problems:
        raise UnknownOptionError(problems)
    return margins, (float(bounds[0]), float(bounds[1])) if bounds is not None else None


def summarize(
    session: Session,
    campaign: Campaign,
    segments: Sequence[str] = (),
    weights: WeightsArg = None,
    *,
    alpha: float = 0.05,
    method: str = "wilson",
    progress: Progress | None = None,
    text_analysis: bool = True,
    exclude: Sequence[str] = FLAGS,
    snapshot_root: str | Path | None = None,
    rake: bool = False,
) -> CampaignSummary:
    """Summarise a stored campaign: its responses (read in chunks) and merged questionnaire.

    ``weights`` may name a column of the response frame or give one weight per response in id
    order; everything else is as in `summarize_frame`, which does the work. ``progress`` hears
    about reading (first half) and about each question (second half). With ``snapshot_root``
    the responses come from the campaign's Parquet snapshot there (`analysis.snapshots`),
    refreshed with only the responses added since; without it they are read from the database.
    ``rake=True`` rakes to the population margins of the campaign file (`campaign_margins`).
    """
    margins, bounds = campaign_margins(campaign.settings or {}) if rake else (None, None)
    form = campaign_form(session, campaign)
    if progress is not None:
        progress(0.0, "reading responses")
    if snapshot_root is not None and weights is None and margins is None:
        # Unweighted: counted straight from the Parquet snapshot, without a pandas frame.
        report = None if progress is None else _second_half(progress)
        options: dict[str, Any] = {
            "segments": segments,
            "alpha": alpha,
            "method": method,
            "slug": campaign.slug,
            "title": dict(campaign.title),
            "progress": report,
            "text_analysis": text_analysis,
            "exclude": exclude,
        }
        with snapshot_files(session, campaign, snapshot_root, form) as paths:
            if paths:
                return summarize_parquet(paths, form, **options)
        template = frame_template(session, campaign, form)
        return summarize_table(
            pa.Table.from_pandas(template, preserve_index=False), form, **options
        )
    if snapshot_root is None:
        frame = response_frame(session, campaign, form)
    else:
        frame = snapshot_frame(session, campaign, snapshot_root, form)
    report = None if progress is None else _second_half(progress)
    return summarize_frame(
        frame,
        form,
        segments=segments,
        weights=weights,
        alpha=alpha,
        method=method,
        slug=campaign.slug,
        title=dict(campaign.title),
        progress=report,
        text_analysis=text_analysis,
        exclude=exclude,
        margins=margins,
        weight_bounds=bounds,
    )


def _second_half(progress: Progress) -> Progress:
    progress(0.5, "responses read")
    return lambda done, what: progress(0.5 + done / 2, what)
