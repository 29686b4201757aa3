"""`minsheng invitations sample|status|quota` (thin: parse, call the domain function, commit,
print); `send_cli` adds the sending commands to the same group."""

from __future__ import annotations

import click

from campaigns.store import require_campaign
from contacts.lists import contact_list_named
from invitations.quotas import parse_stratum, quotas_of, set_quota, stratum_values
from invitations.sampling import draw_sample
from invitations.tokens import status_counts
from minsheng.commands import CommandGroup
from minsheng.db import get_session

invitations_cli = CommandGroup("invitations", help="Samples, invitation links and their status.")


@invitations_cli.command("sample")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option("--list", "list_name", required=True, help="Target list to draw from.")
@click.option("--by", default="", help="Strata attributes, comma-separated (e.g. district,age).")
@click.option("--size", type=int, help="Sample size, allocated in proportion to strata.")
@click.option("--per-stratum", type=int, help="Fixed number drawn from each stratum.")
@click.option("--seed", type=int, help="Random seed (recorded; default: a random one).")
@click.option("--channel", type=click.Choice(["email", "sms", "letter"]), help="Channel to use.")
def sample_command(
    campaign_slug: str,
    list_name: str,
    by: str,
    size: int | None,
    per_stratum: int | None,
    seed: int | None,
    channel: str | None,
) -> None:
    """Draw a stratified random sample from a list and create its invitations."""
    session = get_session()
    campaign = require_campaign(session, campaign_slug)
    strata = [name.strip() for name in by.split(",") if name.strip()]
    result = draw_sample(
        session,
        campaign,
        contact_list_named(session, list_name, "--list"),
        strata,
        size=size,
        per_stratum=per_stratum,
        seed=seed,
        channel=channel,
    )
    sample = result.sample
    session.commit()
    click.echo(
        f"sample {sample.id}: seed {sample.seed}, {len(result.drawn)} drawn, "
        f"{result.invited.created} invited"
    )
    skipped = result.invited
    if skipped.skipped_invited or skipped.skipped_quota or skipped.skipped_opted_out:
        click.echo(
            f"not invited: {skipped.skipped_invited} already invited, "
            f"{skipped.skipped_quota} in a full quota, "
            f"{skipped.skipped_opted_out} opted out"
        )
    for key, counts in sample.counts.items():
        label = ", ".join(f"{k}={v}" for k, v in stratum_values(key).items()) or "all"
        click.echo(
            f"  {label}\tpopulation {counts['population']}\tallocated "
            f"{counts['allocated']}\tinvited {counts['invited']}"
        )


@invitations_cli.command("quota")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option(
    "--stratum",
    "pairs",
    multiple=True,
    required=True,
    help="attribute=value defining the stratum; repeat for several attributes.",
)
@click.option("--max", "maximum", type=int, required=True, help="Most completed responses.")
def quota_command(campaign_slug: str, pairs: tuple[str, ...], maximum: int) -> None:
    """Set the quota of one stratum (e.g. --stratum district=锦江区 --max 200)."""
    session = get_session()
    campaign = require_campaign(session, campaign_slug)
    values = parse_stratum(",".join(pairs), "--stratum")
    quota = set_quota(session, campaign, values, maximum)
    session.commit()
    label = ", ".join(f"{k}={v}" for k, v in quota.attribute_values.items())
    click.echo(f"quota {label}: {quota.completed} of {quota.maximum}")


@invitations_cli.command("status")
@click.argument("campaign_slug", metavar="CAMPAIGN")
def status_command(campaign_slug: str) -> None:
    """Invitations of a campaign by status, and its quotas."""
    session = get_session()
    campaign = require_campaign(session, campaign_slug)
    counts = status_counts(session, campaign.id)
    click.echo(f"{campaign.slug}: {sum(counts.values())} invitations")
    for status, n in counts.items():
        click.echo(f"  {status}\t{n}")
    for quota in quotas_of(session, campaign.id):
        state = "full" if quota.completed >= quota.maximum else "open"
        label = ", ".join(f"{k}={v}" for k, v in quota.attribute_values.items())
        click.echo(f"  quota {label}\t{quota.completed}/{quota.maximum}\t{state}")
