"""`minsheng campaign load FILE` and `minsheng campaign dump SLUG`: the campaign file round trip.

They live here because loading publishes the questionnaire the file carries (forms), after
storing the campaign (campaigns); both happen in one transaction.
"""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.cli import campaign_cli
from campaigns.definition import definition_to_dict, dump_yaml
from campaigns.store import campaign_definition, get_campaign
from forms.publishing import current_version, form_of, load_campaign_file
from forms.schema import form_to_dict
from minsheng.db import get_session


@campaign_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def load_command(path: Path) -> None:
    """Load (or update) a campaign from a YAML file; writes nothing if the file has errors."""
    session = get_session()
    campaign, version = load_campaign_file(session, str(path))
    session.commit()
    click.echo(f"loaded {campaign.slug} (questionnaire version {version.number})")


@campaign_cli.command("dump")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
def dump_command(slug: str, output: Path | None) -> None:
    """Write a campaign and its current questionnaire as a YAML campaign file."""
    session = get_session()
    campaign = get_campaign(session, slug)
    version = current_version(session, campaign) if campaign else None
    if campaign is None or version is None:
        raise click.ClickException(f"no campaign {slug!r} with a questionnaire")
    form = form_of(version)
    text = dump_yaml(definition_to_dict(campaign_definition(campaign, form), form_to_dict(form)))
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)
