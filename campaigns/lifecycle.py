"""Campaign states and the transitions between them."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.audit import record
from minsheng.errors import InputError, Problem

STATUSES = ("draft", "open", "closed", "archived")

# A campaign is drafted, opened to respondents, closed, and finally archived; a closed campaign
# may be reopened (a deadline extension), an archived one never.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("open",),
    "open": ("closed",),
    "closed": ("open", "archived"),
    "archived": (),
}


class LifecycleError(InputError):
    """A status change the lifecycle does not allow (exit status 2 on the CLI, 422 on the API)."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("status", message)])


def change_status(session: Session, campaign: Campaign, new: str, actor_id: int | None) -> None:
    """Move `campaign` to `new`, or raise `LifecycleError` naming the allowed next states."""
    if new not in STATUSES:
        raise LifecycleError(f"unknown status {new!r}; expected one of {', '.join(STATUSES)}")
    allowed = TRANSITIONS[campaign.status]
    if new not in allowed:
        raise LifecycleError(
            f"campaign {campaign.slug} is {campaign.status}; it can move to "
            f"{', '.join(allowed) or 'no other status'}, not {new}"
        )
    record(
        session,
        actor_id,
        "campaign.status",
        "campaign",
        campaign.id,
        before=campaign.status,
        after=new,
    )
    campaign.status = new


def is_accepting(campaign: Campaign, today: date) -> bool:
    """Responses are accepted while the campaign is open and `today` is inside its dates."""
    if campaign.status != "open":
        return False
    if campaign.starts_on and today < campaign.starts_on:
        return False
    return not (campaign.ends_on and today > campaign.ends_on)
