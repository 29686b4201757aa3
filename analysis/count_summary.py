"""Unweighted summaries from count tables (`analysis.counting`): of an Arrow table in memory
(`summarize_table`) or of Parquet files such as a campaign's snapshot, counted row group by row
group (`summarize_parquet`). The same result as `analysis.frame_summary.summarize_frame`, without
a row-level frame; weighted summaries are handed to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.arrow import read_schema
from analysis.counting import Tally, tally_parquet, tally_table
from analysis.crosstabs import CrosstabScan, benjamini_hochberg, crosstab_from_counts
from analysis.errors import UnknownCategoryError, check_alpha, check_columns
from analysis.frame_summary import summarize_frame
from analysis.frames import choice_names, option_column, rating_scores
from analysis.proportions import check_method, frequencies_from_counts, multiple_choice_from_counts
from analysis.quality import FLAGS, QualityReport
from analysis.scales import (
    net_promoter_score_from_counts,
    numeric_summary_from_counts,
    ranking_from_counts,
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
from analysis.text import text_summary_from_counts
from analysis.weighting import Margins
from minsheng.problems import Problem
from questionnaire.schema import Form, Question


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
    options = Options(None, alpha, method, text_analysis)
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
        responses_by={name: _origin_counts(tally, name) for name in ORIGINS if tally.has(name)},
    )


def _origin_counts(tally: Tally, name: str) -> dict[str, int]:
    names = tally.categories(name)
    counts, _ = tally.category_counts(name, names)
    return {n: int(c) for n, c in zip(names, counts, strict=True) if c}


def _check_table_segments(schema: Any, segments: Sequence[str]) -> None:
    check_columns(list(schema.names), list(segments))
    not_categorical = [s for s in segments if not pa.types.is_dictionary(schema.field(s).type)]
    if not_categorical:
        raise segments_not_categorical(not_categorical)


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


def _summarize_counted(form: Form, q: Question, counted: Tally, o: Options) -> QuestionSummary:
    if q.type == "select_one":
        return _single_counted(form, q, counted, o)
    if q.type == "select_multiple":
        names = choice_names(form, q)
        ticks, answered = counted.option_counts([option_column(q, n) for n in names])
        table = multiple_choice_from_counts(
            ticks, names, answered, counted.n_rows - answered, o.alpha, o.method
        )
        return multiple_summary(form, q, table)
    if q.type == "rank":
        names = choice_names(form, q)
        columns = [option_column(q, n) for n in names]
        _, answered = counted.option_counts(columns)
        ranks = {n: counted.number_counts(c) for n, c in zip(names, columns, strict=True)}
        base = question_base(q, form, answered, counted.n_rows - answered, None)
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
        **question_base(q, form, n, counted.n_rows - n, None),
        kind=kind,
        text=text,
        note=None if n else "no answers",
    )


def _single_counted(form: Form, q: Question, counted: Tally, o: Options) -> QuestionSummary:
    names = choice_names(form, q)
    counts, missing = counted.category_counts(q.name, names)
    table = frequencies_from_counts(counts, names, missing, o.alpha, o.method)
    base = question_base(q, form, table.n_unweighted, table.n_missing, None)
    rows = rows_from_table(form, q, table, names)
    scores = rating_scores(form, q)
    if scores is None:
        return QuestionSummary(**base, kind="single", rows=rows, note=table.note)
    top_codes = np.argsort(scores, kind="stable")[-2:]
    mean, top_box = rating_from_counts(table, scores, top_codes, counted.n_rows, o)
    return QuestionSummary(
        **base,
        kind="rating",
        rows=rows,
        mean=mean,
        top_box=top_box,
        top_box_choices=tuple(names[i] for i in sorted(top_codes)),
        note=table.note,
    )


def _numeric_counted(form: Form, q: Question, counted: Tally, o: Options) -> QuestionSummary:
    values, counts = counted.number_counts(q.name)
    n_missing = counted.n_rows - int(counts.sum())
    summary = numeric_summary_from_counts(values, counts, n_missing, o.alpha)
    mean = summary.mean
    base = question_base(q, form, mean.n_unweighted, mean.n_missing, None)
    rows: tuple[ChoiceRow, ...] = ()
    points = scale_points(q)
    if points is not None:
        at = {p: i for i, p in enumerate(points)}
        outside = [v for v in values.tolist() if v not in at]
        if outside:
            allowed = ", ".join(repr(p) for p in points)
            raise UnknownCategoryError(
                [
                    Problem(
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
        rows = point_rows(points, table)
    nps = net_promoter_score_from_counts(values, counts, n_missing, o.alpha) if is_nps(q) else None
    kind = "nps" if nps is not None else "numeric"
    return QuestionSummary(**base, kind=kind, rows=rows, numeric=summary, nps=nps, note=mean.note)
