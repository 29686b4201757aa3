"""Response frames, statistics, weighting, data quality and open-text analysis."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the results pages."""
    from analysis.views import bp

    app.register_blueprint(bp)
