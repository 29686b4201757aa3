"""`minsheng invitations send|remind|funnel|posters` (thin: parse, call the domain function,
commit, queue the batches and print). Added to the `invitations` command group of
`invitations.cli`. A send or remind is recorded as a run, with its audit event, exactly as the
sending page records it (`invitations.send_runs.plan_send_run`)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.orm import Session

from campaigns.store import require_campaign
from invitations.channels import CHANNEL_NAMES
from invitations.cli import invitations_cli
from invitations.funnel import DISPOSITIONS, STAGES, FunnelCounts, funnel, stratum_label
from invitations.messages import MESSAGE_LANGUAGES
from invitations.posters import poster_pdf
from invitations.send_runs import SendRun, plan_send_run, run_batches
from invitations.sending import BATCH_SIZE
from invitations.tasks import queue_send_run
from minsheng.db import get_session
from minsheng.errors import InputError, Problem


def _queue(session: Session, run: SendRun) -> None:
    """Queue the run's batches, each with its job, in the transaction that recorded the run;
    without a broker each runs at this commit, so report what each did."""
    queue_send_run(session, run)
    session.commit()
    total = sum(len(ids) for _, _, ids in run.batches)
    if current_app.config["BROKER_URL"]:
        click.echo(
            f"queued {len(run.batches)} batches ({total} invitations) on queue 'invitations'"
        )
        return
    done = 0
    batches = run_batches(session, run.job)
    for number, job in enumerate(batches, start=1):
        counts = job.result
        done += int(counts.get("invitations", 0))
        click.echo(
            f"batch {number}/{len(batches)} ({done}/{total}): sent {counts.get('sent', 0)}, "
            f"bounced {counts.get('bounced', 0)}, failed {counts.get('failed', 0)}"
        )


@invitations_cli.command("send")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option("--channel", type=click.Choice(CHANNEL_NAMES), required=True)
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1, 5000))
def send_command(campaign_slug: str, channel: str, batch_size: int) -> None:
    """Send the invitation message to every invitation of CAMPAIGN that has not had it."""
    session = get_session()
    campaign = require_campaign(session, campaign_slug)
    run = plan_send_run(session, campaign, "invitation", channel, batch_size=batch_size)
    if run is None:
        session.commit()
        click.echo("nothing to send: every reachable invitation already had its message")
        return
    _queue(session, run)


@invitations_cli.command("remind")
@click.argument("campaign_slug", metavar="CAMPAIGN")
def remind_command(campaign_slug: str) -> None:
    """Send the reminders that are due now (settings.sending.reminders of the campaign file)."""
    session = get_session()
    campaign = require_campaign(session, campaign_slug)
    run = plan_send_run(session, campaign, "reminder")
    if run is None:
        session.commit()  # what resolving stale deliveries found
        click.echo("no reminders due")
        return
    _queue(session, run)  # commits that too


@invitations_cli.command("resend-uncertain")
@click.argument("campaign_slug", metavar="CAMPAIGN")
def resend_uncertain_command(campaign_slug: str) -> None:
    """Send again the steps of CAMPAIGN left uncertain (a worker stopped between the hand-over and
    the outcome): those people may not have their message, and some may get it twice."""
    session = get_session()
    campaign = require_campaign(session, campaign_slug)
    run = plan_send_run(session, campaign, "uncertain")
    if run is None:
        session.commit()
        click.echo("no uncertain steps")
        return
    _queue(session, run)


def _row(label: str, counts: FunnelCounts) -> str:
    rates = " ".join(
        f"{name}={'-' if value is None else f'{value:.1%}'}"
        for name, value in (("RR1", counts.rr1), ("RR2", counts.rr2))
    )
    stages = " ".join(f"{stage}={getattr(counts, stage)}" for stage in STAGES)
    return f"{label}\t{stages} opted_out={counts.opted_out}\t{rates}"


@invitations_cli.command("funnel")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead.")
def funnel_command(campaign_slug: str, as_json: bool) -> None:
    """The delivery funnel with AAPOR RR1/RR2, in total, by channel and by stratum."""
    result = funnel(get_session(), require_campaign(get_session(), campaign_slug))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(_row("total", result.total))
    for name, counts in result.by_channel.items():
        click.echo(_row(f"channel {name}", counts))
    for name, counts in result.by_stratum.items():
        click.echo(_row(f"stratum {stratum_label(name)}", counts))
    dispositions = " ".join(f"{d}={result.total.dispositions[d]}" for d in DISPOSITIONS)
    click.echo(f"AAPOR dispositions\t{dispositions}")


@invitations_cli.command("posters")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--point", "point_code", help="Only this collection point (its code).")
@click.option("--language", type=click.Choice(MESSAGE_LANGUAGES), default="zh_CN")
def posters_command(
    campaign_slug: str, output: Path, point_code: str | None, language: str
) -> None:
    """Write the A4 QR posters of CAMPAIGN's collection points to a PDF."""
    campaign = require_campaign(get_session(), campaign_slug)
    points = [p for p in campaign.collection_points if point_code in (None, p.code)]
    if not points:
        codes = ", ".join(p.code for p in campaign.collection_points) or "none"
        raise InputError(
            [Problem("--point", f"no collection point {point_code!r}; points: {codes}")]
        )
    output.write_bytes(poster_pdf(campaign, points, language))
    click.echo(f"wrote {output} ({len(points)} posters)")
