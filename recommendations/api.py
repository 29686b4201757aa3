"""JSON API of the recommendations: `GET /api/v1/campaigns/<slug>/recommendations` (staff).

Department users get only the recommendations assigned to their department, each with only
their own assignment; organizers get everything, plus the campaign's rates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campaigns.access import runs, runs_or_receives
from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access, require_role
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from minsheng.openapi import SLUG, STAFF_REFUSALS, add_openapi, errors, json_body
from minsheng.web import or_404
from recommendations.assignments import (
    department_assignments,
    record_progress,
    take_assignment_step,
)
from recommendations.models import Assignment, Recommendation
from recommendations.proposals import visible_assignments, visible_recommendations
from recommendations.rates import campaign_rates, department_rates

bp = Blueprint("recommendations_api", __name__, url_prefix="/api/v1")


def _assignment(assignment: Assignment) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "recommendation_id": assignment.recommendation_id,
        "department": assignment.department.code,
        "role": assignment.role,
        "task": assignment.task,
        "accept_due": assignment.accept_due.isoformat() if assignment.accept_due else None,
        "deadline": assignment.deadline.isoformat(),
        "status": assignment.status,
        "progress": assignment.progress,
        "reply": assignment.reply or None,
        "completed_at": assignment.completed_at.isoformat() if assignment.completed_at else None,
        "overdue": assignment.overdue,
        "escalation_level": assignment.escalation_level,
    }


def _recommendation(recommendation: Recommendation) -> dict[str, Any]:
    return {
        "id": recommendation.id,
        "title": recommendation.title,
        "text": recommendation.text,
        "source": recommendation.source,
        "golden_idea_id": recommendation.golden_idea_id,
        "status": recommendation.status,
        "decision": recommendation.decision,
        "decision_reason": recommendation.decision_reason,
        "public_feedback": recommendation.public_feedback or None,
        "assignments": [_assignment(a) for a in visible_assignments(current_user, recommendation)],
    }


@bp.get("/campaigns/<slug>/recommendations")
@access("campaign:follow-up")
def campaign_recommendations(slug: str) -> ResponseReturnValue:
    """The campaign's recommendations the caller may see (401 without a staff session)."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    body: dict[str, Any] = {
        "campaign": campaign.slug,
        "recommendations": [
            _recommendation(r) for r in visible_recommendations(session, campaign, current_user)
        ],
    }
    if runs(current_user, campaign):
        body["rates"] = campaign_rates(session, campaign).to_dict()
        body["department_rates"] = [r.to_dict() for r in department_rates(session, campaign)]
    return body


def _fields(body: dict[str, Any]) -> dict[str, object]:
    """The step's fields from a JSON body: texts as given, `until` as an ISO date."""
    fields: dict[str, object] = {k: body.get(k) for k in ("reason", "reply", "note")}
    until = body.get("until")
    if until is not None:
        try:
            fields["until"] = date.fromisoformat(str(until))
        except ValueError as exc:
            raise InputError(
                [Problem("until", f"got {str(until)[:40]!r}; expected a date as YYYY-MM-DD")]
            ) from exc
    return fields


@bp.get("/recommendations/inbox")
@require_role("department", "organizer")
def inbox() -> ResponseReturnValue:
    """The caller's assignments (a department: its own), most urgent first."""
    session = get_session()
    every = department_assignments(session, current_user)
    mine = [a for a in every if runs_or_receives(current_user, a.recommendation.campaign)]
    return {"assignments": [_assignment(a) for a in mine]}


@bp.post("/assignments/<int:assignment_id>/steps/<step>")
@access("assignment")
def assignment_step(assignment_id: int, step: str) -> ResponseReturnValue:
    """A city platform takes a step of the assignment for its department (accept, return,
    request_extension, reply...); the same rules as on the page, refusals as 422."""
    session = get_session()
    assignment = or_404(session.get(Assignment, assignment_id), f"No assignment {assignment_id}.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        body = {}
    if step == "progress":
        percent = body.get("percent")
        record_progress(
            session,
            assignment,
            current_user,
            str(body.get("note") or ""),
            (),
            percent=percent if isinstance(percent, int) else None,
        )
    else:
        take_assignment_step(session, assignment, current_user, step, _fields(body))
    session.commit()
    return _assignment(assignment)


_TEXT_OR_NULL = {"type": ["string", "null"]}
_ESTIMATE = {
    "type": "object",
    "required": ["estimate", "ci_low", "ci_high", "count", "nobs", "method", "alpha"],
    "properties": {
        "estimate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "ci_low": {"type": ["number", "null"]},
        "ci_high": {"type": ["number", "null"]},
        "count": {"type": "number"},
        "nobs": {"type": "number"},
        "method": {"type": "string"},
        "alpha": {"type": "number"},
        "n_unweighted": {"type": "integer"},
        "note": _TEXT_OR_NULL,
    },
}
add_openapi(
    {
        "/campaigns/{slug}/recommendations": {
            "get": {
                "operationId": "getCampaignRecommendations",
                "summary": "The campaign's recommendations and their follow-up",
                "description": "A department account gets only the recommendations assigned to "
                "it, each with only its own assignment, and no rates.",
                "security": [{"staffSession": []}],
                "parameters": [SLUG],
                "responses": {
                    "200": json_body(
                        "The recommendations the caller may see; organizers also get the rates.",
                        {
                            "type": "object",
                            "required": ["campaign", "recommendations"],
                            "properties": {
                                "campaign": {"type": "string"},
                                "recommendations": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Recommendation"},
                                },
                                "rates": {"$ref": "#/components/schemas/LoopRates"},
                                "department_rates": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/LoopRates"},
                                },
                            },
                        },
                    ),
                    **STAFF_REFUSALS,
                    "404": errors("No such campaign."),
                },
            }
        },
        "/recommendations/inbox": {
            "get": {
                "operationId": "getAssignmentInbox",
                "summary": "The caller's assignments (a department: its own)",
                "security": [{"staffSession": []}],
                "responses": {
                    "200": json_body(
                        "The assignments, open ones first by deadline.",
                        {
                            "type": "object",
                            "properties": {
                                "assignments": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Assignment"},
                                }
                            },
                        },
                    ),
                    **STAFF_REFUSALS,
                },
            }
        },
        "/assignments/{assignment_id}/steps/{step}": {
            "post": {
                "operationId": "takeAssignmentStep",
                "summary": "Take one step of an assignment's workflow",
                "description": "Steps: accept, return (reason), request_extension (until, "
                "reason), grant_extension, refuse_extension (reason), reply (reply), approve, "
                "send_back (reason), progress (note, percent). The department takes its own "
                "steps, the organizer the decisions; another department's assignment is a 404.",
                "security": [{"staffSession": []}],
                "parameters": [
                    {
                        "name": "assignment_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {"name": "step", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "reason": {"type": "string"},
                                    "reply": {"type": "string"},
                                    "note": {"type": "string"},
                                    "until": {"type": "string", "format": "date"},
                                    "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": json_body(
                        "The assignment after the step.",
                        {"$ref": "#/components/schemas/Assignment"},
                    ),
                    **STAFF_REFUSALS,
                    "404": errors("No such assignment for the caller."),
                    "422": errors("The step is refused: the state, the caller's part or a field."),
                },
            }
        },
    },
    {
        "Recommendation": {
            "type": "object",
            "required": ["id", "title", "text", "source", "status", "assignments"],
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "source": {"type": "string"},
                "golden_idea_id": {"type": ["integer", "null"]},
                "status": {"type": "string"},
                "decision": _TEXT_OR_NULL,
                "decision_reason": _TEXT_OR_NULL,
                "public_feedback": _TEXT_OR_NULL,
                "assignments": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Assignment"},
                },
            },
        },
        "Assignment": {
            "type": "object",
            "required": ["id", "department", "role", "deadline", "status", "overdue"],
            "properties": {
                "id": {"type": "integer"},
                "recommendation_id": {"type": "integer"},
                "department": {"type": "string"},
                "role": {"type": "string", "enum": ["lead", "co"]},
                "task": {"type": "string"},
                "accept_due": _TEXT_OR_NULL,
                "deadline": {"type": "string", "format": "date"},
                "status": {"type": "string"},
                "progress": {"type": "integer"},
                "reply": _TEXT_OR_NULL,
                "completed_at": _TEXT_OR_NULL,
                "overdue": {"type": "boolean"},
                "escalation_level": {"type": "integer"},
            },
        },
        "LoopRates": {
            "type": "object",
            "required": ["scope", "resolution", "on_time", "satisfaction"],
            "properties": {
                "scope": {"type": "string"},
                "adoption": {"oneOf": [_ESTIMATE, {"type": "null"}]},
                "resolution": _ESTIMATE,
                "on_time": _ESTIMATE,
                "satisfaction": _ESTIMATE,
                "recommendations": {"type": "integer"},
                "assignments": {"type": "integer"},
                "overdue": {"type": "integer"},
            },
        },
    },
)
