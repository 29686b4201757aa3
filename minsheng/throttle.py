"""Rate limits on the doors anyone can knock on (issue 11): submissions through a public link,
an invitation link or the API, resume codes, invitation tokens and the public feedback form. Each
is counted per client address (so one scripted flood is slowed) and per link (so a botnet cannot
stuff one campaign), while other respondents' answers keep going through. Counters live on Redis
when one is configured, so every web node shares them, and in memory for the embedded default.
The client address is `request.remote_addr`, which `PROXY_COUNT` trusted proxies may set
(`minsheng.app`); an X-Forwarded-For header is never read here."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

if TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue

F = TypeVar("F", bound=Callable[..., Any])

# Redis down must not turn respondents away: errors of the storage are logged and the counting
# goes on in memory until it is back. One limiter per process; the last app initialised owns it.
limiter = Limiter(
    key_func=get_remote_address,
    key_prefix="minsheng",
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


class ProcessCounters(MemoryStorage):
    """limits' in-memory counters (`memory://`) without a thread per request.

    `MemoryStorage` drops expired counters from a 10 ms `threading.Timer` that every hit starts
    again once the last one has ended: below a hundred requests a second, a new thread for
    almost every counted request, which cost the respondent page a fifth of its time in
    `bench/ingest.py` (issue 10, point 7). An expired counter already reads as absent (`get`), so
    the sweep only bounds the memory of counters nobody asks for again; here it runs inline, at
    most once every `SWEEP_SECONDS`.
    """

    STORAGE_SCHEME = ["minsheng-memory"]  # noqa: RUF012  (limits registers the class by it)
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0

    # `MemoryStorage` calls this (name-mangled) hook on every hit to start its timer.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


PROCESS_COUNTERS = "minsheng-memory://"


def storage_uri(config: dict[str, Any] | Any) -> str:
    """Where the counters live: RATE_LIMIT_STORAGE_URL, else a Redis broker, else this process
    (`ProcessCounters`, also for an explicit `memory://`)."""
    chosen = str(config["RATE_LIMIT_STORAGE_URL"])
    if not chosen:
        broker = str(config["BROKER_URL"])
        chosen = broker if broker.startswith(("redis://", "rediss://")) else "memory://"
    return PROCESS_COUNTERS if chosen == "memory://" else chosen


def _per_address() -> str:
    return str(current_app.config["RATE_LIMIT_PER_ADDRESS"])


def _per_link() -> str:
    return str(current_app.config["RATE_LIMIT_PER_LINK"])


def _link() -> str:
    """The link knocked on (a campaign's slug or an invitation token), whoever knocks."""
    args = request.view_args or {}
    return f"link:{args.get('slug') or args.get('token') or request.path}"


def throttled(*methods: str) -> Callable[[F], F]:
    """Count the view's `methods` (all when none) per address and per link."""
    chosen = [m.upper() for m in methods] or None

    def decorate(view: F) -> F:
        per_link = limiter.limit(_per_link, key_func=_link, methods=chosen, scope="per-link")
        per_address = limiter.limit(_per_address, methods=chosen)
        return cast(F, per_address(per_link(view)))

    return decorate


def _too_many(exc: RateLimitExceeded) -> ResponseReturnValue:
    """429 in the visitor's language, with the seconds to wait in `Retry-After`."""
    from flask import render_template
    from flask_babel import gettext

    from minsheng.errors import wants_json

    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    message = gettext(
        "Too many requests from your connection; please wait %(seconds)s seconds and try again.",
        seconds=wait,
    )
    headers = {"Retry-After": str(wait)}
    if wants_json():
        return {"errors": [{"location": "", "message": message}]}, 429, headers
    exc.description = message
    return render_template("errors/http.html", error=exc), 429, headers


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config)
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATE_LIMIT_ENABLED"])
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
