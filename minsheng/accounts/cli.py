"""`minsheng users create|list|set-role|disable|enable|reset-password|remove-two-factor`: the
operator's door to staff accounts, through the same domain functions (and audit) as the admin
pages."""

from __future__ import annotations

import click
from sqlalchemy import select

from minsheng.accounts.models import ROLES, User
from minsheng.accounts.totp import remove_totp
from minsheng.accounts.users import (
    change_role,
    create_user,
    disable_user,
    enable_user,
    get_or_create_department,
    reset_password,
)
from minsheng.commands import CommandGroup
from minsheng.db import get_session
from minsheng.errors import InputError, Problem

users_cli = CommandGroup("users", help="Staff accounts.")


def _user_named(username: str) -> User:
    user = get_session().scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError([Problem("username", f"no staff account is named {username!r}")])
    return user


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
    """List staff accounts (disabled ones are marked)."""
    for user in get_session().scalars(select(User).order_by(User.username)):
        state = "" if user.active else "\tdisabled"
        click.echo(f"{user.username}\t{user.role}\t{user.display_name}{state}")


@users_cli.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--department", default=None, help="Department code (for department users).")
def set_role_command(username: str, role: str, department: str | None) -> None:
    """Give an account another role."""
    session = get_session()
    dept = get_or_create_department(session, department, department) if department else None
    change_role(session, _user_named(username), role, None, dept)
    session.commit()
    click.echo(f"{username} is now {role}")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Refuse every login of an account and end its sessions; its history stays."""
    session = get_session()
    disable_user(session, _user_named(username), None)
    session.commit()
    click.echo(f"disabled {username}")


@users_cli.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Let a disabled or locked-out account log in again."""
    session = get_session()
    enable_user(session, _user_named(username), None)
    session.commit()
    click.echo(f"enabled {username}")


@users_cli.command("reset-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def reset_password_command(username: str, password: str) -> None:
    """Set a new password for an account (the policy applies) and lift its lockout."""
    session = get_session()
    reset_password(session, _user_named(username), password, None, reason="minsheng users")
    session.commit()
    click.echo(f"new password set for {username}")


@users_cli.command("remove-two-factor")
@click.argument("username")
def remove_two_factor_command(username: str) -> None:
    """Forget an account's authenticator app (a lost phone); it enrols a new one."""
    session = get_session()
    remove_totp(session, _user_named(username), None)
    session.commit()
    click.echo(f"removed the authenticator app of {username}")
