"""`minsheng campaign list|status` (load and dump are added by `forms`, which publishes the
questionnaire the file carries)."""

from __future__ import annotations

import click
from sqlalchemy import select

from campaigns.lifecycle import change_status
from campaigns.models import Campaign
from campaigns.store import require_campaign
from minsheng.commands import CommandGroup
from minsheng.db import get_session

campaign_cli = CommandGroup("campaign", help="Campaigns (专项征集).")


@campaign_cli.command("list")
def list_command() -> None:
    """List campaigns with their status."""
    for campaign in get_session().scalars(select(Campaign).order_by(Campaign.id)):
        click.echo(f"{campaign.slug}\t{campaign.status}\t{campaign.title_in('zh')}")


@campaign_cli.command("status")
@click.argument("slug")
@click.argument("new_status")
def status_command(slug: str, new_status: str) -> None:
    """Move a campaign to NEW_STATUS (open, paused, closed, archived), printing what the
    status page says before confirming (unsent invitations, saved drafts)."""
    session = get_session()
    check = change_status(session, require_campaign(session, slug), new_status, actor_id=None)
    session.commit()
    for note in check.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{slug} is {new_status}")
