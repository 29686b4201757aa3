"""How gunicorn serves the web app: `gunicorn -c python:minsheng.gunicorn_config minsheng.wsgi:app`
(docker/compose.yaml and the image use it; command-line options still win, e.g. `--workers`).

The app is built once in the master (`preload_app`) and forked, so a worker is ready as soon as
it is forked and a restarted node serves again within a second or two (bench/startup.py).
Workers are recycled after a bounded number of requests, with jitter so they do not all restart
at once. The access log leaves out what would let a reader of the log answer as someone else:
invitation tokens and signed references in the path, resume codes and every other query string,
and the referer (a respondent page's URL carries its token); see `minsheng.access_log`, whose
`SecretRedaction` the app puts on gunicorn's error log as well.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from minsheng.access_log import ENVIRON_KEY

bind = "0.0.0.0:8000"
preload_app = True
# A master killed with SIGKILL leaves its workers listening until they notice; a new master can
# bind beside them at once instead of failing after gunicorn's five bind retries.
reuse_port = True
# Recycle a worker after about a thousand requests: memory that a large export or summary
# left behind is returned to the system without a restart of the node.
max_requests = 1000
max_requests_jitter = 100
timeout = 60  # a worker silent this long (seconds) is killed and replaced
graceful_timeout = 30  # on restart, requests in flight get this long to finish
keepalive = 5
# The workers' heartbeat files live in memory; a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm"
# No `gunicornc` control socket: nothing uses it, and two masters of one user would share its path.
control_socket_disable = True
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def logged_path(environ: dict[str, Any]) -> str:
    """The path the app left for the log (`minsheng.access_log`); for a request the app never
    saw, the path without its query string."""
    path = environ.get(ENVIRON_KEY)
    if path is None:
        path = str(environ.get("PATH_INFO", "")) + ("?…" if environ.get("QUERY_STRING") else "")
    return str(path)


class AccessLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """gunicorn's logger with the request line, path and query redacted (`logged_path`)."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        path = logged_path(environ)
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["U"] = path.removesuffix("?…")
        atoms["q"] = ""
        atoms["f"] = "-"
        return atoms


logger_class = AccessLogger


def post_fork(server: Any, worker: Any) -> None:
    """A forked worker opens its own database connections: the pool inherited from the master
    is dropped without closing the master's sockets (SQLAlchemy, "Using Connection Pools with
    Multiprocessing or os.fork()")."""
    from minsheng.db import get_database
    from minsheng.wsgi import app

    get_database(app).engine.dispose(close=False)
