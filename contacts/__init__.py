"""People to invite: target lists, contact file imports with row errors, personal data encrypted
at rest and masked, opt-outs across campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Registers the contact import task and the `minsheng contacts` commands."""
    from contacts import import_jobs  # noqa: F401 (registers the Celery task)
    from contacts.cli import contacts_cli

    app.cli.add_command(contacts_cli)
