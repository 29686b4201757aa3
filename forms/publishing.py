"""Publishing questionnaires: a changed definition becomes a new version; versions with responses
are never edited in place."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.definition import CampaignDefinition, read_campaign_file
from campaigns.models import Campaign
from campaigns.store import store_campaign
from forms.models import Questionnaire, QuestionnaireVersion
from forms.schema import Form, form_to_dict, parse_form


def definition_checksum(definition: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def publish_form(session: Session, campaign: Campaign, form: Form) -> QuestionnaireVersion:
    """Make `form` the campaign's current questionnaire.

    An identical definition reuses the current version; any change creates version n+1, so every
    stored response keeps pointing at the exact questions it answered.
    """
    questionnaire = session.scalar(
        select(Questionnaire).where(Questionnaire.campaign_id == campaign.id)
    )
    if questionnaire is None:
        questionnaire = Questionnaire(campaign_id=campaign.id)
        session.add(questionnaire)
        session.flush()
    definition = form_to_dict(form)
    checksum = definition_checksum(definition)
    current = current_version(session, campaign)
    if current is not None and current.checksum == checksum:
        return current
    version = QuestionnaireVersion(
        questionnaire_id=questionnaire.id,
        number=(current.number if current else 0) + 1,
        definition=definition,
        checksum=checksum,
    )
    session.add(version)
    session.flush()
    return version


def current_version(session: Session, campaign: Campaign) -> QuestionnaireVersion | None:
    return session.scalar(
        select(QuestionnaireVersion)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.campaign_id == campaign.id)
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
    )


def form_of(version: QuestionnaireVersion) -> Form:
    """The parsed `Form` of a stored version (cached: versions are immutable)."""
    return _parse_cached(version.checksum, json.dumps(version.definition, sort_keys=True))


@lru_cache(maxsize=256)
def _parse_cached(_checksum: str, definition_json: str) -> Form:
    return parse_form(json.loads(definition_json), source="stored questionnaire")


def load_campaign(
    session: Session, definition: CampaignDefinition, actor_id: int | None = None
) -> tuple[Campaign, QuestionnaireVersion]:
    """Store a campaign and publish its questionnaire (the caller commits both at once)."""
    campaign = store_campaign(session, definition, actor_id)
    return campaign, publish_form(session, campaign, definition.form)


def load_campaign_file(
    session: Session, path: str, actor_id: int | None = None
) -> tuple[Campaign, QuestionnaireVersion]:
    """Read, validate, store and publish a campaign file; nothing is written if it has errors."""
    return load_campaign(session, read_campaign_file(path), actor_id)
