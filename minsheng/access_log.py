"""What a log may show of a request: the matched route with its variables filled in, except those
that let a reader answer as someone else (an invitation token, a signed opt-out or tracking
reference, a resume code). gunicorn's access log prints `logged_path` (see
`minsheng/gunicorn_config.py`), computed by the app since only the app knows its routes;
`SecretRedaction` keeps the same secrets out of every other log line: the exception log with its
traceback, the development server's request lines, gunicorn's error log, Celery workers' logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, has_request_context, request
from werkzeug.routing import Map

#: The WSGI environ key under which each request's loggable path is left for the server's logger.
ENVIRON_KEY = "minsheng.logged_path"
#: URL variables, query parameters and form fields that are secrets; logs show their names only.
SECRET_URL_VARIABLES = frozenset({"token", "ref", "code"})
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# What a URL variable's value can be made of, as it appears in a log line.
_VALUE = r"[^/?#&\s\"'<>]+"
_SECRET_QUERY = re.compile(
    rf"(?P<lead>[?&;](?P<name>{'|'.join(sorted(SECRET_URL_VARIABLES))})=){_VALUE}"
)
#: Loggers whose own records (not only those of their children) are redacted: Flask's exception
#: log (the app's logger), the development server's request lines, gunicorn's error log.
REDACTED_LOGGERS = ("minsheng", "werkzeug", "gunicorn.error")


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


def _secret_route(rule: str) -> re.Pattern[str] | None:
    """A pattern finding `rule`'s URLs in text, each secret variable a named group; None when
    the rule has no secret variable."""
    parts, secret, end = [], False, 0
    for match in _VARIABLE.finditer(rule):
        parts.append(re.escape(rule[end : match.start()]))
        name = match.group(1)
        if name in SECRET_URL_VARIABLES:
            parts.append(f"(?P<{name}>{_VALUE})")
            secret = True
        else:
            parts.append(_VALUE)
        end = match.end()
    parts.append(re.escape(rule[end:]))
    return re.compile("".join(parts)) if secret else None


class SecretRedaction(logging.Filter):
    """Rewrites each record it sees, message and traceback, so that it carries no secret: the
    secret variables of the app's routes in any URL (`/i/<token>`), secret query parameters
    (`?code=<code>`), and, during a request, the literal values of the request's own secrets
    wherever they appear (an exception message quoting the token, a resume code posted in a form).
    Never drops a record."""

    def __init__(self, url_map: Map) -> None:
        super().__init__()
        # Compiled once, from the finished URL map (`redact_logs`), not per record.
        found = (_secret_route(rule.rule) for rule in url_map.iter_rules())
        self._routes = [pattern for pattern in found if pattern is not None]

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by its name in angle brackets."""
        for value, name in _request_secrets():
            text = text.replace(value, f"<{name}>")
        for pattern in self._routes:
            text = pattern.sub(_keep_all_but_secrets, text)
        return _SECRET_QUERY.sub(lambda m: f"{m['lead']}<{m['name']}>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse `exc_text` once it is set, so the traceback is printed redacted.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _keep_all_but_secrets(match: re.Match[str]) -> str:
    text, start = match.group(0), match.start()
    for name, value in sorted(match.groupdict().items(), key=lambda item: -match.start(item[0])):
        if value is not None:
            begin, end = match.start(name) - start, match.end(name) - start
            text = f"{text[:begin]}<{name}>{text[end:]}"
    return text


def _request_secrets() -> Iterable[tuple[str, str]]:
    """(value, name) of the current request's secrets: URL variables, query parameters, and
    form fields if the form was already read (a filter must not read a request body)."""
    if not has_request_context():
        return []
    sources = [request.view_args or {}, request.args]
    if "form" in request.__dict__:
        sources.append(request.form)
    found = {
        (str(value), name)
        for source in sources
        for name in SECRET_URL_VARIABLES & set(source)
        for value in (source.getlist(name) if hasattr(source, "getlist") else [source[name]])
    }
    # Longest first, so a value that contains another is replaced whole; short values (an empty
    # field, a one-letter code) would blank out unrelated words and cannot be a real secret.
    return sorted((item for item in found if len(item[0]) >= 6), key=lambda item: -len(item[0]))


def install_redaction(redaction: SecretRedaction, handlers: Iterable[logging.Handler]) -> None:
    """Put `redaction` on the `REDACTED_LOGGERS` and on `handlers` (those of the root logger
    catch every other logger's records), replacing a redaction an earlier app put there."""
    targets: list[logging.Filterer] = [logging.getLogger(name) for name in REDACTED_LOGGERS]
    for target in [*targets, *handlers]:
        for old in [f for f in target.filters if isinstance(f, SecretRedaction)]:
            target.removeFilter(old)
        target.addFilter(redaction)


def _redact_celery_handlers(logger: logging.Logger | None = None, **_: Any) -> None:
    """A Celery worker replaces the root logger's handlers when it starts (it "hijacks" the
    root logger) and gives the task logger its own: both get the redaction the app installed."""
    installed = [f for f in logging.getLogger("minsheng").filters if isinstance(f, SecretRedaction)]
    if logger is not None and installed:
        install_redaction(installed[-1], logger.handlers)


def redact_logs(app: Flask) -> None:
    """Put a `SecretRedaction` of `app`'s routes on the logs; called once every package has
    added its routes, since the redaction finds secrets in URLs by the routes it was made with."""
    install_redaction(SecretRedaction(app.url_map), logging.getLogger().handlers)


def init_app(app: Flask) -> None:
    from celery.signals import after_setup_logger, after_setup_task_logger

    # A module-level receiver with a uid: connected once however many apps are built.
    after_setup_logger.connect(_redact_celery_handlers, dispatch_uid="minsheng.access_log")
    after_setup_task_logger.connect(_redact_celery_handlers, dispatch_uid="minsheng.access_log")

    @app.before_request
    def _leave_logged_path() -> None:
        # Flask drops its request object before the server logs the response; the environ stays.
        request.environ[ENVIRON_KEY] = logged_path()
