"""PDF thematic reports (专题报告) and data exports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the report pages, the `minsheng report` commands and the render task."""
    from exporters import tasks  # noqa: F401  (registers `exporters.render_report`)
    from exporters.cli import report_cli
    from exporters.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(report_cli)
