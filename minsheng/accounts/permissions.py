"""Who may open each view, declared beside it: `public`, `token` (invitation links),
`require_role` (any staff of these roles) or `access` (a named rule about the URL's object, e.g.
``campaign:results``). The app refuses endpoints that declare none (`refuse_undeclared`).

Each declaration also says what every audience (`AUDIENCES`) gets from the route
(`expected_outcomes`), so the authorization matrix test reads the expectation from the same
place the app enforces it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from minsheng.errors import wants_json

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ATTR = "minsheng_public"
ROLES_ATTR = "minsheng_roles"

#: The people the authorization matrix walks every route as, each with the role it logs in with
#: (None: no staff login). "owner" owns the campaign the URL names; "other_organizer" owns none;
#: "assigned_expert" reviews it; "linked_department" receives it (and is assigned its
#: recommendation); "respondent" has answered through an invitation link.
AUDIENCES: dict[str, str | None] = {
    "anonymous": None,
    "respondent": None,
    "owner": "organizer",
    "other_organizer": "organizer",
    "assigned_expert": "expert",
    "other_expert": "expert",
    "linked_department": "department",
    "other_department": "department",
    "admin": "admin",
}


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
                abort(403, description=gettext("Your role does not allow this page."))
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
WRITES_ATTR = "minsheng_access_writes"
TOKEN_ATTR = "minsheng_token"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Rule = Callable[[Any, Mapping[str, Any]], bool]
"""A named access rule: given the logged-in user and the view's URL arguments, may they pass?
It aborts with 404 itself when the URL names nothing (no such campaign, report...) or an object
the user must not learn of (another department's assignment)."""


@dataclass(frozen=True)
class AccessRule:
    """A registered rule: the check, the roles it can ever let in (what menus go by where no
    object is at hand), and which audiences of the matrix it lets in (`allows`); every other
    logged-in audience gets 403."""

    check: Rule
    roles: tuple[str, ...]
    allows: frozenset[str]


_RULES: dict[str, AccessRule] = {}


def add_access_rule(
    name: str,
    rule: Rule,
    roles: tuple[str, ...],
    *,
    allows: Collection[str],
) -> None:
    """Register the rule `name` (e.g. ``campaign:results``) that `access(name)` views apply.
    Each stage registers the rules about its own objects in its `init_app`; `allows` says which
    audiences of the matrix it lets in."""
    unknown = set(allows) - set(AUDIENCES)
    if unknown:
        raise ValueError(
            f"rule {name!r} allows {', '.join(sorted(unknown))}; "
            f"expected audiences among {', '.join(AUDIENCES)}"
        )
    _RULES[name] = AccessRule(rule, roles, frozenset(allows))


def access_allows(name: str, user: Any, arguments: Mapping[str, Any] | None) -> bool:
    """Whether the rule `name` lets `user` in for a URL with `arguments`; without the URL's
    object (a menu drawn on another page), whether their role may ever pass it."""
    rule = _RULES[name]
    if not role_allows(user.role, rule.roles):
        return False  # before any lookup: this role never passes, whatever the URL names
    if arguments:
        try:
            return rule.check(user, arguments)
        except KeyError:  # the URL does not name the rule's object: the role decides
            pass
    return True


def not_yours() -> str:
    """The refusal a staff member gets on a campaign (or its report, list, recommendation...)
    that is not theirs: it says which link would let them in, so they know whom to ask."""
    return str(
        gettext(
            "This campaign is not one of yours: only its organizers, the experts assigned to it "
            "and the departments linked to it may open this page. Ask the campaign's organizer "
            "for access."
        )
    )


def access(name: str, *, writes: str | None = None) -> Callable[[F], F]:
    """Let in logged-in staff whom the access rule `name` allows for this URL's object; 403
    otherwise. No login: a redirect to the login page (401 JSON for API clients), like
    `require_role`. `writes` names a stricter rule for the methods that change something (a page
    departments read and organizers post to). An unknown rule name fails at the first request,
    never silently passes."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _login_required()
            rule = _RULES[name if writes is None or request.method in READ_METHODS else writes]
            if not role_allows(current_user.role, rule.roles):
                abort(403, description=gettext("Your role does not allow this page."))
            # The rule itself, not `access_allows`: a URL that does not name the rule's object
            # is a declaration error to surface, never a pass on the role alone.
            if not rule.check(current_user, kwargs):
                abort(403, description=not_yours())
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, name)
        setattr(wrapped, WRITES_ATTR, writes)
        return wrapped  # type: ignore[return-value]

    return decorator


def token(view: F) -> F:
    """Mark a view as open to whoever holds a valid token or signed reference in its URL (an
    invitation link, an opt-out link); the view checks it itself (404 for an unknown or spent
    one). Such a page is public in every other respect (no staff tabs, no referrer)."""
    setattr(view, TOKEN_ATTR, True)
    setattr(view, PUBLIC_ATTR, True)
    return view


def expected_outcomes(view: Callable[..., Any], method: str) -> dict[str, str] | None:
    """What each audience gets from `view` requested with `method`, as its declaration says:
    "ok" (the page), "login" (the login page; a 401 for API clients) or "403". Public and token
    pages answer everyone; otherwise no login means the login page, and the role list or the
    access rule decides for staff. None for a view that declares nothing."""
    kind = declaration(view)
    if kind is None:
        return None
    if kind in ("public", "token"):
        outcomes = dict.fromkeys(AUDIENCES, "ok")
    else:
        outcomes = {a: "login" if role is None else "403" for a, role in AUDIENCES.items()}
        if rule_name := getattr(view, ACCESS_ATTR, None):
            writes = getattr(view, WRITES_ATTR, None)
            rule = _RULES[writes if writes and method not in READ_METHODS else rule_name]
            outcomes |= dict.fromkeys(rule.allows, "ok")
        else:
            roles = getattr(view, ROLES_ATTR, ())
            outcomes |= {
                a: "ok" for a, role in AUDIENCES.items() if role and role_allows(role, roles)
            }
    return outcomes


def declaration(view: Callable[..., Any]) -> str | None:
    """What `view` declares about who may open it: ``public``, ``token``, ``role:<roles>`` or
    ``access:<rule>``; None when it declares nothing (the app refuses such endpoints)."""
    if getattr(view, TOKEN_ATTR, False):
        return "token"
    if getattr(view, PUBLIC_ATTR, False):
        return "public"
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
