"""Organizer pages: a campaign's results (response count, per-question frequencies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from analysis.tasks import request_summary, summary_jobs
from analysis.webforms import SummaryJobForm
from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access
from minsheng.db import get_session
from minsheng.jobs import can_retry
from minsheng.web import commit_or_show, label_language
from questionnaire.schema import text_in

if TYPE_CHECKING:
    from analysis.summary import CampaignSummary

# The statistics (pandas, scipy, pyarrow) are imported by the views that compute, so creating
# the app stays light (issue 10).

bp = Blueprint("analysis", __name__, template_folder="templates")

#: Interval methods as a methods note names them (translated in the template).
INTERVAL_NAMES = {
    "wilson": "Wilson",
    "clopper-pearson": "Clopper-Pearson",
    "agresti-coull": "Agresti-Coull",
    "jeffreys": "Jeffreys",
    "wald": "Wald",
    "logit": "logit",
    "arcsine": "arcsine",
    "korn-graubard": "Korn-Graubard",
}


@bp.route("/campaigns/<slug>/results", methods=["GET", "POST"])
@access("campaign:results")
def campaign_results(slug: str) -> ResponseReturnValue:
    """Every question with its base, counts, percentages and 95% intervals (small cells
    suppressed for department users); below them the campaign's background summaries, and a
    form that queues one broken down by segments."""
    from analysis.frames import segment_names
    from analysis.loading import campaign_form
    from analysis.snapshots import snapshot_root
    from analysis.summary import declared_design, declares_margins, summarize

    session = get_session()
    campaign = get_campaign_or_404(slug)
    language = label_language()
    form = SummaryJobForm()
    questionnaire = campaign_form(session, campaign)
    questions = {q.name: q for q in questionnaire.questions()}
    form.segments.choices = [
        (name, text_in(questions[name].label, language, "zh") if name in questions else _(name))
        for name in segment_names(questionnaire)
    ]
    if form.validate_on_submit():
        segments = list(form.segments.data or [])  # none ticked: the browser sends no field
        queued = commit_or_show(session, form, lambda: request_summary(session, campaign, segments))
        if queued is not None:
            flash(_("The summary has been queued; it is listed below."), "info")
            return redirect(url_for("analysis.campaign_results", slug=slug, _anchor="summary-jobs"))
    weighting = request.args.get("weighting", "declared")
    summary = for_viewer(
        summarize(session, campaign, snapshot_root=snapshot_root(), weighting=weighting)
    )
    settings = campaign.settings or {}
    jobs = summary_jobs(session, campaign)
    return render_template(
        "analysis/results.html",
        campaign=campaign,
        summary=summary,
        lang=language,
        title=campaign.title_in(language),
        form=form,
        jobs=jobs,
        retryable={job.id for job in jobs if can_retry(session, job)},
        declared=declared_design(settings) is not None or declares_margins(settings),
        interval_names=INTERVAL_NAMES,
    ), 422 if form.errors else 200


def for_viewer(
    summary: CampaignSummary | Mapping[str, Any],
) -> CampaignSummary | Mapping[str, Any]:
    """The summary as the logged-in user may see it: department users get small cells
    suppressed at the configured SUPPRESSION_THRESHOLD; other staff see everything."""
    if current_user.role == "department":
        from analysis.suppression import suppress_summary

        return suppress_summary(summary, int(current_app.config["SUPPRESSION_THRESHOLD"]))
    return summary
