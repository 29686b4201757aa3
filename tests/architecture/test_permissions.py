"""Every route declares who may use it (static files aside): `@public`, `@token`,
`@require_role(...)` or `@access(rule)`."""

from __future__ import annotations

from minsheng.accounts.permissions import declaration


def test_every_route_is_public_or_requires_a_role(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        view = app.view_functions[rule.endpoint]
        if declaration(view) is not None:
            continue
        undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert not undeclared, "routes without an access declaration: " + ", ".join(undeclared)


def test_the_check_sees_the_app_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {"accounts.login", "minsheng.healthz", "forms.respond"} <= endpoints
