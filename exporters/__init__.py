"""PDF thematic reports (专题报告) and data exports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks and CLI."""
