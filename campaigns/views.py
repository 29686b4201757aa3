"""Organizer pages: the list of campaigns."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from campaigns.models import Campaign
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session
from questionnaire.schema import text_in

bp = Blueprint("campaigns", __name__, template_folder="templates")


@bp.route("/campaigns/")
@require_role("organizer", "expert", "department")
def index() -> ResponseReturnValue:
    campaigns = list(get_session().scalars(select(Campaign).order_by(Campaign.id.desc())))
    return render_template("campaigns/index.html", campaigns=campaigns, text_in=text_in)
