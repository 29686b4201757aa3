"""Organizer pages: a campaign's results (response count, per-question frequencies)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access
from minsheng.db import get_session
from minsheng.web import label_language
from questionnaire.schema import text_in

if TYPE_CHECKING:
    from analysis.summary import CampaignSummary

# The statistics (pandas, scipy, pyarrow) are imported by the views that compute, so creating
# the app stays light (issue 10).

bp = Blueprint("analysis", __name__, template_folder="templates")


@bp.route("/campaigns/<slug>/results")
@access("campaign:results")
def campaign_results(slug: str) -> ResponseReturnValue:
    """Every question with its base, counts, percentages and 95% intervals (small cells
    suppressed for department users)."""
    from analysis.summary import summarize

    session = get_session()
    campaign = get_campaign_or_404(slug)
    summary = for_viewer(summarize(session, campaign, snapshot_root=snapshot_root()))
    language = label_language()
    return render_template(
        "analysis/results.html",
        campaign=campaign,
        summary=summary,
        lang=language,
        title=text_in(campaign.title, language, "zh"),
    )


def for_viewer(summary: CampaignSummary) -> CampaignSummary | dict[str, Any]:
    """The summary as the logged-in user may see it: department users get small cells
    suppressed at the configured SUPPRESSION_THRESHOLD; other staff see everything."""
    if current_user.role == "department":
        from analysis.suppression import suppress_summary

        return suppress_summary(summary, int(current_app.config["SUPPRESSION_THRESHOLD"]))
    return summary


def snapshot_root() -> Path:
    """Where this app keeps response snapshots: ``<INSTANCE_PATH>/snapshots``."""
    from analysis.snapshots import SNAPSHOT_FOLDER

    return Path(current_app.config["INSTANCE_PATH"]) / SNAPSHOT_FOLDER
