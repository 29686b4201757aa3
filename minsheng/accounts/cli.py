"""`minsheng users create|list`."""

from __future__ import annotations

import click
from sqlalchemy import select

from minsheng.accounts.models import ROLES, User
from minsheng.accounts.users import create_user, get_or_create_department
from minsheng.commands import CommandGroup
from minsheng.db import get_session

users_cli = CommandGroup("users", help="Staff accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--department", default=None, help="Department code (for department users).")
def create_command(
    username: str,
    role: str,
    password: str,
    display_name: str | None,
    department: str | None,
) -> None:
    """Create a staff account."""
    session = get_session()
    dept = get_or_create_department(session, department, department) if department else None
    user = create_user(session, username, password, role, display_name, dept)
    session.commit()
    click.echo(f"created {user.role} {user.username}")


@users_cli.command("list")
def list_command() -> None:
    """List staff accounts."""
    for user in get_session().scalars(select(User).order_by(User.username)):
        click.echo(f"{user.username}\t{user.role}\t{user.display_name}")
