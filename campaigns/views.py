"""Organizer pages: the list of campaigns."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from campaigns.access import sees_results
from campaigns.models import Campaign
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session
from questionnaire.schema import text_in

bp = Blueprint("campaigns", __name__, template_folder="templates")


@bp.route("/campaigns/")
@require_role("organizer", "expert", "department")
def index() -> ResponseReturnValue:
    """The campaigns whose results the logged-in user may see (`campaigns.access`)."""
    every = get_session().scalars(select(Campaign).order_by(Campaign.id.desc()))
    campaigns = [c for c in every if sees_results(current_user, c)]
    return render_template("campaigns/index.html", campaigns=campaigns, text_in=text_in)
