"""The OpenAPI 3.1 description of `/api/v1`: every package's `api.py` describes its endpoints
with `add_openapi()` beside them, and `forms.api` serves the whole document. A test walks the URL
map so an endpoint without a description fails (issue 11), and Schemathesis checks the app
against the document in every test run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import minsheng

OPENAPI_PATHS: dict[str, dict[str, Any]] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "Errors": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["location", "message"],
                    "properties": {
                        "location": {
                            "type": "string",
                            "description": "The field: `answers.<question>`, `submission_id`, ...",
                        },
                        "message": {"type": "string"},
                    },
                },
            }
        },
    },
}
SECURITY_SCHEMES: dict[str, Any] = {
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The session cookie of a staff login (POST /login).",
    },
    "gatewayToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The SMS gateway's token (setting SMS_GATEWAY_TOKEN).",
    },
}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def errors(description: str) -> dict[str, Any]:
    """A response whose body is the error shape every refusal has."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
    }


def json_body(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON response described by `schema`."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# The answers of a staff endpoint to a caller without a staff session, or without access.
STAFF_REFUSALS = {
    "401": errors("No staff session (log in first)."),
    "403": errors("The logged-in account may not read this campaign."),
}
# What a throttled public door answers past its limit (`minsheng.throttle`).
THROTTLED = {
    "429": {
        **errors("Too many requests from this address or for this link; retry later."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}


def add_openapi(
    paths: Mapping[str, dict[str, Any]], schemas: Mapping[str, Any] | None = None
) -> None:
    """Describe more `/api/v1` endpoints in the served document (paths relative to `/api/v1`).

    A path or schema name that is already described is refused, so two packages never
    overwrite each other's description silently.
    """
    clashes = [p for p in paths if p in OPENAPI_PATHS]
    clashes += [s for s in (schemas or {}) if s in OPENAPI_SCHEMAS]
    if clashes:
        raise ValueError(f"already described in the OpenAPI document: {', '.join(clashes)}")
    OPENAPI_PATHS.update(paths)
    OPENAPI_SCHEMAS.update(schemas or {})


def openapi_document(host_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of `/api/v1` as served from `host_url`."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "minsheng API",
            "version": minsheng.__version__,
            "description": "Integrations with minsheng: push responses from a city platform or "
            "a mini-program front end, read a campaign's results and follow-up. Errors always "
            'have the shape `{"errors": [{"location": ..., "message": ...}]}`.',
        },
        "servers": [{"url": host_url.rstrip("/") + "/api/v1"}],
        "paths": dict(sorted(OPENAPI_PATHS.items())),
        "components": {
            "schemas": dict(sorted(OPENAPI_SCHEMAS.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
