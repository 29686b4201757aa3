"""The whole `/api/v1` against its OpenAPI document: every endpoint is described, and
Schemathesis, in-process through the WSGI app, finds no 500 and no answer that strays from the
document (status codes, content types, bodies, headers), anonymous and as a staff user."""

from __future__ import annotations

import contextvars
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ResponseFactory

# Schemathesis' own checks, except the two that judge the API's design rather than its
# conformance: it asks that values outside the document (a text query parameter where the
# document says nothing about its range) be refused, and that valid values be accepted (a random
# slug names no campaign, so 404 is right).
EXCLUDED_CHECKS = ("negative_data_rejection", "positive_data_acceptance")
# A dozen cases for each of the dozen operations in every run (the `ci` profile's 150 examples
# shared out); `--hypothesis-profile=long` sends hundreds each.
EXAMPLES_PER_OPERATION = settings().max_examples // 12


def _described_paths(document: dict) -> dict[str, set[str]]:
    return {path: set(item) for path, item in document["paths"].items()}


def test_every_api_endpoint_is_in_the_openapi_document(app, client):
    described = _described_paths(client.get("/api/v1/openapi.json").json)
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in described.get(path, set()):
                missing.append(f"{method} {path}")
    assert missing == []


def _own_context(app):
    """The app as a server runs it: each request in a context of its own. Inside the test's app
    context Flask would reuse it, and its `g` (with the user flask-login loaded) across requests."""

    def wsgi(environ, start_response):
        return contextvars.Context().run(app.wsgi_app, environ, start_response)

    return wsgi


@pytest.fixture()
def staff_cookie(client, login):
    login("organizer")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"Cookie": f"session={cookie.value}"}


def test_the_api_conforms_to_its_openapi_document(app, session, campaign, staff_cookie):
    for _ in range(5):
        ResponseFactory(campaign=campaign)
    session.commit()
    app.config["SMS_GATEWAY_TOKEN"] = "gateway-token"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _own_context(app))
    excluded = [getattr(schemathesis.checks, name) for name in EXCLUDED_CHECKS]
    failures: dict[str, BaseException] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        # Half the cases name the real campaign, half are sent with a staff session or the
        # gateway's token: random slugs and no credentials alone would only meet 404 and 401.
        @given(case=operation.as_strategy(), real=st.booleans(), staff=st.booleans())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        def check(case, real, staff):
            if real and "slug" in (case.path_parameters or {}):
                case.path_parameters["slug"] = campaign.slug
            headers, skipped = {}, excluded
            if staff:
                # `ignored_auth` resends the request with broken credentials, but these headers
                # would go with it: it runs on the anonymous half only.
                headers = {**staff_cookie, "Authorization": "Bearer gateway-token"}
                skipped = [*excluded, schemathesis.checks.ignored_auth]
            case.call_and_validate(headers=headers, excluded_checks=skipped)

        try:
            check()
        except Exception as exc:
            failures[operation.label] = exc
    assert not failures, "\n\n".join(f"{label}: {exc}" for label, exc in failures.items())
