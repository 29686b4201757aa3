"""The base of every `minsheng <noun>` command group: bad input prints one line per problem and
exits with status 2, instead of a traceback."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from minsheng.errors import InputError, echo_problems


class CommandGroup(AppGroup):
    """An `AppGroup` (commands run in an app context) that renders `InputError` for the shell."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            echo_problems(exc)
            ctx.exit(2)
