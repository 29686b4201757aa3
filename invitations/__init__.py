"""Sampling from target lists, invitation links, channels and sending."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks, CLI, campaign tabs and beat entries."""
    from flask_babel import lazy_gettext as _l

    from campaigns.lifecycle import add_status_check
    from invitations import access, api, send_cli, tasks, views  # noqa: F401 (send_cli)
    from invitations.cli import invitations_cli
    from invitations.send_runs import sending_check
    from minsheng.jobs import add_periodic_job
    from minsheng.navigation import add_campaign_tab

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    add_status_check(sending_check)
    access.init_app()
    app.cli.add_command(invitations_cli)
    # Mail clients post one-click unsubscribes (RFC 8058) without our CSRF token.
    app.extensions["csrf"].exempt(views.opt_out)
    app.extensions["csrf"].exempt(api.bp)  # JSON only, bearer token, no cookies
    add_campaign_tab(app, "invitations.status", _l("Invitations and samples"), order=20)
    add_campaign_tab(app, "invitations.sending_page", _l("Sending"), order=30)
    add_campaign_tab(app, "invitations.funnel_page", _l("Invitation funnel"), order=40)
    add_periodic_job(
        app, "invitations.send_reminders", tasks.send_reminders_task.name, timedelta(hours=1)
    )
