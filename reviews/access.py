"""Who may take part in a campaign's expert review (issue 11): experts belong to the campaigns
they are assigned to (`campaigns.access` learns it here); the queue and scoring are theirs (and
admins'); annotations come from assigned experts and from the campaign's organizers."""

from __future__ import annotations

from campaigns.access import add_membership, campaign_rule, is_member, runs
from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.accounts.permissions import add_access_rule
from minsheng.db import get_session
from reviews.experts import is_assigned


def reviews(user: User, campaign: Campaign) -> bool:
    """Whether `user` scores `campaign`'s suggestions: an assigned expert, or an admin."""
    return user.role == "admin" or (user.role == "expert" and is_member(user, campaign))


def annotates(user: User, campaign: Campaign) -> bool:
    """Whether `user` may annotate `campaign`'s results: an assigned expert or its organizer."""
    return runs(user, campaign) or reviews(user, campaign)


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
        "campaign:annotate",
        campaign_rule(annotates),
        ("expert", "organizer"),
        allows={"assigned_expert", "owner", "admin"},
    )
