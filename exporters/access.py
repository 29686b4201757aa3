"""Who may follow and download a campaign's reports and data exports (issue 11): reports are
its organizers' (and admins'); the Exports page is also open to the departments linked to the
campaign, which are offered the anonymised formats only (`export_requests.formats_for`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from campaigns.access import campaign_rule, is_member, object_rule, runs
from campaigns.models import Campaign
from exporters.models import DataExport, Report
from minsheng.accounts.models import User
from minsheng.accounts.permissions import add_access_rule

EXPORTERS = {"owner", "linked_department", "admin"}


def exports_to(user: User, campaign: Campaign | None) -> bool:
    """Whether `user` may use `campaign`'s Exports page: its organizer, or a linked department."""
    if runs(user, campaign):
        return True
    return campaign is not None and user.role == "department" and is_member(user, campaign)


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
        campaign_rule(exports_to),
        ("organizer", "department"),
        allows=EXPORTERS,
    )
    add_access_rule(
        "export",
        object_rule(_export, lambda e: e.campaign, exports_to),
        ("organizer", "department"),
        allows=EXPORTERS,
    )
