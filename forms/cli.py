"""`minsheng campaign load FILE` and `minsheng campaign dump SLUG`: the campaign file round trip;
`minsheng form import FILE [--campaign SLUG] [--dry-run]` and `minsheng form export SLUG -o FILE`.

Campaign commands live here because loading publishes the questionnaire the file carries (forms),
after storing the campaign (campaigns); both happen in one transaction.
"""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.cli import campaign_cli
from campaigns.definition import definition_to_dict, dump_yaml
from campaigns.organizers import give_campaign, organizers_named
from campaigns.store import campaign_definition, require_campaign
from forms.publishing import (
    current_version,
    form_checksum,
    form_of,
    load_campaign_file,
    publish_form,
)
from forms.xlsform import read_xlsform, write_xlsform
from minsheng.commands import CommandGroup
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from questionnaire.schema import form_to_dict


@campaign_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--owner", default=None, help="Organizer (user name) who owns the campaign.")
@click.option(
    "--co-organizer",
    "co_organizers",
    multiple=True,
    help="Organizer (user name) sharing the campaign's work; may be repeated.",
)
def load_command(path: Path, owner: str | None, co_organizers: tuple[str, ...]) -> None:
    """Load (or update) a campaign from a YAML file; writes nothing if the file or a user name
    has errors. With --owner, only that organizer (and the co-organizers) run the campaign."""
    session = get_session()
    owner_user, helpers = organizers_named(session, owner, co_organizers)
    campaign, version = load_campaign_file(session, str(path))
    if owner_user is not None:
        give_campaign(session, campaign, owner_user, helpers)
    session.commit()
    click.echo(f"loaded {campaign.slug} (questionnaire version {version.number})")


@campaign_cli.command("dump")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
def dump_command(slug: str, output: Path | None) -> None:
    """Write a campaign and its current questionnaire as a YAML campaign file."""
    session = get_session()
    campaign = require_campaign(session, slug)
    version = current_version(session, campaign)
    if version is None:
        raise InputError([Problem("SLUG", f"campaign {slug!r} has no questionnaire yet")])
    form = form_of(version)
    text = dump_yaml(definition_to_dict(campaign_definition(campaign, form), form_to_dict(form)))
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


form_cli = CommandGroup("form", help="Questionnaires as XLSForm files.")


@form_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--campaign", "slug", default=None, help="Publish to this campaign.")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
def import_command(path: Path, slug: str | None, dry_run: bool) -> None:
    """Read an XLSForm (.xlsx, .xls, .csv, .md) and publish it as the campaign's questionnaire.

    A changed form becomes a new version; an identical one keeps the current version.
    """
    imported = read_xlsform(path)
    form = imported.form
    lists = {q.list_name for q in form.questions() if q.list_name}
    click.echo(
        f"{path.name}: {sum(1 for _ in form.questions())} questions, {len(lists)} choice lists, "
        f"languages: {', '.join(form.languages)}"
    )
    for name in imported.skipped_sheets:
        click.echo(f"skipped sheet `{name}` (not part of XLSForm)")
    if slug is None:
        if not dry_run:
            raise click.UsageError("give --campaign SLUG to publish, or --dry-run to only check")
        return
    session = get_session()
    campaign = require_campaign(session, slug)
    current = current_version(session, campaign)
    if dry_run:
        same = current is not None and current.checksum == form_checksum(form)
        click.echo(
            f"dry run: {slug} would keep version {current.number if current else 0}"
            if same
            else f"dry run: {slug} would get version {(current.number if current else 0) + 1}"
        )
        return
    version = publish_form(session, campaign, form)
    session.commit()
    click.echo(f"{slug}: questionnaire version {version.number}")


@form_cli.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(slug: str, output: Path) -> None:
    """Write the campaign's current questionnaire as an .xlsx XLSForm."""
    session = get_session()
    version = current_version(session, require_campaign(session, slug))
    if version is None:
        raise InputError([Problem("SLUG", f"campaign {slug!r} has no questionnaire yet")])
    if output.suffix.lower() != ".xlsx":
        raise click.UsageError(f"the output must be an .xlsx file, got {output.name!r}")
    write_xlsform(form_of(version), output)
    click.echo(f"wrote {output} (version {version.number})")
