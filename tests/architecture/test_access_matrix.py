"""The authorization matrix (issue 11): every route of the URL map, GET and POST, requested as
every audience of `AUDIENCES` with real ids, must answer what its declaration says
(`expected_outcomes`): the page, the login page (401 for the API), 403 or 404.

The world is built once for the module inside a transaction that is rolled back at the end;
each request runs in a savepoint of its own, so a POST (a logout, a disabled user) leaves the
next request the same world.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from werkzeug.routing import Rule

from minsheng.accounts.permissions import AUDIENCES, declaration, expected_outcomes
from minsheng.db import get_database, get_session
from minsheng.throttle import limiter
from tests.architecture.access_world import World, build_world
from tests.factories import PASSWORD

GATEWAY_TOKEN = "matrix-gateway-token"
OPEN = dict.fromkeys(AUDIENCES, "ok")
SESSION_COOKIE = "session"


@pytest.fixture(scope="module")
def matrix_connection(engine: Any) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture(scope="module")
def matrix_app(
    _session_app: Flask,
    matrix_connection: Connection,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Flask]:
    """The test app bound to the module's connection, with an instance folder of its own and
    the SMS gateway's token set (the receipts endpoint's credential)."""
    from sqlalchemy.orm import Session

    app = _session_app
    saved = {k: app.config[k] for k in ("INSTANCE_PATH", "SMS_GATEWAY_TOKEN")}
    app.config["INSTANCE_PATH"] = str(tmp_path_factory.mktemp("matrix-instance"))
    app.config["SMS_GATEWAY_TOKEN"] = GATEWAY_TOKEN
    get_database(app).session_factory = lambda: Session(
        bind=matrix_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    # No app context is held: each request gets its own, hence a session of its own that
    # forgets what a rolled-back request changed.
    yield app
    app.config.update(saved)


@pytest.fixture(scope="module")
def world(matrix_app: Flask) -> World:
    with matrix_app.app_context():
        limiter.reset()
        return build_world(matrix_app, get_session())


@pytest.fixture(scope="module")
def cookies(matrix_app: Flask, world: World) -> dict[str, str | None]:
    """The session cookie of each audience: staff logged in once, the respondent after opening
    an invitation link of their own."""
    found: dict[str, str | None] = {"anonymous": None}
    for audience, user in world.users.items():
        client = matrix_app.test_client()
        answer = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert answer.status_code == 302, (audience, answer.text)
        found[audience] = _cookie(client)
    respondent = matrix_app.test_client()
    assert respondent.get(f"/i/{world.respondent_token}").status_code == 200
    found["respondent"] = _cookie(respondent)
    return found


def _cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie is not None else None


def _routes(app: Flask) -> list[Rule]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and not r.endpoint.endswith(".static")
    ]


def _path(rule: Rule, values: dict[str, Any]) -> str:
    """The rule's URL with real ids: a value named `<endpoint>:<argument>` wins over one named
    `<argument>`; an argument the world has no value for fails the test (a new route with a new
    kind of id must get a row in `access_world`)."""
    wanted = rule.arguments - set(rule.defaults or {})
    filled = {}
    for argument in wanted:
        for key in (f"{rule.endpoint}:{argument}", argument):
            if key in values:
                filled[argument] = values[key]
                break
        else:
            pytest.fail(
                f"{rule.rule}: no value for <{argument}> in tests/architecture/access_world"
            )
    if "rest" in wanted:
        filled["rest"] = "more"
    built = rule.build(filled, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


def outcome(path: str, status: int, location: str | None, open_to_all: bool) -> str:
    """What a response amounts to; the login page counts only in its own form (a redirect for
    pages, a JSON 401 under /api/). A page open to all (public, or the holder of a token)
    answers the matrix's empty form with its own refusal of bad input (a wrong password is a 401,
    an unknown resume code a 404): that is its answer, not a refusal of access."""
    api = path.startswith("/api/")
    if open_to_all and status in (400, 401, 404, 422):
        return "ok"
    if status == 401:
        return "login" if api else "401 on a page"
    if status in (301, 302, 303) and location:
        target = urlsplit(location)
        if target.path == "/login" and "next" in parse_qs(target.query):
            return "redirect to login under /api/" if api else "login"
    if status in (403, 404):
        return str(status)
    if status in (405, 429) or status >= 500:
        return f"status {status}"
    return "ok"


def _request(
    app: Flask, connection: Connection, cookie: str | None, method: str, path: str
) -> tuple[int, str | None]:
    """(status, Location) of one request sent with `cookie`, in a savepoint rolled back after."""
    client = app.test_client()
    if cookie is not None:
        client.set_cookie(SESSION_COOKIE, cookie)
    with app.app_context():
        limiter.reset()
    savepoint = connection.begin_nested()
    try:
        headers = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
        with client.open(path, method=method, data={}, headers=headers) as answer:
            return answer.status_code, answer.headers.get("Location")
    finally:
        savepoint.rollback()


def test_the_matrix_sees_the_app_routes(matrix_app):
    endpoints = {rule.endpoint for rule in _routes(matrix_app)}
    assert {"accounts.login", "minsheng.healthz", "forms.respond"} <= endpoints


def test_every_route_declares_what_every_audience_gets(matrix_app):
    app = matrix_app
    undeclared = [
        f"{rule.rule} ({rule.endpoint})"
        for rule in _routes(app)
        if declaration(app.view_functions[rule.endpoint]) is None
    ]
    assert not undeclared, "routes without an access declaration: " + ", ".join(undeclared)
    for rule in _routes(app):
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            expected = expected_outcomes(app.view_functions[rule.endpoint], method)
            assert expected is not None and set(expected) == set(AUDIENCES), rule.rule


def test_a_staff_route_naming_a_campaign_or_a_row_declares_a_rule_about_it(matrix_app):
    """A role list lets in every organizer (expert, department) whatever the URL names, and the
    matrix reads its expectation from that same list: a campaign's page declared with
    `require_role` would let other organizers in and still pass. So a route whose URL names
    something must declare an access rule, unless only admins (who see all) may open it."""
    app = matrix_app
    role_only = []
    for rule in _routes(app):
        kind = declaration(app.view_functions[rule.endpoint])
        wanted = rule.arguments - set(rule.defaults or {})
        if kind and kind.startswith("role:") and wanted and kind != "role:admin":
            role_only.append(f"{rule.rule} ({rule.endpoint}: {kind})")
    assert not role_only, "routes naming an object with a role list only: " + ", ".join(role_only)


@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_every_route_answers_each_audience_as_declared(
    matrix_app, matrix_connection, world, cookies, audience
):
    mismatches = []
    requests = 0
    for rule in sorted(_routes(matrix_app), key=lambda r: r.rule):
        view = matrix_app.view_functions[rule.endpoint]
        path = _path(rule, world.values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            expected = expected_outcomes(view, method)
            assert expected is not None, f"{rule.rule} declares no access"
            try:
                status, location = _request(
                    matrix_app, matrix_connection, cookies[audience], method, path
                )
                got = outcome(path, status, location, open_to_all=expected == OPEN)
            except Exception as exc:  # a crash is a mismatch to report with the others
                got = f"{type(exc).__name__}: {exc}"[:200]
            requests += 1
            if got != expected[audience]:
                mismatches.append(
                    f"{method} {path} ({rule.endpoint}): {got}, declared {expected[audience]}"
                )
    assert requests >= len(_routes(matrix_app))
    assert not mismatches, f"{audience}: " + "\n".join(mismatches)


@pytest.mark.parametrize("audience", ["linked_department", "owner"])
def test_another_departments_recommendation_is_a_404_for_a_department(
    matrix_app, matrix_connection, world, cookies, audience
):
    """Every route naming a recommendation or an assignment, filled with those of another
    department of the same campaign: the linked department gets the 404 a missing one gives
    where it would otherwise be let in; the organizer sees no difference."""
    mismatches, checked = [], 0
    for rule in _routes(matrix_app):
        if not rule.arguments & {"rec_id", "assignment_id"}:
            continue
        checked += 1
        view = matrix_app.view_functions[rule.endpoint]
        path = _path(rule, {**world.values, **world.foreign})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            declared = expected_outcomes(view, method)
            assert declared is not None
            expected = declared[audience]
            if audience == "linked_department" and expected == "ok":
                expected = "404"
            status, location = _request(
                matrix_app, matrix_connection, cookies[audience], method, path
            )
            got = outcome(path, status, location, open_to_all=False)
            if got != expected:
                mismatches.append(f"{method} {path}: {got}, expected {expected}")
    assert checked >= 10  # the detail, its five forms, progress, evidence and the old URLs
    assert not mismatches, "\n".join(mismatches)


LISTINGS = {
    # page: what it shows of the world's campaign (the list of a campaign, the work list...)
    "/campaigns/": "/campaigns/transport-2026/",
    "/recommendations/": "/campaigns/transport-2026/recommendations/",
    "/contacts/lists/": "/contacts/lists/",
    "/reviews/": "/campaigns/transport-2026/reviews/queue",
}
SEES = {
    "owner": {"/campaigns/", "/recommendations/", "/contacts/lists/"},
    "other_organizer": set(),
    "assigned_expert": {"/campaigns/", "/reviews/"},
    "other_expert": set(),
    "linked_department": {"/campaigns/", "/recommendations/"},
    "other_department": set(),
    "admin": {"/campaigns/", "/recommendations/", "/contacts/lists/"},
}


@pytest.mark.parametrize("audience", list(SEES))
def test_pages_of_ones_own_work_list_only_what_the_user_may_open(
    matrix_app, matrix_connection, world, cookies, audience
):
    """The pages a role lands on (campaigns, to-do list, target lists, reviews) link to the
    world's campaign, list or recommendation only for those the rules let in."""
    for page, link in LISTINGS.items():
        client = matrix_app.test_client()
        client.set_cookie(SESSION_COOKIE, cookies[audience])
        answer = client.get(page)
        if answer.status_code == 403:  # a page of another role's work
            assert page not in SEES[audience]
            continue
        assert answer.status_code == 200, (page, answer.status_code)
        shown = (
            link in answer.text
            if page != "/contacts/lists/"
            else (f"/contacts/lists/{world.values['list_id']}" in answer.text)
        )
        assert shown == (page in SEES[audience]), (audience, page)


@pytest.mark.parametrize("audience", ["owner", "assigned_expert", "linked_department", "admin"])
def test_a_campaign_page_looks_its_campaign_up_once(
    matrix_app, matrix_connection, world, cookies, audience
):
    """The route's rule, the view and the rule of every campaign tab all ask for the campaign
    of the URL: one query by slug answers them all."""
    by_slug: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM campaigns" in statement and "campaigns.slug =" in statement:
            by_slug.append(statement)

    event.listen(matrix_connection, "before_cursor_execute", count)
    try:
        status, _ = _request(
            matrix_app,
            matrix_connection,
            cookies[audience],
            "GET",
            f"/campaigns/{world.values['slug']}/results",
        )
    finally:
        event.remove(matrix_connection, "before_cursor_execute", count)
    assert status == 200
    assert len(by_slug) == 1, by_slug
