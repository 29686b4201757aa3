"""The request path as an access log may show it: the matched route with its variables filled in,
except those that let a reader answer as someone else (an invitation token, a signed opt-out or
tracking reference, a resume code), and no query string. gunicorn's logger prints it
(`minsheng/gunicorn_config.py`); the app computes it, since only the app knows its routes."""

from __future__ import annotations

import re

from flask import Flask, request

#: The WSGI environ key under which each request's loggable path is left for the server's logger.
ENVIRON_KEY = "minsheng.logged_path"
#: URL variables that are secrets; the log shows their names only.
SECRET_URL_VARIABLES = frozenset({"token", "ref", "code"})
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def logged_path() -> str:
    """The current request's path for the log (`/i/<token>`, `/campaigns/transport/results`);
    a query string is shown as `?…`. A path that matches no route is shown as received."""
    path = request.path
    rule, values = request.url_rule, request.view_args or {}
    if rule is not None:

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in SECRET_URL_VARIABLES or name not in values:
                return f"<{name}>"
            return str(values[name])

        path = _VARIABLE.sub(value, rule.rule)
    return f"{path}?…" if request.query_string else path


def init_app(app: Flask) -> None:
    @app.before_request
    def _leave_logged_path() -> None:
        # Flask drops its request object before the server logs the response; the environ stays.
        request.environ[ENVIRON_KEY] = logged_path()
