"""JSON API of invitations: a campaign's funnel (`Funnel.to_dict()`) and the delivery receipts
of the SMS gateway."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from campaigns.web import get_campaign_or_404
from invitations.funnel import funnel
from invitations.receipts import record_receipt
from minsheng.accounts.permissions import public, require_role
from minsheng.db import get_session
from minsheng.errors import InputError, Problem

bp = Blueprint("invitations_api", __name__, url_prefix="/api/v1")


@bp.get("/campaigns/<slug>/funnel")
@require_role("organizer")
def campaign_funnel(slug: str) -> ResponseReturnValue:
    """Stages, AAPOR dispositions and RR1/RR2, in total, by stratum, by channel and by both."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
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
