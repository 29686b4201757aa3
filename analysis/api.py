"""JSON API of the analysis: a campaign's summary (`CampaignSummary.to_dict()`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from analysis.errors import AnalysisError
from analysis.views import for_viewer, snapshot_root
from campaigns.store import get_campaign
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session
from minsheng.errors import InputError, Problem

bp = Blueprint("analysis_api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])


def _login_required_401(view: F) -> F:
    """An API client without a session gets 401, not the login page's redirect."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401, description="Log in as staff to read campaign results.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _float_arg(name: str, default: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InputError([Problem(name, f"got {raw!r}; expected a number")]) from None


@bp.get("/campaigns/<slug>/summary")
@_login_required_401
@require_role("organizer", "expert", "department")
def campaign_summary(slug: str) -> ResponseReturnValue:
    """The campaign summary (suppressed for department users). Query: ``segments``
    (comma-separated columns to crosstab by), ``method`` (interval method, default wilson),
    ``alpha`` (default 0.05), ``weights=campaign`` (rake to the campaign file's margins)."""
    from analysis.summary import summarize  # pandas, scipy, pyarrow: only when asked (issue 10)

    session = get_session()
    campaign = get_campaign(session, slug)
    if campaign is None:
        abort(404, description=f"No campaign {slug!r}.")
    segments = tuple(s for s in request.args.get("segments", "").split(",") if s.strip())
    try:
        summary = summarize(
            session,
            campaign,
            segments=segments,
            alpha=_float_arg("alpha", 0.05),
            method=request.args.get("method", "wilson"),
            snapshot_root=snapshot_root(),
            rake=request.args.get("weights") == "campaign",
        )
    except AnalysisError as exc:
        raise InputError([Problem(p.location, p.message) for p in exc.problems]) from None
    shown = for_viewer(summary)
    return shown if isinstance(shown, dict) else shown.to_dict()
