"""Organizer pages: a campaign's results (response count, per-question frequencies)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from analysis.summary import summarize
from campaigns.store import get_campaign
from forms.schema import text_in
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session

bp = Blueprint("analysis", __name__, template_folder="templates")


@bp.route("/campaigns/<slug>/results")
@require_role("organizer", "expert", "department")
def campaign_results(slug: str) -> ResponseReturnValue:
    """Every question with its base, counts, percentages and 95% intervals."""
    session = get_session()
    campaign = get_campaign(session, slug)
    if campaign is None:
        abort(404, description=f"No campaign {slug!r}.")
    summary = summarize(session, campaign)
    language = "en" if str(get_locale() or "zh_CN").startswith("en") else "zh"
    return render_template(
        "analysis/results.html",
        campaign=campaign,
        summary=summary,
        lang=language,
        title=text_in(campaign.title, language, "zh"),
    )
