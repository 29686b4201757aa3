"""`minsheng recommendations escalate|rates|list|ladder|workflow`: the loop from the shell."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from campaigns.store import require_campaign
from minsheng.accounts.models import Department, User
from minsheng.commands import CommandGroup
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from recommendations.escalation import add_ladder_contact
from recommendations.models import Recommendation
from recommendations.rates import campaign_rates, department_rates
from recommendations.tasks import escalate_overdue_task
from recommendations.workflow import markdown

recommendations_cli = CommandGroup(
    "recommendations", help="Recommendations: adoption, assignment, escalation (督办), rates."
)


@recommendations_cli.command("escalate")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Escalate as of this day (default: today in Beijing).",
)
def escalate_command(today: object) -> None:
    """Run the escalation job now (the beat runs it hourly): mark overdue assignments, record
    escalations and e-mail them. Running it twice on a day escalates once per level."""
    day = today.date().isoformat() if hasattr(today, "date") else None
    result = escalate_overdue_task.run(today=day)
    click.echo(
        f"{result['escalated']} escalated, {result['notified']} notified, "
        f"{result['failed']} not notified"
    )


@recommendations_cli.command("rates")
@click.argument("slug")
def rates_command(slug: str) -> None:
    """Print adoption, resolution, on-time and satisfaction rates of SLUG and per department."""
    session = get_session()
    campaign = require_campaign(get_session(), slug)
    out = {
        "campaign": campaign_rates(session, campaign).to_dict(),
        "departments": [r.to_dict() for r in department_rates(session, campaign)],
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@recommendations_cli.command("ladder")
@click.argument("level", type=int)
@click.argument("username")
@click.option("--department", "code", default=None, help="Only for this department (code).")
def ladder_command(level: int, username: str, code: str | None) -> None:
    """Name USERNAME to hear of escalations at LEVEL: 2 a department's head (with
    --department), 3 the supervising office, 4 leadership."""
    session = get_session()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError([Problem("username", f"no user {username!r}")])
    department = None
    if code is not None:
        department = session.scalar(select(Department).where(Department.code == code))
        if department is None:
            raise InputError([Problem("department", f"no department {code!r}")])
    add_ladder_contact(session, level, user, department.id if department else None)
    session.commit()
    click.echo(f"{username} hears of level {level}" + (f" for {code}" if code else ""))


@recommendations_cli.command("workflow")
def workflow_command() -> None:
    """Print both transition tables as Markdown (the README's copy is this output)."""
    click.echo(markdown(), nl=False)


@recommendations_cli.command("list")
@click.argument("slug")
def list_command(slug: str) -> None:
    """List the recommendations of SLUG with their status and assignments."""
    session = get_session()
    campaign = require_campaign(get_session(), slug)
    stmt = select(Recommendation).where(Recommendation.campaign_id == campaign.id)
    for rec in session.scalars(stmt.order_by(Recommendation.id)):
        departments = ",".join(
            f"{a.department.code}{'!' if a.overdue else ''}" for a in rec.assignments
        )
        click.echo(f"{rec.id}\t{rec.status}\t{rec.title}\t{departments}")
