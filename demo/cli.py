"""`minsheng demo` (thin: parse, call `prepare_demo`, print)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask.cli import with_appcontext

from demo.preparation import find_demo_file, prepare_demo
from minsheng.db import get_session
from minsheng.errors import InputError, echo_problems


@click.command("demo")
@click.option(
    "--responses",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    help="Synthetic responses the demo campaign should have.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed.")
@click.option(
    "--file",
    "campaign_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Campaign file (default: examples/transport.yaml).",
)
@with_appcontext
def demo_command(responses: int, seed: int, campaign_file: Path | None) -> None:
    """Load the demo campaign with synthetic responses, an organizer login and its PDF report."""

    # WeasyPrint warns once per SVG attribute it passes over; the demo's output stays readable.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    try:
        result = prepare_demo(get_session(), campaign_file or find_demo_file(), responses, seed)
    except InputError as exc:
        echo_problems(exc)
        raise SystemExit(2) from exc
    click.echo(
        f"campaign {result.campaign_slug}: {result.responses} responses ({result.added} added now)"
    )
    click.echo(f"organizer login: {result.username} / {result.password}")
    click.echo(f"PDF report: {result.report}")
