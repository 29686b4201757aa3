"""Limits on what a request may hold, checked before any view reads it (issue 11): the body's
size (`MAX_CONTENT_LENGTH`, or a route's own smaller `request.max_content_length`) answered 413
with the limit said in the visitor's language, JSON bodies nested too deep refused as malformed,
and ids in URLs bounded to what the database's integer columns hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

# PostgreSQL's `integer` (every primary key): a larger id in a URL is no row, not a database error.
MAX_ID = 2**31 - 1


def record_id(value: Any) -> int | None:
    """A posted or queried id as the int it names, or None when it names no row (not digits, 0,
    or larger than `MAX_ID`)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def requested_page(pages: int, name: str = "page") -> int:
    """The `?page=` asked for, within 1..`pages`: a malformed, negative or huge number shows the
    first or the last page instead of reaching the database as an OFFSET it can not hold."""
    from flask import request

    raw = request.args.get(name, "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    # int() refuses strings of over 4,300 digits; any number of 10 digits is past the last page.
    page = int(raw) if len(raw) < 10 else pages
    return max(1, min(page, pages))


def init_app(app: Flask) -> None:
    """Install the bounded JSON provider, the bounded `int` URL converter and the 413 page.

    Runs before any blueprint is registered: a converter applies to the rules added after it.
    """
    from flask import request
    from flask.json.provider import DefaultJSONProvider
    from flask.typing import ResponseReturnValue
    from flask_babel import gettext
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.routing import IntegerConverter

    from minsheng.errors import byte_size, http_error
    from minsheng.text import bounded_json_loads

    class BoundedJSONProvider(DefaultJSONProvider):
        """Flask's JSON, refusing a body nested past `MAX_JSON_DEPTH` with a ValueError (so
        `request.get_json()` answers 400) instead of a RecursionError (500)."""

        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return bounded_json_loads(s)

    class BoundedIntegerConverter(IntegerConverter):
        """`<int:id>` up to `MAX_ID`: /lists/99999999999999999999 is a 404, not an overflow."""

        def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("max", MAX_ID)
            super().__init__(url_map, *args, **kwargs)

    app.json = BoundedJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntegerConverter

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        limit = request.max_content_length
        message = gettext(
            "Too large: at most %(size)s can be sent here. Send a smaller file or fewer rows.",
            size=byte_size(limit) if limit else "?",
        )
        return http_error(RequestEntityTooLarge(description=message))
