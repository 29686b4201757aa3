"""Organizer pages: the list of campaigns, and a campaign's status with its next steps."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from campaigns.access import sees_results
from campaigns.lifecycle import change_status, next_steps, status_check, transition
from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access, require_role
from minsheng.db import get_session
from minsheng.errors import InputError
from minsheng.web import commit_or_show
from questionnaire.schema import text_in

bp = Blueprint("campaigns", __name__, template_folder="templates")


@bp.route("/campaigns/")
@require_role("organizer", "expert", "department")
def index() -> ResponseReturnValue:
    """The campaigns whose results the logged-in user may see (`campaigns.access`)."""
    every = get_session().scalars(select(Campaign).order_by(Campaign.id.desc()))
    campaigns = [c for c in every if sees_results(current_user, c)]
    return render_template("campaigns/index.html", campaigns=campaigns, text_in=text_in)


@bp.route("/campaigns/<slug>/status")
@access("campaign:organizer")
def status(slug: str) -> ResponseReturnValue:
    """The campaign's status and the steps it can take from here, each explained."""
    campaign = get_campaign_or_404(slug)
    return render_template(
        "campaigns/status.html",
        campaign=campaign,
        steps=next_steps(campaign),
    )


@bp.route("/campaigns/<slug>/status/<target>", methods=["GET", "POST"])
@access("campaign:organizer")
def change(slug: str, target: str) -> ResponseReturnValue:
    """Confirm one step: what it does, what every stage notes about it (unsent invitations,
    saved drafts) and what refuses it (no questionnaire); posting the confirmation takes it."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    try:
        step = transition(campaign, target)
    except InputError as exc:
        abort(404, description=exc.problems[0].message)
    form = FlaskForm()

    def take_step() -> Campaign:
        change_status(session, campaign, target, actor_id=current_user.id)
        return campaign

    if form.validate_on_submit() and commit_or_show(session, form, take_step) is not None:
        flash(_("The campaign is now %(status)s.", status=_(target)), "info")
        return redirect(url_for("campaigns.status", slug=slug))
    found = status_check(session, campaign, target)
    return render_template(
        "campaigns/change_status.html",
        campaign=campaign,
        step=step,
        check=found,
        form=form,
    ), 422 if form.errors else 200
