"""Response frames, statistics, weighting, data quality and open-text analysis."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register yet beyond what `summarize` callers use."""
