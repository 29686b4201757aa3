"""One error shape for bad input (`InputError` of `Problem`s), rendered for HTML, JSON and CLI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue


@dataclass(frozen=True)
class Problem:
    """Where the input is wrong (`file.yaml:12`, `row 17, column phone`, a field name) and why."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class InputError(Exception):
    """Bad input with every problem found, never just the first one.

    Pages and the API answer `http_status` (422; a subclass refused by the stored state, such as
    a locked questionnaire version, says 409); the CLI exits with status 2.
    """

    http_status = 422

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        """The API's 422 body: `{"errors": [{"location": ..., "message": ...}]}`."""
        return {"errors": [asdict(p) for p in self.problems]}

    def by_location(self) -> dict[str, list[str]]:
        """Messages grouped by location, for showing each under its form field."""
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.location, []).append(problem.message)
        return grouped


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

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        if wants_json():
            return {"errors": [{"location": "", "message": exc.description or exc.name}]}, (
                exc.code or 500
            )
        return render_template("errors/http.html", error=exc), exc.code or 500

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        # CSRFProtect checks every POST before any view runs, so this is the one place a missing
        # or stale token is answered; a check inside a view would never be reached.
        return _http_error(
            BadRequest(
                description=gettext(
                    "The form expired or did not come from this site; "
                    "reload the page and send it again."
                )
            )
        )


def echo_problems(exc: InputError) -> None:
    """CLI rendering: one line per problem on stderr; the command then exits with status 2."""
    import click

    for problem in exc.problems:
        click.echo(f"error: {problem}", err=True)
