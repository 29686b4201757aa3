"""`minsheng contacts import|rekey` (thin: parse, call the domain function, commit, print)."""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.store import require_campaign
from contacts.key_rotation import rekey_contacts
from contacts.lists import get_or_create_list, import_contacts
from contacts.pii import current_keys
from minsheng.commands import CommandGroup
from minsheng.db import get_session

contacts_cli = CommandGroup("contacts", help="Target lists (名单) and their contacts.")


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
