"""The bases of the `minsheng` command: `CommandGroup` for every `minsheng <noun>` group (bad input
prints one line per problem and exits with status 2, instead of a traceback) and `DeclaredGroup`
for the top level, which lists and loads its subcommands without building the app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask.cli import AppGroup, FlaskGroup

from minsheng.errors import InputError, echo_problems
from minsheng.packages import DeclaredCommand


class CommandGroup(AppGroup):
    """An `AppGroup` (commands run in an app context) that renders `InputError` for the shell."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            echo_problems(exc)
            ctx.exit(2)


class DeclaredGroup(FlaskGroup):
    """A `FlaskGroup` whose subcommands are declared by name, import path and short help.

    `FlaskGroup` builds the app to list `app.cli` (every package, its models and views) even for
    `--help`; here `--help` prints the declared short help and a subcommand's module is imported
    only when that subcommand is called or its own `--help` asked for (the "lazily loading
    subcommands" pattern of click's documentation). The app is built by the command that needs
    it (`with_appcontext`), through `create_app`. A name not declared falls back to `FlaskGroup`:
    plugins, then the app's own `cli`.
    """

    def __init__(self, declared: Iterable[DeclaredCommand], **extra: Any) -> None:
        super().__init__(**extra)
        self.declared = {command.name: command for command in declared}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.declared})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in self.declared:
            command = self.declared[cmd_name].load()
        return command if command is not None else super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own version calls `get_command` for each name, which would import them all.
        listed = [
            (
                name,
                self.commands.get(name) or click.Command(name, help=self.declared[name].short_help),
            )
            for name in self.list_commands(ctx)
        ]
        listed = [(name, command) for name, command in listed if not command.hidden]
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, command.get_short_help_str(limit)) for name, command in listed]
            )
