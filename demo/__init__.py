"""The demo campaign: synthetic but realistic responses and the `minsheng demo` command. On top
of every other package, since it composes the whole pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Adds the `demo` command."""
    from demo.cli import demo_command

    app.cli.add_command(demo_command)
