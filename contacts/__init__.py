"""People to invite: target lists, contact file imports with row errors, personal data encrypted
at rest and masked, opt-outs across campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Registers the target-list pages, the contact import task and the `minsheng contacts`
    commands."""
    from flask_babel import lazy_gettext as _l

    from contacts import access, import_jobs  # noqa: F401 (import_jobs: the Celery task)
    from contacts.cli import contacts_cli
    from contacts.views import bp
    from minsheng.navigation import add_menu_entry

    app.register_blueprint(bp)
    access.init_app()
    app.cli.add_command(contacts_cli)
    add_menu_entry(app, "contacts.lists", _l("Target lists"), order=20)
