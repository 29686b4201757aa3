"""Storing a validated campaign definition, and reading a stored campaign back as one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.definition import CampaignDefinition
from campaigns.models import Campaign, CollectionPoint, TargetGroup
from minsheng.accounts.users import get_or_create_department
from minsheng.audit import record
from minsheng.errors import InputError, Problem
from minsheng.text import unsafe_character
from questionnaire.schema import Form


def store_campaign(
    session: Session, definition: CampaignDefinition, actor_id: int | None = None
) -> Campaign:
    """Create the campaign, or update the one with the same slug (target groups, points and
    departments are matched by code, so ids that responses point to survive a reload)."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == definition.slug))
    created = campaign is None
    if campaign is None:
        campaign = Campaign(slug=definition.slug)
        session.add(campaign)
    campaign.title = definition.title
    campaign.theme = definition.theme
    campaign.description = definition.description
    campaign.starts_on = definition.starts_on
    campaign.ends_on = definition.ends_on
    campaign.status = definition.status
    campaign.anonymous = definition.anonymous
    campaign.settings = definition.settings

    groups = {g.code: g for g in campaign.target_groups}
    for item in definition.target_groups:
        group = groups.get(item["code"]) or TargetGroup(code=item["code"])
        group.name = item["name"]
        group.description = str(item.get("description", ""))
        if group.id is None:
            campaign.target_groups.append(group)
    points = {p.code: p for p in campaign.collection_points}
    for item in definition.collection_points:
        point = points.get(item["code"]) or CollectionPoint(code=item["code"])
        point.name = item["name"]
        point.address = item.get("address", "")
        if point.id is None:
            campaign.collection_points.append(point)
    campaign.departments = [
        get_or_create_department(session, d["code"], d["name"]) for d in definition.departments
    ]
    session.flush()
    record(
        session,
        actor_id,
        "campaign.create" if created else "campaign.update",
        "campaign",
        campaign.id,
        slug=campaign.slug,
    )
    return campaign


def campaign_definition(campaign: Campaign, form: Form | None) -> CampaignDefinition:
    """The definition of a stored campaign with its current questionnaire (for dumping; None
    for a campaign that has none yet, whose settings page edits the rest)."""
    return CampaignDefinition(
        slug=campaign.slug,
        title=dict(campaign.title),
        theme=campaign.theme,
        description=dict(campaign.description),
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        status=campaign.status,
        anonymous=campaign.anonymous,
        target_groups=[
            {
                "code": g.code,
                "name": dict(g.name),
                **({"description": g.description} if g.description else {}),
            }
            for g in campaign.target_groups
        ],
        collection_points=[
            {
                "code": p.code,
                "name": p.name,
                **({"address": p.address} if p.address else {}),
            }
            for p in campaign.collection_points
        ],
        departments=[{"code": d.code, "name": d.name} for d in campaign.departments],
        settings=dict(campaign.settings),
        form=form,
    )


def get_campaign(session: Session, slug: str) -> Campaign | None:
    """The campaign `slug`, or None. A slug from a URL (`%00`) or a request body may hold a NUL
    or a lone surrogate, which no campaign is named with and PostgreSQL refuses in a query."""
    if unsafe_character(slug):
        return None
    return session.scalar(select(Campaign).where(Campaign.slug == slug))


def require_campaign(session: Session, slug: str) -> Campaign:
    """The campaign `slug`, or an `InputError` saying how to list them (commands, tasks; pages
    use `campaigns.web.get_campaign_or_404`)."""
    campaign = get_campaign(session, slug)
    if campaign is None:
        raise InputError(
            [Problem("SLUG", f"no campaign {slug!r}; `minsheng campaign list` shows them")]
        )
    return campaign
