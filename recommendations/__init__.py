"""Recommendations drawn from a campaign, tracked from adoption to implementation."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from minsheng.jobs import add_periodic_job

ESCALATION_EVERY = timedelta(hours=1)


def init_app(app: Flask) -> None:
    """Register the recommendation pages, the API, the `minsheng recommendations` commands and
    the hourly escalation job."""
    from recommendations.api import bp as api_bp
    from recommendations.cli import recommendations_cli
    from recommendations.feedback_views import bp as public_bp
    from recommendations.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(recommendations_cli)
    add_periodic_job(
        app,
        "recommendations.escalate_overdue",
        "recommendations.escalate_overdue",
        ESCALATION_EVERY,
    )
