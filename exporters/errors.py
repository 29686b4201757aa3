"""Errors of the exporters package; each names what is wrong and how to fix it."""

from __future__ import annotations


class ExportError(Exception):
    """A report or export could not be produced (missing font, campaign without data)."""
