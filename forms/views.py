"""Routes of the respondent pages (public link, QR poster, invitation link, resume, thank-you);
the page flow itself is `forms.respondent`."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from forms import respondent
from minsheng.accounts.permissions import public, token
from minsheng.db import get_session
from minsheng.throttle import throttled

bp = Blueprint(
    "forms",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/forms/static",
)


@bp.route("/s/<slug>", methods=["GET", "POST"])
@public
@throttled("POST")
def respond(slug: str) -> ResponseReturnValue:
    """The public link of a campaign; `?p=<code>` names the collection point of a QR poster."""
    return respondent.public_link(get_session(), slug)


@bp.route("/i/<token>", methods=["GET", "POST"])
@token
@throttled()
def respond_invitation(token: str) -> ResponseReturnValue:
    """A personal invitation link: one response per invitation, resumed from the same link on any
    device (no resume code needed), answered once and then only thanked."""
    return respondent.invitation_link(get_session(), token)


@bp.route("/s/<slug>/resume", methods=["GET", "POST"])
@public
@throttled("POST")
def resume(slug: str) -> ResponseReturnValue:
    """Continue a public-link draft on any device by typing its resume code."""
    return respondent.resume_page(get_session(), slug)


@bp.route("/s/<slug>/thanks")
@public
def thanks(slug: str) -> ResponseReturnValue:
    return respondent.thanks_page(slug)
