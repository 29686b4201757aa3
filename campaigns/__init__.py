"""Campaigns (专项征集): definition files, lifecycle, target groups, collection points."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from campaigns.cli import campaign_cli
    from campaigns.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(campaign_cli)
