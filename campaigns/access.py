"""Who may see which campaign: the rules behind `@access("campaign:organizer")` and
`@access("campaign:results")` (issue 11).

- Admins see every campaign.
- Organizers run the campaigns they own or co-organize; a campaign with no owner yet (made
  before owners existed) is open to every organizer.
- Experts see the results of campaigns they are assigned to (the assignment lives in
  `reviews`, a later stage, which registers it with `add_membership`).
- Department users see campaigns linked to their department, and only suppressed outputs
  (`analysis.views.for_viewer`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from minsheng.accounts.models import User
from minsheng.accounts.permissions import add_access_rule

Membership = Callable[[User, Campaign], bool]

_MEMBERSHIPS: dict[str, Membership] = {}


def add_membership(role: str, member: Membership) -> None:
    """Say how a user of `role` belongs to a campaign, for stages after this one (experts are
    assigned in `reviews`)."""
    _MEMBERSHIPS[role] = member


def runs(user: User, campaign: Campaign) -> bool:
    """Whether `user` may run `campaign` as its organizer: admin, owner or co-organizer."""
    if user.role == "admin":
        return True
    if user.role != "organizer":
        return False
    if campaign.owner_id is None:
        return True
    return campaign.owner_id == user.id or any(o.id == user.id for o in campaign.co_organizers)


def sees_results(user: User, campaign: Campaign) -> bool:
    """Whether `user` may read `campaign`'s results (department users: suppressed ones)."""
    if runs(user, campaign):
        return True
    if user.role == "department":
        return user.department_id is not None and any(
            d.id == user.department_id for d in campaign.departments
        )
    member = _MEMBERSHIPS.get(user.role)
    return member is not None and member(user, campaign)


def _campaign_rule(
    check: Callable[[User, Campaign], bool],
) -> Callable[[Any, Mapping[str, Any]], bool]:
    def rule(user: Any, arguments: Mapping[str, Any]) -> bool:
        return check(user, get_campaign_or_404(str(arguments["slug"])))

    return rule


def init_app() -> None:
    """Register the campaign rules by name."""
    add_access_rule("campaign:organizer", _campaign_rule(runs), ("organizer",))
    add_access_rule(
        "campaign:results", _campaign_rule(sees_results), ("organizer", "expert", "department")
    )
