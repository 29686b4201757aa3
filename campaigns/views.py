"""Organizer pages: the list of campaigns, a new campaign and its settings, who runs it, and its
status with its next steps."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from campaigns.access import sees_results
from campaigns.lifecycle import change_status, next_steps, status_check, transition
from campaigns.models import Campaign
from campaigns.organizers import give_campaign, organizer_accounts
from campaigns.setup import editable, page_values, save_campaign_settings
from campaigns.web import campaign_title, get_campaign_or_404
from campaigns.webforms import CampaignForm, OrganizersForm
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


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_role("organizer")
def new() -> ResponseReturnValue:
    """A new draft campaign from its settings; its creator owns it. Its questionnaire comes next."""
    session = get_session()
    form = CampaignForm()
    if form.validate_on_submit():
        created = commit_or_show(
            session, form, lambda: save_campaign_settings(session, form.data, None, current_user)
        )
        if created is not None:
            flash(_("The campaign is created as a draft. Now build its questionnaire."), "info")
            return redirect(url_for("campaigns.settings", slug=created.slug))
    return render_template(
        "campaigns/settings.html", form=form, campaign=None, title=_("New campaign"), locked=False
    ), 422 if form.errors else 200


@bp.route("/campaigns/<slug>/settings", methods=["GET", "POST"])
@access("campaign:organizer")
def settings(slug: str) -> ResponseReturnValue:
    """The campaign's settings, the same fields as its file; changeable while it is a draft or
    paused (`campaigns.setup.EDITABLE_STATUSES`)."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    form = CampaignForm(data=None if request.method == "POST" else page_values(campaign))
    if editable(campaign) and form.validate_on_submit():
        saved = commit_or_show(
            session,
            form,
            lambda: save_campaign_settings(session, form.data, campaign, current_user),
        )
        if saved is not None:
            flash(_("The campaign's settings are saved."), "info")
            return redirect(url_for("campaigns.settings", slug=slug))
    return render_template(
        "campaigns/settings.html",
        form=form,
        campaign=campaign,
        title=campaign_title(campaign),
        locked=not editable(campaign),
    ), 422 if form.errors else 200


@bp.route("/campaigns/<slug>/organizers", methods=["GET", "POST"])
@access("campaign:organizer")
def organizers(slug: str) -> ResponseReturnValue:
    """Who runs the campaign: its owner (or an admin) names the owner and the co-organizers;
    the others who run it see the list."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    accounts = organizer_accounts(session)
    form = OrganizersForm(
        data=None
        if request.method == "POST"
        else {
            "owner": campaign.owner_id or current_user.id,
            "co_organizers": [u.id for u in campaign.co_organizers],
        }
    )
    form.owner.choices = [(u.id, f"{u.display_name} ({u.username})") for u in accounts]
    form.co_organizers.choices = form.owner.choices
    may_change = (
        current_user.role == "admin"
        or campaign.owner_id is None
        or campaign.owner_id == current_user.id
    )
    if may_change and form.validate_on_submit():
        by_id = {u.id: u for u in accounts}

        def give() -> Campaign:
            give_campaign(
                session,
                campaign,
                by_id[form.owner.data],
                [by_id[i] for i in form.co_organizers.data],
                actor_id=current_user.id,
            )
            return campaign

        if commit_or_show(session, form, give) is not None:
            flash(_("Who runs the campaign is saved."), "info")
            return redirect(url_for("campaigns.organizers", slug=slug))
    return render_template(
        "campaigns/organizers.html",
        form=form,
        campaign=campaign,
        title=campaign_title(campaign),
        may_change=may_change,
    ), 422 if form.errors else 200
