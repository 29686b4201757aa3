"""`minsheng contacts import|rekey` and `minsheng invitations sample|status|quota`
(thin: parse, call the domain function, commit, print)."""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.store import require_campaign
from contacts.lists import contact_list_named, get_or_create_list, import_contacts
from contacts.pii import current_keys
from invitations.key_rotation import rekey_contacts
from invitations.quotas import parse_stratum, quotas_of, set_quota, stratum_values
from invitations.sampling import draw_sample
from invitations.tokens import status_counts
from minsheng.commands import CommandGroup
from minsheng.db import get_session

contacts_cli = CommandGroup("contacts", help="Target lists (名单) and their contacts.")
invitations_cli = CommandGroup("invitations", help="Samples, invitation links and their status.")


@contacts_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True, help="Target list to add to (created if new).")
@click.option("--campaign", "campaign_slug", help="Campaign a new list belongs to (default: none).")
@click.option(
    "--required-attr", "required", multiple=True, help="Attribute every row must have; repeat."
)
@click.option(
    "--errors-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the error file (default: FILE.errors.csv beside FILE).",
)
def import_command(
    file: Path,
    list_name: str,
    campaign_slug: str | None,
    required: tuple[str, ...],
    errors_out: Path | None,
) -> None:
    """Import contacts from FILE (CSV in UTF-8 or GB18030, or XLSX) into a target list."""
    session = get_session()
    campaign_id = require_campaign(session, campaign_slug).id if campaign_slug else None
    contact_list = get_or_create_list(session, list_name, campaign_id)
    required_attrs = [a.strip() for item in required for a in item.split(",") if a.strip()]
    result = import_contacts(
        session,
        contact_list,
        file.read_bytes(),
        file.name,
        required=required_attrs,
        progress=lambda _fraction, message: click.echo(f"  {message}", err=True),
    )
    assert result.record is not None
    session.commit()
    click.echo(
        f"{list_name}: {result.imported} imported, {result.skipped} skipped of {result.rows} rows"
    )
    if result.problems:
        target = errors_out or file.with_name(file.stem + ".errors.csv")
        # With a BOM, so Excel opens the Chinese text correctly.
        target.write_text(result.record.error_report, encoding="utf-8-sig", newline="")
        click.echo(f"{len(result.problems)} problems written to {target}")


@contacts_cli.command("rekey")
def rekey_command() -> None:
    """Re-encrypt contact details under MINSHENG_PII_KEY after a key change (README.md,
    "Rotating PII_KEY"); safe to run again, it skips what is already current."""
    session = get_session()
    counts = rekey_contacts(session, current_keys())
    session.commit()
    click.echo(
        f"contacts: {counts.contacts} re-encrypted, {counts.contacts_current} already current"
    )
    click.echo(
        f"waiting uploads: {counts.uploads} re-encrypted, {counts.uploads_current} already current"
    )
    click.echo(f"opt-outs: {counts.opt_outs} moved to the new lookup hash")


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
