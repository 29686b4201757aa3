"""JSON API of the questionnaire stage: submitting a response, reading a campaign's questionnaire,
and the OpenAPI 3.1 document of `/api/v1`.

`POST /api/v1/campaigns/<slug>/responses` needs no credentials: like the public link, it takes
submissions for campaigns that are open, and it is exempt from CSRF because a cross-site form can
not send `application/json` without a preflight. The same `forms.ingest.submit` serves the page
and the API, so both validate, claim quotas and commit alike.

Each package describes its endpoints with `minsheng.openapi.add_openapi()`; this blueprint serves
the whole document at `/api/v1/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from campaigns.store import get_campaign
from forms.ingest import (
    Outcome,
    Submission,
    collection_point_of,
    open_questionnaire,
    submit,
    unknown_point,
)
from forms.models import QuestionnaireVersion, Response
from forms.provenance import address_hash
from forms.publishing import current_version, form_of
from minsheng.accounts.permissions import public
from minsheng.db import get_session, utcnow
from minsheng.errors import InputError, Problem
from minsheng.i18n import LOCALES
from minsheng.openapi import (
    SLUG,
    THROTTLED,
    add_openapi,
    errors,
    json_body,
    openapi_document,
)
from minsheng.text import bounded_json_loads, unsafe_character, unsafe_in
from minsheng.throttle import throttled
from questionnaire.schema import form_to_dict

bp = Blueprint("forms_api", __name__, url_prefix="/api/v1")

API_CHANNELS = ("api", "web", "qr")
# Every text answer has its own limit (`questionnaire.schema.text_limit`); this bounds the body.
MAX_SUBMISSION_BYTES = 1 << 20
BODY_FIELDS = ("answers", "submission_id", "started_at", "language", "channel", "collection_point")


def _error(status: int, message: str, location: str = "") -> ResponseReturnValue:
    return {"errors": [{"location": location, "message": message}]}, status


def _submission_fields(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Check everything but the answers; collect every problem."""
    problems = [
        Problem(key, f"unknown field; expected one of {', '.join(BODY_FIELDS)}")
        for key in body
        if key not in BODY_FIELDS
    ]
    fields: dict[str, Any] = {}
    if not isinstance(body.get("answers"), dict):
        problems.append(Problem("answers", "expected an object of question name to answer"))
    submission_id = body.get("submission_id")
    if not isinstance(submission_id, str) or not 8 <= len(submission_id) <= 64:
        problems.append(
            Problem("submission_id", "expected a string of 8-64 characters chosen by the client")
        )
    elif unsafe_character(submission_id):
        problems.append(Problem("submission_id", unsafe_character(submission_id) or ""))
    point = body.get("collection_point")
    if point is not None and (not isinstance(point, str) or unsafe_character(point)):
        problems.append(
            Problem(
                "collection_point", unsafe_in(point) or f"expected a code as text, got {point!r}"
            )
        )
    fields["submission_id"] = submission_id
    started = body.get("started_at")
    fields["started_at"] = None
    if started is not None:
        try:
            fields["started_at"] = datetime.fromisoformat(str(started))
        except ValueError:
            fields["started_at"] = None
        if fields["started_at"] is None or fields["started_at"].tzinfo is None:
            problems.append(
                Problem(
                    "started_at",
                    f"got {started!r}; expected an ISO 8601 time with a UTC offset, "
                    "e.g. 2026-05-01T09:30:00+08:00",
                )
            )
    fields["language"] = body.get("language", "zh_CN")
    if fields["language"] not in LOCALES:
        problems.append(
            Problem("language", f"got {fields['language']!r}; expected one of {', '.join(LOCALES)}")
        )
    fields["channel"] = body.get("channel", "api")
    if fields["channel"] not in API_CHANNELS:
        problems.append(
            Problem(
                "channel",
                f"got {fields['channel']!r}; expected one of {', '.join(API_CHANNELS)} "
                "(invitation responses come through the invitation link)",
            )
        )
    return fields, problems


@bp.post("/campaigns/<slug>/responses")
@public
@throttled()
def create_response(slug: str) -> ResponseReturnValue:
    """Store one response: 201 when new, 200 when `submission_id` was already stored (a retry),
    422 with every problem, 404 for an unknown campaign, 409 when it is not taking responses."""
    # One response is small: a body past this is refused (413) before it is read.
    request.max_content_length = MAX_SUBMISSION_BYTES
    if not request.is_json:
        return _error(400, "expected a JSON object body (Content-Type: application/json)")
    try:
        body = bounded_json_loads(request.get_data())
    except ValueError as exc:
        return _error(400, f"the body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return _error(400, "expected a JSON object body (Content-Type: application/json)")
    session = get_session()
    fields, problems = _submission_fields(body)
    code = body.get("collection_point")
    code = code if isinstance(code, str) and not unsafe_character(code) else None
    if problems:
        return _refused_body(slug, problems, code)
    submission = Submission(
        submission_id=fields["submission_id"],
        channel=fields["channel"],
        language=fields["language"],
        started_at=fields["started_at"],
        # The near-duplicate rule compares responses from one address; the API has no honeypot
        # (a documented field traps nobody) and its clients report their own start.
        address_hash=address_hash(
            current_app.secret_key or "", request.remote_addr, utcnow().date()
        ),
    )
    done = submit(session, slug, body["answers"], submission, point_code=code)
    if done.outcome is Outcome.NOT_FOUND:
        return _error(404, done.message)
    if done.outcome is Outcome.INVALID:
        return InputError(_located(list(done.problems))).to_json(), 422
    if done.response is None or done.version is None:
        return _error(409, done.message)
    response = done.response
    new = done.outcome is Outcome.STORED
    location = url_for("forms_api.stored_response", slug=slug, submission_id=response.submission_id)
    return _receipt(response, done.version.number, new), 201 if new else 200, {"Location": location}


def _refused_body(slug: str, problems: list[Problem], code: str | None) -> ResponseReturnValue:
    """A body with problems outside the answers: 404 for an unknown campaign still comes first,
    and an unknown collection point is reported with the rest."""
    session = get_session()
    found = open_questionnaire(session, slug)
    if found is None or found.version is None:
        return _error(404, f"no campaign {slug!r} with a questionnaire")
    if code is not None and collection_point_of(session, found.campaign, code) is None:
        problems.append(unknown_point(session, found.campaign, code))
    return InputError(problems).to_json(), 422


def _receipt(response: Response, version: int, new: bool) -> dict[str, Any]:
    return {
        "id": response.id,
        "submission_id": response.submission_id,
        "version": version,
        "submitted_at": response.submitted_at.isoformat(),
        "created": new,
    }


@bp.get("/campaigns/<slug>/responses/<submission_id>")
@public
def stored_response(slug: str, submission_id: str) -> ResponseReturnValue:
    """Whether the submission with this client-chosen id is stored (the `Location` of a created
    response): a client unsure whether a submit got through asks here. Only the receipt is
    shown, never the answers; the id is known to the client that chose it."""
    session = get_session()
    campaign = get_campaign(session, slug)
    found = (
        session.execute(
            select(Response, QuestionnaireVersion.number)
            .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.version_id)
            .where(Response.campaign_id == campaign.id, Response.submission_id == submission_id)
        ).first()
        if campaign is not None and not unsafe_character(submission_id)
        else None
    )
    if found is None:
        return _error(404, f"no response {submission_id!r} stored for campaign {slug!r}")
    return _receipt(found[0], found[1], False)


def _located(problems: list[Problem]) -> list[Problem]:
    """Answer problems are located under `answers.` so a client can tell them from the body's."""
    top = {"submission_id", "channel", "started_at", "language"}
    return [
        p if p.location in top else Problem(f"answers.{p.location}", p.message) for p in problems
    ]


@bp.get("/campaigns/<slug>/questionnaire")
@public
def questionnaire(slug: str) -> ResponseReturnValue:
    """The current questionnaire in the campaign-file vocabulary: question names, types, choices
    (what an integration needs to build `answers`)."""
    session = get_session()
    campaign = get_campaign(session, slug)
    version = current_version(session, campaign) if campaign else None
    if campaign is None or version is None:
        abort(404, description=f"no campaign {slug!r} with a questionnaire")
    return {"version": version.number, "questionnaire": form_to_dict(form_of(version))}


SCHEMAS: dict[str, Any] = {
    "ResponseSubmission": {
        "type": "object",
        "required": ["answers", "submission_id"],
        "additionalProperties": False,
        "properties": {
            "answers": {
                "type": "object",
                "description": "Question name to answer: a choice name, a list of choice names "
                "(multiple choice, ranking in order), a number, text or an ISO date. "
                "`<name>_other` holds the text of an 'other, please specify' answer.",
                "additionalProperties": True,
            },
            "submission_id": {
                "type": "string",
                "minLength": 8,
                "maxLength": 64,
                "description": "Chosen by the client; a retry with the same id stores nothing new.",
            },
            "started_at": {
                "type": "string",
                "format": "date-time",
                "description": "When the respondent started; the duration is stored.",
            },
            "language": {"type": "string", "enum": list(LOCALES), "default": "zh_CN"},
            "channel": {"type": "string", "enum": list(API_CHANNELS), "default": "api"},
            "collection_point": {
                "type": "string",
                "description": "Code of the campaign's collection point (征集点位).",
            },
        },
    },
    "StoredResponse": {
        "type": "object",
        "required": ["id", "submission_id", "version", "submitted_at", "created"],
        "properties": {
            "id": {"type": "integer"},
            "submission_id": {"type": "string"},
            "version": {"type": "integer", "description": "Questionnaire version answered."},
            "submitted_at": {"type": "string", "format": "date-time"},
            "created": {"type": "boolean", "description": "False for a repeated submission."},
        },
    },
}


PATHS: dict[str, dict[str, Any]] = {
    "/campaigns/{slug}/responses": {
        "post": {
            "operationId": "createResponse",
            "summary": "Submit one response to a campaign's questionnaire",
            "description": "Validated exactly like the respondent page (types, choices, ranges, "
            "required questions, constraints, relevance). No credentials: accepted while the "
            "campaign is open, like its public link. Not subject to CSRF.",
            "parameters": [SLUG],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ResponseSubmission"}
                    }
                },
            },
            "responses": {
                "201": json_body(
                    "Stored (durable: committed before this answer).",
                    {"$ref": "#/components/schemas/StoredResponse"},
                ),
                "200": json_body(
                    "Already stored under this submission_id; nothing new.",
                    {"$ref": "#/components/schemas/StoredResponse"},
                ),
                "400": errors("The body is not a JSON object, or is nested deeper than 64 levels."),
                "404": errors("No such campaign, or it has no questionnaire."),
                "409": errors("The campaign is not accepting responses."),
                "413": errors("The body is larger than 1 MB."),
                "422": errors("Every problem with the submission, one per field."),
                **THROTTLED,
            },
        }
    },
    "/campaigns/{slug}/responses/{submission_id}": {
        "get": {
            "operationId": "getStoredResponse",
            "summary": "The receipt of a stored submission (the Location of a created response)",
            "parameters": [
                SLUG,
                {
                    "name": "submission_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": json_body(
                    "Stored; the answers are not shown.",
                    {"$ref": "#/components/schemas/StoredResponse"},
                ),
                "404": errors("Nothing is stored under this submission_id."),
            },
        }
    },
    "/campaigns/{slug}/questionnaire": {
        "get": {
            "operationId": "getQuestionnaire",
            "summary": "The campaign's current questionnaire (names, types, choices)",
            "parameters": [SLUG],
            "responses": {
                "200": json_body(
                    "The questionnaire in the campaign-file vocabulary.",
                    {
                        "type": "object",
                        "properties": {
                            "version": {"type": "integer"},
                            "questionnaire": {"type": "object"},
                        },
                    },
                ),
                "404": errors("No such campaign, or it has no questionnaire."),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenAPI",
            "summary": "This document",
            "responses": {
                "200": json_body(
                    "The OpenAPI 3.1 description of every /api/v1 endpoint.", {"type": "object"}
                )
            },
        }
    },
}


add_openapi(PATHS, SCHEMAS)


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of every `/api/v1` endpoint (`minsheng.openapi`)."""
    return openapi_document(request.host_url)
