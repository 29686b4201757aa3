"""Response frames, statistics, weighting, data quality and open-text analysis."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the results pages, the summary API and (by importing it) the summary task."""
    from analysis import tasks  # noqa: F401
    from analysis.api import bp as api_bp
    from analysis.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
