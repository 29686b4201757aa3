"""The public feedback page of a campaign (反馈): what became of the suggestions, and a
satisfaction score (评价) from suggesters, one per recommendation and browser."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import public
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.limits import record_id
from minsheng.text import sanitised
from minsheng.web import label_language
from questionnaire.schema import text_in
from recommendations.feedback import evaluate, public_feedback
from recommendations.models import Recommendation
from recommendations.webforms import PublicEvaluationForm

bp = Blueprint("recommendations_public", __name__, template_folder="templates")
# Recommendations this browser has rated, kept in the signed session cookie: a light guard
# against repeated clicks; the page asks for no account, like the questionnaire itself.
RATED = "recommendations.rated"


@bp.route("/s/<slug>/feedback", methods=["GET", "POST"])
@public
def campaign_feedback(slug: str) -> ResponseReturnValue:
    db = get_session()
    campaign = get_campaign_or_404(slug)
    rated: list[int] = list(session.get(RATED, []))
    form = PublicEvaluationForm()
    if form.validate_on_submit():
        rec_id = record_id(form.recommendation_id.data)
        recommendation = db.get(Recommendation, rec_id) if rec_id is not None else None
        if rec_id is None or recommendation is None or recommendation.campaign_id != campaign.id:
            shown = sanitised(str(form.recommendation_id.data)[:40])
            abort(404, description=f"No recommendation {shown!r} in campaign {slug!r}.")
        if rec_id in rated:
            flash(_("You have already rated this."), "info")
        else:
            try:
                evaluate(db, recommendation, int(form.satisfaction.data or 0), "suggester")
            except InputError as exc:
                db.rollback()
                for problem in exc.problems:
                    flash(str(problem), "error")
            else:
                db.commit()
                session[RATED] = [*rated, rec_id]
                flash(_("Thank you for your rating."), "info")
        return redirect(url_for("recommendations_public.campaign_feedback", slug=slug))
    language = label_language()
    return render_template(
        "recommendations/public_feedback.html",
        campaign=campaign,
        title=text_in(campaign.title, language, "zh"),
        recommendations=public_feedback(db, campaign),
        rated=set(rated),
        form=form,
    )
