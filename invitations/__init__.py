"""Contacts, target lists, sampling, invitation links, channels and sending."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers this package's blueprints, tasks, CLI and beat entries."""
    from invitations.cli import contacts_cli, invitations_cli
    from invitations.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(contacts_cli)
    app.cli.add_command(invitations_cli)
