"""Recommendations drawn from a campaign, tracked from adoption to implementation."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

ESCALATION_EVERY = timedelta(hours=1)


def init_app(app: Flask) -> None:
    """Register the recommendation pages, the API, the `minsheng recommendations` commands and
    the hourly escalation job."""
    from flask_babel import lazy_gettext as _l

    from minsheng.jobs import add_periodic_job
    from minsheng.navigation import add_campaign_tab, add_menu_entry, add_respondent_link
    from recommendations import access
    from recommendations.api import bp as api_bp
    from recommendations.cli import recommendations_cli
    from recommendations.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    access.init_app()
    app.cli.add_command(recommendations_cli)
    add_menu_entry(app, "recommendations.work_list", _l("To-do list"), order=40)
    add_campaign_tab(
        app, "recommendations.campaign_recommendations", _l("Recommendations"), order=70
    )
    add_respondent_link(
        app,
        "recommendations.campaign_feedback",
        _l("See what has been done with the suggestions"),
        order=10,
    )
    add_periodic_job(
        app,
        "recommendations.escalate_overdue",
        "recommendations.escalate_overdue",
        ESCALATION_EVERY,
    )
