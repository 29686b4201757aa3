"""`minsheng reviews assign|close|agreement|ranking`: expert review from the shell."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from campaigns.store import require_campaign
from minsheng.accounts.models import User
from minsheng.commands import CommandGroup
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from reviews.experts import assign_expert, close_review_round
from reviews.golden_ideas import ranking
from reviews.scoring import campaign_agreement

reviews_cli = CommandGroup("reviews", help="Expert review (专家评审) of a campaign's suggestions.")


@reviews_cli.command("assign")
@click.argument("slug")
@click.argument("usernames", nargs=-1, required=True)
def assign_command(slug: str, usernames: tuple[str, ...]) -> None:
    """Assign the expert accounts USERNAMES to review campaign SLUG."""
    session = get_session()
    campaign = require_campaign(get_session(), slug)
    users = {
        u.username: u for u in session.scalars(select(User).where(User.username.in_(usernames)))
    }
    problems = [Problem(name, "no such user") for name in usernames if name not in users]
    if problems:
        raise InputError(problems)
    for name in usernames:
        assign_expert(session, campaign, users[name])
    session.commit()
    click.echo(f"{len(usernames)} expert(s) review {slug}")


@reviews_cli.command("close")
@click.argument("slug")
def close_command(slug: str) -> None:
    """Close the review round of SLUG: scores become final for the panel decision."""
    session = get_session()
    close_review_round(session, require_campaign(get_session(), slug))
    session.commit()
    click.echo(f"review round of {slug} closed")


@reviews_cli.command("agreement")
@click.argument("slug")
def agreement_command(slug: str) -> None:
    """Print ICC(2,1) and Krippendorff's alpha (ordinal) per criterion as JSON."""
    rows = campaign_agreement(get_session(), require_campaign(get_session(), slug))
    click.echo(json.dumps([row.to_dict() for row in rows], ensure_ascii=False, indent=2))


@reviews_cli.command("ranking")
@click.argument("slug")
@click.option("--nominated", is_flag=True, help="Only nominated suggestions.")
def ranking_command(slug: str, nominated: bool) -> None:
    """Print scored suggestions, best first: mean, interval, number of experts, decision."""
    session = get_session()
    for row in ranking(session, require_campaign(session, slug), nominated_only=nominated):
        mean = "-" if row.mean is None else f"{row.mean:.2f}"
        interval = "" if row.ci_low is None else f" [{row.ci_low:.2f}, {row.ci_high:.2f}]"
        mark = " golden" if row.citation else (" nominated" if row.nomination_id else "")
        click.echo(
            f"{row.response_id}:{row.question_name}\t{mean}{interval}\tn={row.n_raters}{mark}"
        )
