"""Who may see which campaign: the rules behind `@access("campaign:organizer")` and
`@access("campaign:results")` (issue 11), and `object_rule` for the later stages' objects.

- Admins see every campaign.
- Organizers run the campaigns they own or co-organize; a campaign with no owner yet (made
  before owners existed) is open to every organizer.
- Experts see the results of campaigns they are assigned to (the assignment lives in
  `reviews`, a later stage, which registers it with `add_membership`).
- Department users see campaigns linked to their department, and only suppressed outputs
  (`analysis.views.for_viewer`).
- An object under a campaign (a report, a recommendation, a contact list...) is seen by whom its
  campaign allows; a department sees only its own (`object_rule`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import abort
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from minsheng.accounts.models import User
from minsheng.accounts.permissions import Rule, add_access_rule
from minsheng.db import get_session

T = TypeVar("T")
Membership = Callable[[User, Campaign], bool]

_MEMBERSHIPS: dict[str, Membership] = {}


def add_membership(role: str, member: Membership) -> None:
    """Say how a user of `role` belongs to a campaign, for stages after this one (experts are
    assigned in `reviews`)."""
    _MEMBERSHIPS[role] = member


def runs(user: User, campaign: Campaign | None) -> bool:
    """Whether `user` may run `campaign` as its organizer: admin, owner or co-organizer. No
    campaign (a contact list kept for every campaign) is run by every organizer."""
    if user.role == "admin":
        return True
    if user.role != "organizer":
        return False
    if campaign is None or campaign.owner_id is None:
        return True
    return campaign.owner_id == user.id or any(o.id == user.id for o in campaign.co_organizers)


def is_member(user: User, campaign: Campaign) -> bool:
    """Whether `user` belongs to `campaign` through their role's link: an assigned expert, a
    linked department."""
    if user.role == "department":
        return user.department_id is not None and any(
            d.id == user.department_id for d in campaign.departments
        )
    member = _MEMBERSHIPS.get(user.role)
    return member is not None and member(user, campaign)


def sees_results(user: User, campaign: Campaign | None) -> bool:
    """Whether `user` may read `campaign`'s results (department users: suppressed ones)."""
    if runs(user, campaign):
        return True
    return campaign is not None and is_member(user, campaign)


def runs_or_receives(user: User, campaign: Campaign | None) -> bool:
    """Whether `user` runs `campaign` or is a department linked to it (it receives the campaign):
    who follows its recommendations up and uses its Exports page; assigned experts do neither."""
    if runs(user, campaign):
        return True
    return campaign is not None and user.role == "department" and is_member(user, campaign)


def campaign_rule(check: Callable[[User, Campaign], bool]) -> Rule:
    """A rule asking `check` about the campaign of the URL's ``slug`` (404 if there is none)."""

    def rule(user: Any, arguments: Mapping[str, Any]) -> bool:
        return check(user, get_campaign_or_404(str(arguments["slug"])))

    return rule


def object_rule(
    find: Callable[[Session, Mapping[str, Any]], T | None],
    campaign_of: Callable[[T], Campaign | None],
    check: Callable[[User, Campaign | None], bool],
    *,
    department_has: Callable[[User, T], bool] | None = None,
) -> Rule:
    """A rule about the object a URL names by id: `find` it (404 if missing, or if the URL's
    ``slug`` is not its campaign's), then `check` the user against its campaign (None: an object
    of no campaign); a department user must also hold it (`department_has`), or gets the 404 a
    missing one gives, so nothing is learnt of other departments' work."""

    def rule(user: Any, arguments: Mapping[str, Any]) -> bool:
        found = find(get_session(), arguments)
        campaign = campaign_of(found) if found is not None else None
        slug = arguments.get("slug")
        if found is None or (slug is not None and (campaign is None or campaign.slug != slug)):
            abort(404, description="No such page in this campaign.")
        if not check(user, campaign):
            return False
        hidden = department_has is not None and not department_has(user, found)
        if user.role == "department" and hidden:
            abort(404, description="No such page in this campaign.")
        return True

    return rule


def init_app() -> None:
    """Register the campaign rules by name."""
    add_access_rule(
        "campaign:organizer", campaign_rule(runs), ("organizer",), allows={"owner", "admin"}
    )
    add_access_rule(
        "campaign:results",
        campaign_rule(sees_results),
        ("organizer", "expert", "department"),
        allows={"owner", "assigned_expert", "linked_department", "admin"},
    )
