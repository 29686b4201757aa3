"""`minsheng report render SLUG [--out DIR]`: render a campaign's thematic report now;
`minsheng export SLUG --format csv|xlsx|sav|dta|parquet -o PATH`: export its responses."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from flask.cli import with_appcontext

from campaigns.store import require_campaign
from exporters.reports import mark_running, produce_report, report_download_name, request_report
from minsheng.audit import record_download
from minsheng.commands import CommandGroup
from minsheng.db import get_session
from minsheng.files import file_store

# Named here, not imported from exporters.formats, so `minsheng --help` loads no pandas.
EXPORT_FORMATS = (
    "csv",
    "xlsx",
    "sav",
    "dta",
    "parquet",
    "codebook",
    "codebook-pdf",
    "datapackage",
)
report_cli = CommandGroup("report", help="Thematic reports (专题报告).")


@report_cli.command("render")
@click.argument("slug")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also copy the PDF into this folder and print its path there.",
)
@click.option(
    "--audience",
    type=click.Choice(["staff", "department"]),
    default="staff",
    show_default=True,
    help="department: cells below SUPPRESSION_THRESHOLD are suppressed.",
)
def render_command(slug: str, out_dir: Path | None, audience: str) -> None:
    """Render the PDF report of campaign SLUG in this process into the file store and print
    where it is.

    The report is recorded like one requested on the organizer page, so it can be downloaded
    there too.
    """
    session = get_session()
    campaign = require_campaign(session, slug)
    report = request_report(session, campaign, audience=audience)
    mark_running(session, report)
    session.commit()
    key = produce_report(session, report)
    session.commit()
    if key is None:
        raise click.ClickException(report.error)
    if out_dir is None:
        click.echo(file_store().location(key))
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / report_download_name(report)
    # A copy out of the store is a download, by the operator (no user).
    record_download(session, None, "report", report.id, report_download_name(report))
    session.commit()
    with file_store().open(key) as stored, copy.open("wb") as target:
        shutil.copyfileobj(stored.stream, target)
    click.echo(str(copy.resolve()))


@click.command(
    "export", short_help="Export a campaign's responses (CSV, XLSX, SPSS, Stata, Parquet)."
)
@click.argument("slug")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write.",
)
@click.option("--labels", is_flag=True, help="Single choices as labels instead of codes.")
@with_appcontext
def export_command(slug: str, fmt: str, output: Path, labels: bool) -> None:
    """Export the responses of campaign SLUG, one row per response, free text masked and no
    contact details, and print where the file is."""
    # pandas and pyarrow load only when an export runs, not with the app.
    from exporters.exports import ExportOptions
    from exporters.formats import write_export

    session = get_session()
    campaign = require_campaign(session, slug)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as target:
        write_export(session, campaign, fmt, target, ExportOptions(labels=labels))
    # Written by the operator (no user): audited like a download out of the store.
    record_download(session, None, "export", campaign.id, output.name)
    session.commit()
    click.echo(str(output.resolve()))
