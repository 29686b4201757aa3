"""Response frames, statistics, weighting, data quality and open-text analysis."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the results pages, the summary API and (by importing it) the summary task, and
    choose Arrow's memory allocator (``ARROW_MEMORY_POOL``)."""
    from analysis import tasks  # noqa: F401
    from analysis.api import bp as api_bp
    from analysis.arrow import use_memory_pool
    from analysis.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    use_memory_pool(app.config["ARROW_MEMORY_POOL"])
