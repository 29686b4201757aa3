"""The registry of feature packages, in pipeline order: the one place the shell names them.

`create_app()` calls each package's `init_app` in this order, `minsheng.models` imports each one's
`models`, and `minsheng.i18n` reads each one's catalog. The shell names packages by string so that
it imports none of them at module level: a package reaches the shell only through its `init_app`.

`COMMANDS` declares the `minsheng` subcommands the packages add, by name, import path and short
help, so that `minsheng --help` lists them without importing a package or building the app
(issue 10); a test checks them against what each `init_app` registers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

FEATURE_PACKAGES = (
    "campaigns",
    "contacts",
    "invitations",
    "forms",
    "analysis",
    "reviews",
    "recommendations",
    "exporters",
    "demo",
)


@dataclass(frozen=True)
class DeclaredCommand:
    """A `minsheng` subcommand known before its module is imported.

    `target` is `"module:attribute"`; `extended_by` names modules that add subcommands to it when
    imported (`forms.cli` adds `campaign load|dump`: loading a file publishes its questionnaire,
    which `campaigns` may not import). `short_help` is what `minsheng --help` prints.
    """

    name: str
    target: str
    short_help: str
    extended_by: tuple[str, ...] = ()

    def load(self) -> click.Command:
        """Import the command and the modules that extend it."""
        module_name, _, attribute = self.target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        for extension in self.extended_by:
            importlib.import_module(extension)
        return command


COMMANDS = (
    DeclaredCommand("users", "minsheng.accounts.cli:users_cli", "Staff accounts."),
    DeclaredCommand(
        "campaign",
        "campaigns.cli:campaign_cli",
        "Campaigns (专项征集).",
        extended_by=("forms.cli",),
    ),
    DeclaredCommand(
        "contacts", "contacts.cli:contacts_cli", "Target lists (名单) and their contacts."
    ),
    DeclaredCommand(
        "invitations",
        "invitations.cli:invitations_cli",
        "Samples, invitation links and their status.",
        extended_by=("invitations.send_cli",),
    ),
    DeclaredCommand("form", "forms.cli:form_cli", "Questionnaires as XLSForm files."),
    DeclaredCommand(
        "reviews",
        "reviews.cli:reviews_cli",
        "Expert review (专家评审) of a campaign's suggestions.",
    ),
    DeclaredCommand(
        "recommendations",
        "recommendations.cli:recommendations_cli",
        "Recommendations: adoption, assignment, escalation (督办), rates.",
    ),
    DeclaredCommand("report", "exporters.cli:report_cli", "Thematic reports (专题报告)."),
    DeclaredCommand(
        "export",
        "exporters.cli:export_command",
        "Export a campaign's responses (CSV, XLSX, SPSS, Stata, Parquet).",
    ),
    DeclaredCommand(
        "demo",
        "demo.cli:demo_command",
        "Load the demo campaign with synthetic responses, an organizer login and its PDF report.",
    ),
)
