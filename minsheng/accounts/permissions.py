"""Role checks for staff views. Every staff route declares its roles with `require_role`."""

from __future__ import annotations

from collections.abc import Callable
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
                if wants_json():
                    abort(401, description="Log in with a staff account to use this endpoint.")
                return redirect(url_for("accounts.login", next=request.full_path))
            if not role_allows(current_user.role, roles):
                abort(403, description="Your role does not allow this page.")
            return view(*args, **kwargs)

        setattr(wrapped, ROLES_ATTR, roles)
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as open to anyone (respondent pages, login); checked by the architecture test."""
    setattr(view, PUBLIC_ATTR, True)
    return view
