"""`minsheng reviews assign|start|overdue|close|agreement|ranking`: expert review from the shell."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from campaigns.store import require_campaign
from minsheng.accounts.models import User
from minsheng.commands import CommandGroup
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from reviews.assignment import assign_reviews, mark_overdue
from reviews.experts import assign_expert, close_review_round, start_review_round

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


@reviews_cli.command("start")
@click.argument("slug")
def start_command(slug: str) -> None:
    """Store SLUG's suggestions and hand out k reviews of each to its experts."""
    session = get_session()
    campaign = require_campaign(session, slug)
    start_review_round(session, campaign)
    plan = assign_reviews(session, campaign)
    session.commit()
    click.echo(
        f"{plan.created} reviews assigned, {len(plan.excluded)} conflicts excluded, "
        f"{len(plan.short)} suggestions short of reviewers"
    )


@reviews_cli.command("overdue")
@click.argument("slug")
def overdue_command(slug: str) -> None:
    """Hand SLUG's reviews past their deadline to other experts."""
    session = get_session()
    count = mark_overdue(session, require_campaign(session, slug))
    session.commit()
    click.echo(f"{count} overdue review(s) handed on")


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
    """Print Krippendorff's alpha (every metric) and ICC(2,1) per criterion as JSON."""
    from reviews.ranking import campaign_agreement

    rows = campaign_agreement(get_session(), require_campaign(get_session(), slug))
    click.echo(json.dumps([row.to_dict() for row in rows], ensure_ascii=False, indent=2))


@reviews_cli.command("ranking")
@click.argument("slug")
@click.option("--method", type=click.Choice(["median", "trimmed_mean"]), default="median")
@click.option("--standardise", is_flag=True, help="Standardise each expert's totals first.")
def ranking_command(slug: str, method: str, standardise: bool) -> None:
    """Print scored suggestions, best first: rank range, score, interval, experts, flags."""
    from reviews.ranking import item_scores
    from reviews.scoring import campaign_reviews

    session = get_session()
    reviews = campaign_reviews(session, require_campaign(session, slug), "latest")
    for row in item_scores(reviews, method, standardise):
        rank = f"{row.rank_best}" + (f"-{row.rank_worst}" if row.tied else "")
        flag = " disagree" if row.flagged else ""
        click.echo(
            f"{rank}\t{row.suggestion_id}\t{row.estimate:.2f} [{row.ci_low:.2f}, "
            f"{row.ci_high:.2f}]\tn={row.n_raters}{flag}"
        )
