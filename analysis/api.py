"""JSON API of the analysis: a campaign's summary (`CampaignSummary.to_dict()`)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from analysis.views import for_viewer, snapshot_root
from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access
from minsheng.db import get_session
from minsheng.errors import InputError, Problem

bp = Blueprint("analysis_api", __name__, url_prefix="/api/v1")


def _float_arg(name: str, default: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InputError([Problem(name, f"got {raw!r}; expected a number")]) from None


@bp.get("/campaigns/<slug>/summary")
@access("campaign:results")
def campaign_summary(slug: str) -> ResponseReturnValue:
    """The campaign summary (suppressed for department users). Query: ``segments``
    (comma-separated columns to crosstab by), ``method`` (interval method, default wilson),
    ``alpha`` (default 0.05), ``weights=campaign`` (rake to the campaign file's margins)."""
    from analysis.summary import summarize  # pandas, scipy, pyarrow: only when asked (issue 10)

    session = get_session()
    campaign = get_campaign_or_404(slug)
    segments = tuple(s for s in request.args.get("segments", "").split(",") if s.strip())
    # An `AnalysisError` (bad method, alpha, segment or margins) is an `InputError`: the API's
    # error handler answers it 422 with every problem.
    summary = summarize(
        session,
        campaign,
        segments=segments,
        alpha=_float_arg("alpha", 0.05),
        method=request.args.get("method", "wilson"),
        snapshot_root=snapshot_root(),
        rake=request.args.get("weights") == "campaign",
    )
    shown = for_viewer(summary)
    return shown if isinstance(shown, dict) else shown.to_dict()
