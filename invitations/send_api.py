"""JSON API of sending: a campaign's funnel (`Funnel.to_dict()`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campaigns.store import get_campaign
from invitations.funnel import funnel
from minsheng.accounts.permissions import require_role
from minsheng.db import get_session

bp = Blueprint("invitations_send_api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])


def _401_without_login(view: F) -> F:
    """An API client without a session gets 401, not the login page's redirect."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401, description="Log in as an organizer to read the funnel.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.get("/campaigns/<slug>/funnel")
@_401_without_login
@require_role("organizer")
def campaign_funnel(slug: str) -> ResponseReturnValue:
    """Stages, AAPOR dispositions and RR1/RR2, in total, by stratum, by channel and by both."""
    session = get_session()
    campaign = get_campaign(session, slug)
    if campaign is None:
        abort(404, description=f"No campaign {slug!r}.")
    return funnel(session, campaign).to_dict()
