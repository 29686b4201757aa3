"""Who may take part in a campaign's expert review (issues 11, 15): experts belong to the
campaigns they are assigned to (`campaigns.access` learns it here) and see only the suggestions
assigned to them; annotations come from assigned experts and the campaign's organizers;
nominations from its organizers and linked departments (单位推荐), never from experts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from campaigns.access import (
    add_membership,
    campaign_rule,
    is_member,
    object_rule,
    runs,
    runs_or_receives,
)
from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.accounts.permissions import add_access_rule
from minsheng.db import get_session
from reviews.experts import is_assigned
from reviews.models import Suggestion


def reviews(user: User, campaign: Campaign) -> bool:
    """Whether `user` scores `campaign`'s suggestions: an assigned expert, or an admin."""
    return user.role == "admin" or (user.role == "expert" and is_member(user, campaign))


def annotates(user: User, campaign: Campaign) -> bool:
    """Whether `user` may annotate `campaign`'s results: an assigned expert or its organizer."""
    return runs(user, campaign) or reviews(user, campaign)


def _suggestion(session: Session, arguments: Mapping[str, Any]) -> Suggestion | None:
    return session.get(Suggestion, int(arguments["suggestion_id"]))


def holds_item(user: User, item: Suggestion) -> bool:
    """An admin, or an expert with an open or done task on the item (blind review: the others
    are not theirs to see)."""
    from reviews.assignment import task_of

    if user.role == "admin":
        return True
    campaign = get_session().get(Campaign, item.campaign_id)
    return (
        user.role == "expert"
        and campaign is not None
        and task_of(get_session(), campaign, user, item.id) is not None
    )


def init_app() -> None:
    """Register the expert membership and the review rules."""
    add_membership("expert", lambda user, campaign: is_assigned(get_session(), campaign, user))
    add_access_rule(
        "campaign:review",
        campaign_rule(reviews),
        ("expert",),
        allows={"assigned_expert", "admin"},
    )
    add_access_rule(
        "review:item",
        object_rule(
            _suggestion,
            lambda item: get_session().get(Campaign, item.campaign_id),
            lambda user, campaign: campaign is not None and reviews(user, campaign),
        ),
        ("expert",),
        allows={"assigned_expert", "admin"},
    )
    add_access_rule(
        "campaign:annotate",
        campaign_rule(annotates),
        ("expert", "organizer"),
        allows={"assigned_expert", "owner", "admin"},
    )
    add_access_rule(
        "campaign:nominate",
        campaign_rule(runs_or_receives),
        ("organizer", "department"),
        allows={"owner", "linked_department", "admin"},
    )
