"""The campaign of a page's URL, for every stage's views: found by slug, or a 404; and its title
in the viewer's language, for views and templates alike (`campaign_title`)."""

from __future__ import annotations

from flask import g

from campaigns.models import Campaign
from campaigns.store import get_campaign
from minsheng.db import get_session
from minsheng.web import label_language, or_404

FOUND = "campaigns_by_slug"


def get_campaign_or_404(slug: str, description: str | None = None) -> Campaign:
    """The campaign `slug`; a 404 (HTML or JSON) saying which slug was not found otherwise.

    `description` replaces the message where the slug means nothing to the reader (a
    respondent following a link gets "No such questionnaire.").

    Found once per session: the route's access rule, the view and every campaign tab's rule
    ask for it on one page (eleven queries by slug on a results page otherwise). A campaign
    no longer in the session (rolled back, deleted) is looked up again.
    """
    session = get_session()
    found: dict[str, Campaign] = g.setdefault(FOUND, {})
    campaign = found.get(slug)
    if campaign is None or campaign not in session or campaign.slug != slug:
        campaign = or_404(get_campaign(session, slug), description or f"No campaign {slug!r}.")
        found[slug] = campaign
    return campaign


def campaign_title(campaign: Campaign) -> str:
    """The campaign's title in the language of this page (`label_language`), Chinese when it has
    none in it. A template global too (`campaigns.init_app`): `{{ campaign_title(campaign) }}`."""
    return campaign.title_in(label_language())
