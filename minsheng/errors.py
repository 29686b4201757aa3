"""Bad input (`InputError` of `Problem`s from `minsheng.problems`) shown as HTML, JSON, CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minsheng.problems import InputError as InputError
from minsheng.problems import Problem as Problem
from minsheng.problems import TooLargeError as TooLargeError

if TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue
    from werkzeug.exceptions import HTTPException


# What a 503 tells a client to wait: about the time PostgreSQL needs to restart or fail over.
RETRY_AFTER_SECONDS = 15


def wants_json() -> bool:
    """API routes and clients that prefer JSON get JSON errors."""
    from flask import request

    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def init_app(app: Flask) -> None:
    """JSON 422 for `InputError`, JSON bodies for HTTP errors under `/api/`, HTML elsewhere.

    Views that show forms catch `InputError` themselves and put each message under its field.
    """
    from flask import render_template
    from flask_babel import gettext
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import BadRequest, HTTPException

    @app.errorhandler(InputError)
    def _input_error(exc: InputError) -> ResponseReturnValue:
        if wants_json():
            return exc.to_json(), exc.http_status
        return render_template("errors/input.html", error=exc), exc.http_status

    app.register_error_handler(HTTPException, http_error)

    from sqlalchemy.exc import InterfaceError, OperationalError
    from werkzeug.exceptions import ServiceUnavailable

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: Exception) -> ResponseReturnValue:
        # A restarting or failed-over database (or a locked SQLite file) is a wait, not a bug:
        # 503 with Retry-After, so clients and load balancers retry instead of giving up. The
        # request's session is discarded; the pool's pre-ping replaces dead connections.
        from flask import g

        session = g.pop("db_session", None)
        if session is not None:
            session.invalidate()
        app.logger.warning("database unavailable: %s", type(exc).__name__)
        unavailable = ServiceUnavailable(
            description=gettext("The service is briefly unavailable; please try again shortly.")
        )
        response = app.make_response(http_error(unavailable))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        # CSRFProtect checks every POST before any view runs, so this is the one place a missing
        # or stale token is answered; a check inside a view would never be reached.
        return http_error(
            BadRequest(
                description=gettext(
                    "The form expired or did not come from this site; "
                    "reload the page and send it again."
                )
            )
        )


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error as a JSON body under `/api/` (and for JSON clients), else the error page."""
    from flask import render_template

    if wants_json():
        return {"errors": [{"location": "", "message": exc.description or exc.name}]}, (
            exc.code or 500
        )
    return render_template("errors/http.html", error=exc), exc.code or 500


def byte_size(n: int) -> str:
    """A byte count as people read it: 512 KB, 16 MB (binary units, as file managers show)."""
    if n >= 1 << 20:
        return f"{n / (1 << 20):.3g} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.3g} KB"
    return f"{n} B"


def echo_problems(exc: InputError) -> None:
    """CLI rendering: one line per problem on stderr; the command then exits with status 2."""
    import click

    for problem in exc.problems:
        click.echo(f"error: {problem}", err=True)
