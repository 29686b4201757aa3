"""Expert advisors (特约建议人): annotations on results, suggestion scoring, golden ideas."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review pages and the `minsheng reviews` commands."""
    from reviews.cli import reviews_cli
    from reviews.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(reviews_cli)
