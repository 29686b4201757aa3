"""Campaigns (专项征集): definition files, lifecycle, target groups, collection points."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from campaigns import access
    from campaigns.cli import campaign_cli
    from campaigns.views import bp
    from campaigns.web import campaign_title
    from minsheng.navigation import add_campaign_tab, add_menu_entry

    app.register_blueprint(bp)
    app.jinja_env.globals["campaign_title"] = campaign_title
    access.init_app()
    app.cli.add_command(campaign_cli)
    add_menu_entry(app, "campaigns.index", _l("Campaigns"), order=10)
    add_campaign_tab(app, "campaigns.settings", _l("Settings"), order=85)
    add_campaign_tab(app, "campaigns.organizers", _l("Organizers"), order=88)
    add_campaign_tab(app, "campaigns.status", _l("Status"), order=90)
