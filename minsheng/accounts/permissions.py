"""Who may open each view, declared beside it: `public`, `token` (invitation links),
`require_role` (any staff of these roles) or `access` (a named rule about the URL's object, e.g.
``campaign:results``). The app refuses endpoints that declare none (`refuse_undeclared`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from minsheng.errors import wants_json

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ATTR = "minsheng_public"
ROLES_ATTR = "minsheng_roles"


def role_allows(role: str, roles: tuple[str, ...]) -> bool:
    """Whether a user of `role` may open a view declared for `roles`: admins may open every one."""
    return role == "admin" or role in roles


def require_role(*roles: str) -> Callable[[F], F]:
    """Let in logged-in users whose role is in `roles` (admin always); others get 403.

    Without a login a person is sent to the login page; an API client (`/api/` or
    `Accept: application/json`) gets a 401 with a JSON body instead of that redirect.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _login_required()
            if not role_allows(current_user.role, roles):
                abort(403, description="Your role does not allow this page.")
            return view(*args, **kwargs)

        setattr(wrapped, ROLES_ATTR, roles)
        return wrapped  # type: ignore[return-value]

    return decorator


def _login_required() -> Any:
    """No login: an API client gets a JSON 401, a person the login page."""
    if wants_json():
        abort(401, description="Log in with a staff account to use this endpoint.")
    return redirect(url_for("accounts.login", next=request.full_path))


def public(view: F) -> F:
    """Mark a view as open to anyone (respondent pages, login); checked by the architecture test."""
    setattr(view, PUBLIC_ATTR, True)
    return view


ACCESS_ATTR = "minsheng_access"
TOKEN_ATTR = "minsheng_token"

Rule = Callable[[Any, Mapping[str, Any]], bool]
"""A named access rule: given the logged-in user and the view's URL arguments, may they pass?
It may abort with 404 itself when the URL names nothing (no such campaign)."""

_RULES: dict[str, tuple[Rule, tuple[str, ...]]] = {}


def add_access_rule(name: str, rule: Rule, roles: tuple[str, ...]) -> None:
    """Register the rule `name` (e.g. ``campaign:results``) that `access(name)` views apply;
    `roles` are those it can ever let in (what menus go by where no object is at hand). Each
    stage registers the rules about its own objects in its `init_app`."""
    _RULES[name] = (rule, roles)


def access_allows(name: str, user: Any, arguments: Mapping[str, Any] | None) -> bool:
    """Whether the rule `name` lets `user` in for a URL with `arguments`; without the URL's
    object (a menu drawn on another page), whether their role may ever pass it."""
    rule, roles = _RULES[name]
    if arguments:
        try:
            return rule(user, arguments)
        except KeyError:
            pass
    return role_allows(user.role, roles)


def access(name: str) -> Callable[[F], F]:
    """Let in logged-in staff whom the access rule `name` allows for this URL's object; 403
    otherwise. No login: a redirect to the login page (401 JSON for API clients), like
    `require_role`. An unknown rule name fails at the first request, never silently passes."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _login_required()
            if not access_allows(name, current_user, kwargs):
                abort(403, description="You have no access to this campaign's pages.")
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, name)
        return wrapped  # type: ignore[return-value]

    return decorator


def token(view: F) -> F:
    """Mark a view as open to whoever holds a valid invitation token in its URL; the view checks
    the token itself (404 for an unknown or spent one)."""
    setattr(view, TOKEN_ATTR, True)
    return view


def declaration(view: Callable[..., Any]) -> str | None:
    """What `view` declares about who may open it: ``public``, ``token``, ``role:<roles>`` or
    ``access:<rule>``; None when it declares nothing (the app refuses such endpoints)."""
    if getattr(view, PUBLIC_ATTR, False):
        return "public"
    if getattr(view, TOKEN_ATTR, False):
        return "token"
    if name := getattr(view, ACCESS_ATTR, None):
        return f"access:{name}"
    if roles := getattr(view, ROLES_ATTR, ()):
        return "role:" + ",".join(roles)
    return None


def refuse_undeclared() -> None:
    """Before every request: an endpoint that declares no access is refused (500 in logs,
    403 to the client), so a new route without a declaration fails its first test."""
    from flask import current_app

    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or endpoint.endswith(".static"):
        return
    view = current_app.view_functions.get(endpoint)
    if view is not None and declaration(view) is None:
        current_app.logger.error("endpoint %s declares no access; refused", endpoint)
        abort(403, description="This page declares no access rule.")


def init_app(app: Any) -> None:
    """Install the refusal of undeclared endpoints."""
    app.before_request(refuse_undeclared)
