"""`minsheng report render SLUG [--out DIR]`: render a campaign's thematic report now."""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.store import require_campaign
from exporters.reports import mark_running, produce_report, request_report
from minsheng.commands import CommandGroup
from minsheng.db import get_session

report_cli = CommandGroup("report", help="Thematic reports (专题报告).")


@report_cli.command("render")
@click.argument("slug")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the PDF (default: REPORT_DIR).",
)
@click.option(
    "--audience",
    type=click.Choice(["staff", "department"]),
    default="staff",
    show_default=True,
    help="department: cells below SUPPRESSION_THRESHOLD are suppressed.",
)
def render_command(slug: str, out_dir: Path | None, audience: str) -> None:
    """Render the PDF report of campaign SLUG in this process and print its path.

    The report is recorded like one requested on the organizer page, so it can be downloaded
    there too.
    """
    session = get_session()
    campaign = require_campaign(session, slug)
    report = request_report(session, campaign, audience=audience)
    mark_running(session, report)
    session.commit()
    path = produce_report(session, report, out_dir)
    session.commit()
    if path is None:
        raise click.ClickException(report.error)
    click.echo(str(path.resolve()))
