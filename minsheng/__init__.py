"""minsheng (民声 → 民生): themed survey campaigns for people's-suggestion collection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """See `minsheng.app.create_app`; imported lazily so `import minsheng.db` stays light."""
    from minsheng.app import create_app as _create_app

    return _create_app(overrides)
