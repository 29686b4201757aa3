"""JSON API of the recommendations: `GET /api/v1/campaigns/<slug>/recommendations` (staff).

Department users get only the recommendations assigned to their department, each with only
their own assignment; organizers get everything, plus the campaign's rates.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campaigns.access import runs
from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access
from minsheng.db import get_session
from minsheng.openapi import SLUG, STAFF_REFUSALS, add_openapi, errors, json_body
from recommendations.models import Assignment, Recommendation
from recommendations.proposals import visible_assignments, visible_recommendations
from recommendations.rates import campaign_rates, department_rates

bp = Blueprint("recommendations_api", __name__, url_prefix="/api/v1")


def _assignment(assignment: Assignment) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "department": assignment.department.code,
        "deadline": assignment.deadline.isoformat(),
        "status": assignment.status,
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
        }
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
                    "items": {
                        "type": "object",
                        "required": ["id", "department", "deadline", "status", "overdue"],
                        "properties": {
                            "id": {"type": "integer"},
                            "department": {"type": "string"},
                            "deadline": {"type": "string", "format": "date"},
                            "status": {"type": "string"},
                            "completed_at": _TEXT_OR_NULL,
                            "overdue": {"type": "boolean"},
                            "escalation_level": {"type": "integer"},
                        },
                    },
                },
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
