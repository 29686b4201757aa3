"""JSON API of sending: a campaign's funnel (`Funnel.to_dict()`)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campaigns.store import get_campaign
from invitations.funnel import funnel
from invitations.receipts import record_receipt
from minsheng.accounts.permissions import public, require_role
from minsheng.db import get_session
from minsheng.errors import InputError, Problem

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


@bp.post("/invitations/receipts")
@public
def delivery_receipts() -> ResponseReturnValue:
    """Delivery reports from the SMS gateway (or a bounce processor), authenticated with the
    gateway's bearer token: `{"message_id", "status": delivered|bounced|failed, "reason"}` or a
    list of them. Answers 422 naming each bad report; the good ones are recorded."""
    token = str(current_app.config["SMS_GATEWAY_TOKEN"])
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        abort(401, description="Delivery reports need the gateway's bearer token.")
    body = request.get_json(silent=True)
    reports = body if isinstance(body, list) else [body]
    session = get_session()
    problems: list[Problem] = []
    recorded = 0
    for number, report in enumerate(reports):
        if not isinstance(report, dict):
            problems.append(Problem(f"[{number}]", "expected an object with message_id, status"))
            continue
        try:
            record_receipt(
                session,
                str(report.get("message_id", "")),
                str(report.get("status", "")),
                str(report.get("reason", "")),
            )
            recorded += 1
        except InputError as exc:
            problems.extend(Problem(f"[{number}].{p.location}", p.message) for p in exc.problems)
    session.commit()
    if problems:
        raise InputError(problems)
    return {"recorded": recorded}
