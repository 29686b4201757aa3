"""The campaign of a page's URL, for every stage's views: found by slug, or a 404."""

from __future__ import annotations

from campaigns.models import Campaign
from campaigns.store import get_campaign
from minsheng.db import get_session
from minsheng.web import or_404


def get_campaign_or_404(slug: str, description: str | None = None) -> Campaign:
    """The campaign `slug`; a 404 (HTML or JSON) saying which slug was not found otherwise.

    `description` replaces the message where the slug means nothing to the reader (a
    respondent following a link gets "No such questionnaire.").
    """
    return or_404(get_campaign(get_session(), slug), description or f"No campaign {slug!r}.")
