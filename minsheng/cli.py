"""The `minsheng` command: `db`, `config`, `jobs`, `i18n`, `audit`, `workdays`, `backup` and
`restore` here;
the groups of `users` and of each package are declared in `minsheng.packages` and imported when
called."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from minsheng.commands import CommandGroup, DeclaredGroup
from minsheng.config import masked, settings_markdown
from minsheng.errors import InputError, echo_problems
from minsheng.packages import COMMANDS

db_cli = CommandGroup("db", help="Database schema.")
config_cli = CommandGroup("config", help="Settings.")
jobs_cli = CommandGroup("jobs", help="Background jobs.")
i18n_cli = CommandGroup("i18n", help="Translations.")
audit_cli = CommandGroup("audit", help="The tamper-evident audit log.")
workdays_cli = CommandGroup(
    "workdays", help="The working-day calendar (holiday notices, local adjustments)."
)
T = TypeVar("T")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    from minsheng.dbtool import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database at head")


@config_cli.command("show")
def config_show() -> None:
    """Print the effective settings, secrets masked."""
    for name, value in masked(current_app.config).items():
        click.echo(f"MINSHENG_{name}={value}")


@config_cli.command("docs")
def config_docs() -> None:
    """Print the Markdown table of every setting (the README's configuration section)."""
    click.echo(settings_markdown(), nl=False)


@jobs_cli.command("schedule")
def jobs_schedule() -> None:
    """Print every periodic job declared by the packages."""
    from minsheng.jobs import get_celery

    schedule = get_celery(current_app).conf.beat_schedule
    for name, entry in sorted(schedule.items()):
        click.echo(f"{name}\t{entry['task']}\tevery {entry['schedule']}")


@i18n_cli.command("compile")
def i18n_compile() -> None:
    """Build the .mo files of every package's catalog."""
    from minsheng.i18n import compile_catalogs

    for path in compile_catalogs():
        click.echo(f"wrote {path}")


@audit_cli.command("verify")
@click.option(
    "--earlier-head",
    metavar="HASH",
    default=None,
    help="A head an earlier run printed (kept elsewhere): fail unless the chain still holds it.",
)
def audit_verify(earlier_head: str | None) -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first broken link. Keep the head
    it prints elsewhere and pass it as --earlier-head later: a chain cut short and rewritten
    from there no longer holds it."""
    from minsheng.audit import verify_chain
    from minsheng.db import get_session

    found = verify_chain(get_session(), earlier_head)
    if found.broken_at is None and not found.earlier_head_found:
        click.echo(
            f"audit chain holds no event with the earlier head {earlier_head}: events were "
            f"removed and the chain rewritten ({found.events} events now)",
            err=True,
        )
        raise SystemExit(1)
    if not found.intact:
        click.echo(
            f"audit chain broken at event #{found.broken_at} after {found.events} intact "
            f"events: {found.reason}",
            err=True,
        )
        raise SystemExit(1)
    head = f"#{found.head_id} {found.head_hash}" if found.head_id is not None else "none"
    click.echo(f"audit chain intact: {found.events} events, head {head}")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Write an archive of the database and the file store to TARGET (.tar.gz)."""
    from minsheng.backup import create_backup

    manifest = _problems_exit(lambda: create_backup(current_app.config, target))
    rows = sum(n for name, n in manifest.tables.items() if name != "alembic_version")
    click.echo(
        f"wrote {target}: {rows} rows in {len(manifest.tables)} tables, "
        f"{len(manifest.file_keys)} files, schema {manifest.revision}"
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database and store that hold data.")
@with_appcontext
def restore_command(source: Path, replace: bool) -> None:
    """Restore the database and the file store from the archive SOURCE, after checking it.

    Stop the web nodes and workers first; run `minsheng db upgrade` after restoring an archive
    of an older schema.
    """
    from minsheng.backup import restore_backup

    manifest = _problems_exit(lambda: restore_backup(current_app.config, source, replace=replace))
    click.echo(
        f"restored {source} (made {manifest.created_at}): every table's row count and "
        f"{len(manifest.file_keys)} files' checksums match"
    )


@workdays_cli.command("due")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("n", type=int)
def workdays_due(start: datetime, n: int) -> None:
    """Print the N-th working day after START (the deadline a clock of N working days sets)."""
    from minsheng.db import get_session
    from minsheng.workdays import calendar_for

    click.echo(calendar_for(get_session()).add_working_days(start.date(), n).isoformat())


@workdays_cli.command("list")
def workdays_list() -> None:
    """Print the years the calendar knows and every local adjustment."""
    from minsheng.db import get_session
    from minsheng.workdays import adjustments, national_calendar

    years = ", ".join(str(y) for y in sorted(national_calendar().years))
    click.echo(f"holiday notices: {years}")
    for row in adjustments(get_session()):
        kind = "working day" if row.working else "holiday"
        click.echo(f"{row.day.isoformat()}\t{kind}\t{row.note}")


@workdays_cli.command("adjust")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--holiday", required=True, help="What the day becomes locally.")
@click.option("--note", required=True, help="Why (e.g. 台风停工).")
def workdays_adjust(day: datetime, working: bool, note: str) -> None:
    """Make DAY a working day or a holiday in this instance (replaces an earlier adjustment)."""
    from minsheng.db import get_session
    from minsheng.workdays import adjust_day

    session = get_session()
    moved = day.date()
    adjust_day(session, moved, working, note)
    session.commit()
    click.echo(f"{moved} is now a {'working day' if working else 'holiday'}")


@workdays_cli.command("restore")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def workdays_restore(day: datetime) -> None:
    """Give DAY back to the national calendar."""
    from minsheng.db import get_session
    from minsheng.workdays import remove_adjustment

    session = get_session()
    moved = day.date()
    remove_adjustment(session, moved)
    session.commit()
    click.echo(f"{moved} follows the national calendar again")


def _problems_exit(action: Callable[[], T]) -> T:
    try:
        return action()
    except InputError as exc:
        echo_problems(exc)
        raise SystemExit(2) from exc


SHELL_COMMANDS = (
    db_cli,
    config_cli,
    jobs_cli,
    i18n_cli,
    audit_cli,
    workdays_cli,
    backup_command,
    restore_command,
)


def init_app(app: Flask) -> None:
    for command in SHELL_COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from minsheng.app import create_app

    try:
        return create_app()
    except InputError as exc:
        # A refused setting (a development SECRET_KEY in production...) reads as one line per
        # problem, not as a traceback.
        echo_problems(exc)
        raise SystemExit(2) from exc


# `minsheng --help` lists the packages' commands from their declarations and builds no app.
cli = DeclaredGroup(
    COMMANDS, create_app=_create_app, add_default_commands=True, help="minsheng operator CLI."
)
for _command in SHELL_COMMANDS:
    cli.add_command(_command)


def main() -> None:
    cli.main(prog_name="minsheng")
