"""Recommendations drawn from a campaign, tracked from adoption to implementation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks and CLI."""
