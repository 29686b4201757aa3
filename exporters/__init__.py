"""PDF thematic reports (专题报告) and data exports."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the report and export pages and their access rule, the `minsheng report` and
    `minsheng export` commands and the render and export tasks."""
    from flask_babel import lazy_gettext as _l

    from exporters import access, tasks  # noqa: F401  (tasks: the render and export tasks)
    from exporters.cli import export_command, report_cli
    from exporters.views import bp
    from minsheng.navigation import add_campaign_tab

    app.register_blueprint(bp)
    access.init_app()
    app.cli.add_command(report_cli)
    app.cli.add_command(export_command)
    add_campaign_tab(app, "exporters.campaign_report_list", _l("Thematic reports"), order=50)
    add_campaign_tab(app, "exporters.campaign_exports", _l("Exports"), order=55)
