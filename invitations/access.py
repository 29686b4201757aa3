"""Who may open a drawn sample (issue 11): the organizers of the sample's campaign."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from campaigns.access import object_rule, runs
from campaigns.models import Campaign
from invitations.models import Sample
from minsheng.accounts.permissions import add_access_rule
from minsheng.db import get_session


def _sample(session: Session, arguments: Mapping[str, Any]) -> Sample | None:
    return session.get(Sample, int(arguments["sample_id"]))


def _campaign(sample: Sample) -> Campaign | None:
    return get_session().get(Campaign, sample.campaign_id)


def init_app() -> None:
    """Register the rule of a sample's page."""
    add_access_rule(
        "sample", object_rule(_sample, _campaign, runs), ("organizer",), allows={"owner", "admin"}
    )
