"""The one result object of a campaign: every question summarised in form order, with its base,
interval and method, plus crosstabs by segment. Pages, the API and the PDF report all render
`CampaignSummary.to_dict()`.

`summarize` summarises a stored campaign. Unweighted it counts the campaign's Parquet snapshot
(`analysis.count_summary`); weighted, or without a snapshot, it summarises a pandas frame row by
row (`analysis.frame_summary`), which is also what a notebook uses. Both give the same result
objects (`analysis.summary_types`), and this module re-exports what callers need.

Example (no database, no app)::

    from analysis.frame_summary import summarize_frame
    from analysis.frames import answers_frame
    from campaigns.definition import read_campaign_file

    form = read_campaign_file("examples/transport.yaml").form
    frame = answers_frame([{"district": "wuhou", "sat_bus": "4"}, ...], form)
    summary = summarize_frame(frame, form, segments=("district",))
    summary.question("sat_bus").top_box.estimate      # satisfaction rate, 0..1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from analysis.count_summary import (
    crosstab_cells,
    summarize_parquet,
    summarize_table,
    summarize_tally,
    table_crosstabs,
)
from analysis.errors import UnknownOptionError
from analysis.frame_summary import summarize_frame, summarize_question
from analysis.loading import campaign_form, frame_template, response_frame
from analysis.quality import FLAGS
from analysis.snapshots import snapshot_files, snapshot_frame
from analysis.summary_types import (
    CampaignSummary,
    ChoiceRow,
    Progress,
    QuestionSummary,
    WeightsArg,
    is_nps,
    labels,
)
from analysis.survey_design import declared_design
from analysis.weighting import Margins
from campaigns.models import Campaign
from minsheng.problems import Problem

__all__ = [
    "CampaignSummary",
    "ChoiceRow",
    "QuestionSummary",
    "campaign_margins",
    "crosstab_cells",
    "declared_design",
    "declares_margins",
    "is_nps",
    "labels",
    "summarize",
    "summarize_frame",
    "summarize_parquet",
    "summarize_question",
    "summarize_table",
    "summarize_tally",
    "table_crosstabs",
]

JOINT = " x "
#: ``summarize(weighting=)``: the campaign's declared design and margins, or none.
WEIGHTING = ("declared", "none")


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
                Problem(
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
            problems.append(Problem(where, "expected {category: population count}"))
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
        problems.append(Problem("settings.weighting.bounds", "expected [lower, upper]"))
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
    weighting: str = "declared",
) -> CampaignSummary:
    """Summarise a stored campaign: its responses (read in chunks) and merged questionnaire.

    ``weighting="declared"`` (the default) gives design-based estimates whenever the campaign
    file declares a sampling design (``settings.design``, `declared_design`) or population
    margins (``settings.weighting``, `campaign_margins`); ``"none"`` gives the unweighted
    figures whatever it declares. ``rake=True`` insists on the margins (an error names the
    setting when there are none).

    ``weights`` may name a column of the response frame or give one weight per response in id
    order; everything else is as in `summarize_frame`, which does the work. ``progress`` hears
    about reading (first half) and about each question (second half). With ``snapshot_root``
    the responses come from the campaign's Parquet snapshot there (`analysis.snapshots`),
    refreshed with only the responses added since; without it they are read from the database.
    ``rake=True`` rakes to the population margins of the campaign file (`campaign_margins`).
    """
    if weighting not in WEIGHTING:
        raise UnknownOptionError.for_choice("weighting", weighting, WEIGHTING)
    settings = campaign.settings or {}
    margins, bounds, design = None, None, None
    if rake or (weighting == "declared" and declares_margins(settings)):
        margins, bounds = campaign_margins(settings)
    if weighting == "declared":
        design = declared_design(settings)
    form = campaign_form(session, campaign)
    if progress is not None:
        progress(0.0, "reading responses")
    if snapshot_root is not None and weights is None and margins is None and design is None:
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
        design=design,
    )


def declares_margins(settings: Mapping[str, Any]) -> bool:
    """Whether a campaign file's settings declare population margins to weight to."""
    weighting = settings.get("weighting") if isinstance(settings, Mapping) else None
    return isinstance(weighting, Mapping) and bool(weighting.get("margins"))


def _second_half(progress: Progress) -> Progress:
    progress(0.5, "responses read")
    return lambda done, what: progress(0.5 + done / 2, what)
