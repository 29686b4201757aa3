"""Who may follow and download a campaign's reports and data exports (issue 11): reports are
its organizers' (and admins'); the Exports page is also open to the departments linked to the
campaign, which are offered the anonymised formats only (`export_requests.formats_for`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from campaigns.access import campaign_rule, object_rule, runs, runs_or_receives
from exporters.models import DataExport, Report
from minsheng.accounts.permissions import add_access_rule

EXPORTERS = {"owner", "linked_department", "admin"}


def _report(session: Session, arguments: Mapping[str, Any]) -> Report | None:
    return session.get(Report, int(arguments["report_id"]))


def _export(session: Session, arguments: Mapping[str, Any]) -> DataExport | None:
    return session.get(DataExport, int(arguments["export_id"]))


def init_app() -> None:
    """Register the rules of a report's download, the Exports page and an export's download."""
    add_access_rule(
        "report",
        object_rule(_report, lambda r: r.campaign, runs),
        ("organizer",),
        allows={"owner", "admin"},
    )
    add_access_rule(
        "campaign:exports",
        campaign_rule(runs_or_receives),
        ("organizer", "department"),
        allows=EXPORTERS,
    )
    add_access_rule(
        "export",
        object_rule(_export, lambda e: e.campaign, runs_or_receives),
        ("organizer", "department"),
        allows=EXPORTERS,
    )
