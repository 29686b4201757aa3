"""Expert advisors (特约建议人): annotations on results, suggestion scoring, golden ideas."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks and CLI."""
