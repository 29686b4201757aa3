"""`create_app()`: configuration, database, jobs, accounts, then each stage of the pipeline.

Read top to bottom, it lists every part of the system.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from minsheng import db, errors, i18n, jobs, navigation
from minsheng.config import load_settings

csrf = CSRFProtect()


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """Build the app; `overrides` (tests) win over `MINSHENG_*` variables and defaults."""
    app = Flask("minsheng", instance_relative_config=False)
    settings = load_settings(overrides=overrides)
    app.config.update(settings)
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    Path(app.config["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    db.init_app(app)
    jobs.celery_init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)

    from minsheng import accounts, cli, views

    accounts.init_app(app)
    views.init_app(app)
    cli.init_app(app)

    # The pipeline, in order; each package registers its own blueprints, tasks, CLI and beat.
    import analysis
    import campaigns
    import exporters
    import forms
    import invitations
    import recommendations
    import reviews

    for package in (
        campaigns,
        invitations,
        forms,
        analysis,
        reviews,
        exporters,
        recommendations,
    ):
        package.init_app(app)
    return app
