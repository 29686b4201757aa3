"""JSON API of invitations: a campaign's funnel (`Funnel.to_dict()`) and the delivery receipts
of the SMS gateway."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from campaigns.web import get_campaign_or_404
from invitations.funnel import DISPOSITIONS, funnel
from invitations.receipts import RECEIPT_STATUSES, record_receipt
from minsheng.accounts.permissions import access, token
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from minsheng.openapi import SLUG, STAFF_REFUSALS, add_openapi, errors, json_body

bp = Blueprint("invitations_api", __name__, url_prefix="/api/v1")


@bp.get("/campaigns/<slug>/funnel")
@access("campaign:organizer")
def campaign_funnel(slug: str) -> ResponseReturnValue:
    """Stages, AAPOR dispositions and RR1/RR2, in total, by stratum, by channel and by both."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    return funnel(session, campaign).to_dict()


@bp.post("/invitations/receipts")
@token
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


_COUNT = {"type": "integer", "minimum": 0}
_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_STAGES = (
    "created",
    "sent",
    "delivered",
    "bounced",
    "opened",
    "started",
    "completed",
    "opted_out",
    "failed",
    "uncertain",
)
_RECEIPT = {
    "type": "object",
    "required": ["message_id", "status"],
    "properties": {
        "message_id": {"type": "string", "description": "The gateway's id of the message."},
        "status": {"type": "string", "enum": list(RECEIPT_STATUSES)},
        "reason": {"type": "string", "description": "The gateway's words for a failure."},
    },
}
add_openapi(
    {
        "/campaigns/{slug}/funnel": {
            "get": {
                "operationId": "getCampaignFunnel",
                "summary": "The invitation funnel: stages, AAPOR dispositions and RR1/RR2",
                "security": [{"staffSession": []}],
                "parameters": [SLUG],
                "responses": {
                    "200": json_body(
                        "In total, by stratum, by channel and by both.",
                        {
                            "type": "object",
                            "required": ["campaign", "total", "by_stratum", "by_channel", "cells"],
                            "properties": {
                                "campaign": {"type": "string"},
                                "total": {"$ref": "#/components/schemas/FunnelCounts"},
                                "by_stratum": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "$ref": "#/components/schemas/FunnelCounts"
                                    },
                                },
                                "by_channel": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "$ref": "#/components/schemas/FunnelCounts"
                                    },
                                },
                                "cells": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/FunnelCounts"},
                                },
                            },
                        },
                    ),
                    **STAFF_REFUSALS,
                    "404": errors("No such campaign."),
                },
            }
        },
        "/invitations/receipts": {
            "post": {
                "operationId": "postDeliveryReceipts",
                "summary": "Delivery reports of the SMS gateway (or a bounce processor)",
                "security": [{"gatewayToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"oneOf": [_RECEIPT, {"type": "array", "items": _RECEIPT}]}
                        }
                    },
                },
                "responses": {
                    "200": json_body(
                        "Every report recorded.",
                        {
                            "type": "object",
                            "required": ["recorded"],
                            "properties": {"recorded": _COUNT},
                        },
                    ),
                    "401": errors("The gateway's bearer token is missing or wrong."),
                    "422": errors("Each bad report by its index; the good ones are recorded."),
                },
            }
        },
    },
    {
        "FunnelCounts": {
            "type": "object",
            "required": [*_STAGES, "dispositions", "rr1", "rr2"],
            "properties": {
                **dict.fromkeys(_STAGES, _COUNT),
                "stratum": {"type": "string"},
                "channel": {"type": "string"},
                "dispositions": {
                    "type": "object",
                    "required": list(DISPOSITIONS),
                    "properties": dict.fromkeys(DISPOSITIONS, _COUNT),
                },
                "rr1": _RATE,
                "rr2": _RATE,
            },
        }
    },
)
