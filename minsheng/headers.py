"""What every response tells the browser about itself (issue 11): session cookies it may not read
from scripts or send from other sites, no content sniffing, how much of the address it may pass
on, and, behind https, that the site is https only."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from minsheng.access_log import SECRET_URL_VARIABLES
from minsheng.accounts.permissions import PUBLIC_ATTR

#: One year, the value HSTS preload lists ask for; without includeSubDomains, since the city's
#: other hosts under the same domain are not ours to move to https.
HSTS = "max-age=31536000"


def sends_no_referrer() -> bool:
    """Whether a link followed from this page must not tell the other site where it came from.

    True when the address holds a token or code that lets its reader answer as someone else (an
    invitation link, an opt-out reference), and on every public page (the respondent pages,
    resume included, and login): a respondent's path through a questionnaire is nobody else's.
    """
    if SECRET_URL_VARIABLES & {*(request.view_args or {}), *request.args}:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and getattr(view, PUBLIC_ATTR, False)


def init_app(app: Flask) -> None:
    https = str(app.config["BASE_URL"]).startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
    )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = (
            "no-referrer" if sends_no_referrer() else "strict-origin-when-cross-origin"
        )
        if https:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
