"""Summaries of a pandas response frame, row by row: every estimate can be weighted (a weight
column, or raking to population margins), and the same functions work in a notebook without a
database or an app. `analysis.summary` re-exports `summarize_frame` and `summarize_question`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.categories import weight_array
from analysis.crosstabs import CrosstabScan, crosstab_scan
from analysis.design import SamplingDesign
from analysis.design_questions import (
    mean_estimate,
    net_promoter,
    proportion_estimate,
    rows_with_design,
    share_estimates,
    top_box_indicator,
)
from analysis.errors import check_alpha, check_columns
from analysis.frames import categorical_of, choice_names, option_column, rating_scores
from analysis.proportions import (
    ProportionEstimate,
    check_method,
    frequencies,
    indicator_proportion,
    multiple_choice_frequencies,
)
from analysis.quality import FLAGS, quality_check
from analysis.scales import (
    MeanEstimate,
    mean_ci,
    net_promoter_score,
    numeric_summary,
    ranking_summary,
)
from analysis.summary_types import (
    ORIGINS,
    CampaignSummary,
    ChoiceRow,
    Options,
    Progress,
    QuestionSummary,
    WeightsArg,
    is_nps,
    labels,
    multiple_summary,
    point_rows,
    question_base,
    rating_from_counts,
    rows_from_table,
    scale_points,
    segments_not_categorical,
)
from analysis.survey_design import AnalysisDesign, DeclaredDesign, analysis_design
from analysis.text import text_summary
from analysis.weighting import Margins
from questionnaire.schema import Form, Question

WEIGHT_COLUMN = "__weight__"


def _single(form: Form, q: Question, frame: pd.DataFrame, o: Options) -> QuestionSummary:
    names = choice_names(form, q)
    column = categorical_of(o.column(frame, q.name), names)
    table = frequencies(column, None, o.weights, o.alpha, o.method)
    base = question_base(q, form, table.n_unweighted, table.n_missing, table.weighted_base)
    rows = rows_from_table(form, q, table, names)
    codes = column.cat.codes.to_numpy().astype(np.int64)
    if o.design is not None:
        rows = rows_with_design(rows, share_estimates(o.design, codes, len(names), o.alpha))
    scores = rating_scores(form, q)
    if scores is None:
        return QuestionSummary(**base, kind="single", rows=rows, note=table.note)
    top_codes = np.argsort(scores, kind="stable")[-2:]
    if o.design is not None:
        score = np.array([*scores, *[np.nan] * (len(names) - len(scores) + 1)])[codes]
        mean = mean_estimate(o.design, score, o.alpha)
        indicator = top_box_indicator(codes, top_codes.tolist(), len(scores))
        top_box = proportion_estimate(o.design, indicator, o.alpha)
    elif o.weights is None:
        mean, top_box = rating_from_counts(table, scores, top_codes, len(column), o)
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
    o: Options,
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


def _multiple(form: Form, q: Question, frame: pd.DataFrame, o: Options) -> QuestionSummary:
    names = choice_names(form, q)
    selected = o.columns(frame, [option_column(q, n) for n in names], names)
    table = multiple_choice_frequencies(selected, o.weights, o.alpha, o.method)
    summary = multiple_summary(form, q, table)
    if o.design is None:
        return summary
    answered = selected.notna().any(axis=1).to_numpy()
    ticks = selected.fillna(0).astype(float).to_numpy() != 0
    estimates = [
        proportion_estimate(o.design, np.where(answered, ticks[:, j], np.nan), o.alpha)
        for j in range(len(names))
    ]
    return replace(summary, rows=rows_with_design(summary.rows, estimates))


def _ranking(form: Form, q: Question, frame: pd.DataFrame, o: Options) -> QuestionSummary:
    names = choice_names(form, q)
    ranks = o.columns(frame, [option_column(q, n) for n in names], names)
    answered = ranks.notna().any(axis=1).to_numpy()
    n = int(answered.sum())
    weighted = None if o.weights is None else float(o.weights[answered].sum())
    base = question_base(q, form, n, len(ranks) - n, weighted)
    items = ranking_summary(ranks, o.weights, o.alpha, o.method)
    return QuestionSummary(
        **base, kind="ranking", ranking=items, note=None if n else "no valid answers"
    )


def _numeric(form: Form, q: Question, frame: pd.DataFrame, o: Options) -> QuestionSummary:
    values = o.column(frame, q.name)
    summary = numeric_summary(values, o.weights, o.alpha)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if o.design is not None:
        sd = summary.mean.sd
        summary = replace(summary, mean=mean_estimate(o.design, numbers, o.alpha, sd))
    mean = summary.mean
    base = question_base(q, form, mean.n_unweighted, mean.n_missing, mean.weighted_base)
    rows: tuple[ChoiceRow, ...] = ()
    points = scale_points(q)
    if points is not None:
        rows = point_rows(points, frequencies(values, points, o.weights, o.alpha, o.method))
        if o.design is not None:
            at = {p: i for i, p in enumerate(points)}
            codes = np.array([at.get(v, -1) for v in numbers.tolist()], dtype=np.int64)
            rows = rows_with_design(rows, share_estimates(o.design, codes, len(points), o.alpha))
    nps = None
    if is_nps(q):
        if o.design is not None:
            nps = net_promoter(o.design, numbers, o.alpha)
        else:
            nps = net_promoter_score(values, o.weights, o.alpha)
    kind = "nps" if nps is not None else "numeric"
    return QuestionSummary(**base, kind=kind, rows=rows, numeric=summary, nps=nps, note=mean.note)


def _answered_only(form: Form, q: Question, frame: pd.DataFrame, o: Options) -> QuestionSummary:
    column = o.column(frame, q.name)
    answered = column.notna().to_numpy()
    n = int(answered.sum())
    weighted = None if o.weights is None else float(o.weights[answered].sum())
    kind = q.type if q.type in ("date", "acknowledge") else "text"
    text = None
    if kind == "text" and o.text_analysis:
        text = text_summary(column[answered])
    return QuestionSummary(
        **question_base(q, form, n, len(column) - n, weighted),
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
    options = Options(weight_array(weights, len(frame)), alpha, method, text_analysis)
    return _summarize_question(frame, form, question, options)


def _summarize_question(
    frame: pd.DataFrame, form: Form, question: Question, options: Options
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
    design: DeclaredDesign | None = None,
) -> CampaignSummary:
    """Summarise every question of ``form`` on ``frame`` (as built by `analysis.frames`).

    Parameters
    ----------
    frame : DataFrame
        One row per response, columns as in `analysis.frames` (extra columns are ignored).
    form : Form
        The questionnaire (`analysis.loading.campaign_form` for a stored campaign).
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
    design : DeclaredDesign, optional
        The sampling design (strata, clusters, population per stratum) of the responses
        (`analysis.survey_design.declared_design` of a campaign file).

    With a design or margins every estimate is design-based: Taylor-linearisation standard
    errors with strata, clusters and fpc, the calibration residuals of the raking, intervals,
    design effects and effective n as the design declares (`analysis.survey_design`); the
    crosstab tests are Rao-Scott corrected on the same design. With ``weights`` alone the
    intervals use Kish's effective n, and ``estimation`` says so.

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
    analysis = None
    if design is not None or margins:
        analysis = _analysis_design(frame, keep, design, margins, weight_bounds, kept_weights)
        kept_weights = analysis.weights
    options = Options(kept_weights, alpha, method, text_analysis, keep, analysis)
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
        crosstabs = _crosstabs(frame, form, tuple(segments), options)
        if progress is not None:
            progress(1.0, "crosstabs")
    return CampaignSummary(
        slug=slug,
        title=labels(title or form.title, form.default_language),
        n_responses=int(check.keep.sum()),
        quality=check.report,
        weighted=kept_weights is not None,
        weighting=None if analysis is None else analysis.raking,
        alpha=alpha,
        method=method,
        questions=questions,
        segments=tuple(segments),
        crosstabs=crosstabs,
        responses_by={
            name: _origin_counts(options.column(frame, name))
            for name in ORIGINS
            if name in frame.columns
        },
        estimation=_estimation(analysis, kept_weights),
        design=None if analysis is None else analysis.report,
    )


def _estimation(analysis: AnalysisDesign | None, weights: object) -> str:
    if analysis is not None:
        return "design-based"
    return "unweighted" if weights is None else "kish-approximation"


def _analysis_design(
    frame: pd.DataFrame,
    keep: npt.NDArray[np.bool_] | None,
    design: DeclaredDesign | None,
    margins: Margins | None,
    bounds: tuple[float, float] | None,
    weights: npt.NDArray[np.float64] | None,
) -> AnalysisDesign:
    """The design of the kept responses, from only the columns it reads."""
    names = [c for c in (design.strata, design.clusters) if c] if design else []
    for key in margins or {}:
        names.extend((key,) if isinstance(key, str) else key)
    check_columns(list(frame.columns), names)
    kept = Options(None, 0.05, "wilson", keep=keep)
    columns = pd.DataFrame({name: kept.column(frame, name) for name in dict.fromkeys(names)})
    return analysis_design(columns, design, margins, bounds, weights)


def _origin_counts(column: pd.Series[Any]) -> dict[str, int]:
    counts = column.value_counts(sort=False)
    return {str(name): int(n) for name, n in counts.items() if n}


def _done(summary: QuestionSummary) -> Future[QuestionSummary]:
    future: Future[QuestionSummary] = Future()
    future.set_result(summary)
    return future


def _crosstabs(
    frame: pd.DataFrame, form: Form, segments: tuple[str, ...], o: Options
) -> CrosstabScan:
    check_columns(list(frame.columns), list(segments))
    not_categorical = [s for s in segments if not isinstance(frame[s].dtype, pd.CategoricalDtype)]
    if not_categorical:
        raise segments_not_categorical(not_categorical)
    rows = [q.name for q in form.questions() if q.type == "select_one" and q.name not in segments]
    table = o.columns(frame, [*rows, *segments], [*rows, *segments])
    design = None
    if o.design is not None:
        # The full design (strata, clusters, fpc, calibration), so the Rao-Scott correction
        # uses the design-based covariance of the cells.
        extra = [c for c in o.design.frame.columns if c not in table.columns]
        table = table.assign(**{c: o.design.frame[c].to_numpy() for c in extra})
        design = o.design.sampling
    elif o.weights is not None:
        table = table.assign(**{WEIGHT_COLUMN: o.weights})
        design = SamplingDesign(weights=WEIGHT_COLUMN)
    return crosstab_scan(table, rows, list(segments), design=design, alpha=o.alpha)
