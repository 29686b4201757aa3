"""`create_app()`: configuration, database, file store, jobs, accounts, then each stage of the
pipeline.

Read top to bottom, it lists every part of the system.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from minsheng import access_log, db, errors, files, i18n, jobs, limits, navigation, throttle
from minsheng.config import DEVELOPMENT_SECRET_KEY, key_problems, load_settings
from minsheng.errors import InputError
from minsheng.packages import FEATURE_PACKAGES

csrf = CSRFProtect()
logger = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """Build the app; `overrides` (tests) win over `MINSHENG_*` variables and defaults."""
    app = Flask("minsheng", instance_relative_config=False)
    settings = load_settings(overrides=overrides)
    app.config.update(settings)
    # Before anything can serve a request or touch a contact: a public SECRET_KEY or no PII_KEY
    # stops startup outside development and tests (issue 11).
    problems = key_problems(app.config)
    if problems:
        raise InputError(problems)
    app.config["WTF_CSRF_TIME_LIMIT"] = max(60, int(app.config["CSRF_TIME_LIMIT"]))
    if app.config["PROXY_COUNT"]:
        # Without it every client behind the load balancer has the balancer's address, and one
        # person's failed logins would lock out everyone (issue 11).
        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    Path(app.config["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    public_secret = app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    if (public_secret or not app.config["PII_KEY"]) and not app.testing:
        logger.warning(
            "DEVELOPMENT KEYS IN USE: the built-in SECRET_KEY or a PII_KEY derived from it; "
            "fine on this machine, never for real people (README.md, Configuration)"
        )

    db.init_app(app)
    files.init_app(app)
    jobs.celery_init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    throttle.init_app(app)
    navigation.init_app(app)
    access_log.init_app(app)

    from minsheng import accounts, cli, headers, views

    accounts.init_app(app)
    headers.init_app(app)
    views.init_app(app)
    cli.init_app(app)

    # The pipeline, in order; each package registers its own blueprints, tasks, CLI and beat.
    for name in FEATURE_PACKAGES:
        importlib.import_module(name).init_app(app)
    # Last: the logs' redaction is made from every route, the packages' included.
    access_log.redact_logs(app)
    return app
