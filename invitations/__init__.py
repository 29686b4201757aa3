"""Sampling from target lists, invitation links, channels and sending."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks, CLI and beat entries."""
    from invitations.cli import invitations_cli
    from invitations.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(invitations_cli)
    # Sending, reminders, opt-out and the funnel.
    from invitations import send_api, send_cli, send_views, tasks  # noqa: F401 (send_cli: commands)
    from minsheng.jobs import add_periodic_job

    app.register_blueprint(send_views.bp)
    app.register_blueprint(send_api.bp)
    # Mail clients post one-click unsubscribes (RFC 8058) without our CSRF token.
    app.extensions["csrf"].exempt(send_views.opt_out)
    app.extensions["csrf"].exempt(send_api.bp)  # JSON only, bearer token, no cookies
    from flask_babel import lazy_gettext as _l

    from minsheng.navigation import add_campaign_tab, add_menu_entry

    add_menu_entry(app, "invitations.lists", _l("Target lists"), order=20)
    add_campaign_tab(app, "invitations.status", _l("Invitations and samples"), order=20)
    add_campaign_tab(app, "invitations_send.sending_page", _l("Sending"), order=30)
    add_campaign_tab(app, "invitations_send.funnel_page", _l("Invitation funnel"), order=40)
    add_periodic_job(
        app, "invitations.send_reminders", tasks.send_reminders_task.name, timedelta(hours=1)
    )
