"""The campaign file from the browser: download a campaign as the YAML file `minsheng campaign
dump` writes, upload one as `minsheng campaign load` reads it, and start a campaign as a copy of
an earlier one. The pages and the CLI share `parse_campaign` and `load_campaign`."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from campaigns.access import runs
from campaigns.definition import (
    SLUG_PATTERN,
    CampaignDefinition,
    definition_to_dict,
    dump_yaml,
    parse_campaign_text,
)
from campaigns.models import Campaign
from campaigns.store import campaign_definition, get_campaign, store_campaign
from forms.publishing import current_version, form_of, publish_form
from minsheng.accounts.models import User
from minsheng.errors import InputError, Problem
from questionnaire.schema import form_to_dict


def campaign_file_text(session: Session, campaign: Campaign) -> str:
    """The campaign file of `campaign` with its current questionnaire (none yet: the file has
    no `questionnaire` and is completed in the editor before it can be loaded by the CLI)."""
    version = current_version(session, campaign)
    form = form_of(version) if version is not None else None
    definition = campaign_definition(campaign, form)
    return dump_yaml(definition_to_dict(definition, form_to_dict(form) if form else {}))


def import_campaign_text(
    session: Session, text: str, name: str, actor: User
) -> tuple[Campaign, bool]:
    """Create or update the campaign an uploaded file describes, with its questionnaire; returns
    the campaign and whether it is new (then `actor` owns it).

    The file's `status` must be the campaign's own (`draft` for a new one): statuses change on
    the Status page, whose checks and confirmation a file must not skip. A campaign `actor` does
    not run is refused by slug, as the CLI would need an operator."""
    definition = parse_campaign_text(text, name)
    existing = get_campaign(session, definition.slug)
    if existing is not None and not runs(actor, existing):
        raise InputError(
            [Problem(f"{name}: slug", f"{definition.slug!r} is a campaign you do not run")]
        )
    expected = existing.status if existing is not None else "draft"
    if definition.status != expected:
        raise InputError(
            [
                Problem(
                    f"{name}: status",
                    f"the file says {definition.status}, the campaign is {expected}; statuses "
                    "change on the campaign's Status page",
                )
            ]
        )
    campaign = _store(session, definition, actor)
    if existing is None:
        campaign.owner = actor
        session.flush()
    return campaign, existing is None


def duplicate_campaign(
    session: Session, source: Campaign, slug: str, title_zh: str, actor: User
) -> Campaign:
    """A new draft campaign with everything `source` has (settings, groups, points, departments,
    current questionnaire as its version 1) but its responses, invitations and reviews; `actor`
    owns it."""
    problems = []
    if not SLUG_PATTERN.match(slug):
        problems.append(
            Problem("slug", f"got {slug!r}; expected 3-80 lowercase letters, digits and hyphens")
        )
    elif get_campaign(session, slug) is not None:
        problems.append(Problem("slug", f"{slug!r} is already another campaign's"))
    if not title_zh.strip():
        problems.append(Problem("title_zh", "missing; give the copy's title in Chinese"))
    if problems:
        raise InputError(problems)
    version = current_version(session, source)
    definition = campaign_definition(source, form_of(version) if version else None)
    copy = dataclasses.replace(
        definition,
        slug=slug,
        status="draft",
        title={**definition.title, "zh": title_zh.strip()},
    )
    campaign = _store(session, copy, actor)
    campaign.owner = actor
    session.flush()
    return campaign


def _store(session: Session, definition: CampaignDefinition, actor: User) -> Campaign:
    campaign = store_campaign(session, definition, actor_id=actor.id)
    if definition.form is not None:
        publish_form(session, campaign, definition.form, actor_id=actor.id)
    return campaign
