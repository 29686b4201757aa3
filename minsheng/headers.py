"""What every response tells the browser about itself (issue 11): session cookies it may not read
from scripts or send from other sites, what a page may load and run (a Content-Security-Policy
without inline script or style) and that no other site may frame it, no content sniffing, how
much of the address it may pass on, and, behind https, that the site is https only."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from minsheng.access_log import SECRET_URL_VARIABLES
from minsheng.accounts.permissions import declaration

#: One year, the value HSTS preload lists ask for; without includeSubDomains, since the city's
#: other hosts under the same domain are not ours to move to https.
HSTS = "max-age=31536000"

#: Every page loads its scripts, styles, fonts and fetches from this site only, and runs no
#: inline script or style (templates keep both in static files; tests/e2e/test_csp_browser.py
#: opens the main pages in Chromium and fails on any violation). Images may also be `data:` URIs
#: (the two-factor QR code). No page may be framed, by another site or by this one: staff pages
#: because a framed button can be clicked by a hidden hand (clickjacking), respondent pages too,
#: since a questionnaire is always opened from its own link or QR code, never embedded.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: For a document written elsewhere and shown inside one of our pages (an e-mail's HTML in the
#: message preview): the inline styles e-mail needs, no script, no form, no fetch, and framed
#: by this site only.
FRAMED_DOCUMENT_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data: https:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    )
)


def framed_document(response: Response) -> Response:
    """`response` with `FRAMED_DOCUMENT_POLICY` instead of the pages' policy; the page that
    frames it should add `sandbox` to its iframe as well."""
    response.headers["Content-Security-Policy"] = FRAMED_DOCUMENT_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def sends_no_referrer() -> bool:
    """Whether a link followed from this page must not tell the other site where it came from.

    True when the address holds a token or code that lets its reader answer as someone else (an
    invitation link, an opt-out reference), and on every page open without a staff login (the
    respondent pages, resume included, pages for invitation-token holders, and login): a
    respondent's path through a questionnaire is nobody else's.
    """
    if SECRET_URL_VARIABLES & {*(request.view_args or {}), *request.args}:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and declaration(view) in ("public", "token")


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
        # A view that sets its own policy (`framed_document`) keeps it.
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # For browsers older than CSP's frame-ancestors.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["Referrer-Policy"] = (
            "no-referrer" if sends_no_referrer() else "strict-origin-when-cross-origin"
        )
        if https:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
