"""Every route declares who may use it: `@public` or `@require_role(...)` (static files aside)."""

from __future__ import annotations

from minsheng.accounts.permissions import PUBLIC_ATTR, ROLES_ATTR


def test_every_route_is_public_or_requires_a_role(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, PUBLIC_ATTR, False) or getattr(view, ROLES_ATTR, ()):
            continue
        undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert not undeclared, "routes without @public or @require_role: " + ", ".join(undeclared)


def test_the_check_sees_the_app_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {"accounts.login", "minsheng.healthz", "forms.respond"} <= endpoints
