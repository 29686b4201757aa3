"""Contacts, target lists, sampling, invitation links, channels and sending."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks, CLI and beat entries."""
