"""Accepting responses: validate against the version, store once per submission id and once per
invitation, and flush so the caller's commit makes it durable before the respondent is thanked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.lifecycle import is_accepting
from campaigns.models import Campaign
from forms.models import QuestionnaireVersion, Response
from forms.publishing import form_of
from forms.validation import validate_answers
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

CHANNELS = ("web", "invitation", "qr", "api", "import")


class IngestError(Exception):
    """The campaign is not taking responses (closed, not yet open, unknown invitation)."""


@dataclass(frozen=True)
class Submission:
    """Where a response came from; everything but the answers."""

    submission_id: str
    channel: str = "web"
    language: str = "zh_CN"
    started_at: datetime | None = None
    invitation_id: int | None = None
    collection_point_id: int | None = None
    target_group_id: int | None = None


def submit_response(
    session: Session,
    campaign: Campaign,
    version: QuestionnaireVersion,
    raw_answers: Mapping[str, Any],
    submission: Submission,
    today: date | None = None,
) -> tuple[Response, bool]:
    """Validate and add one response; return it and whether it is new.

    A second call with the same `submission_id` (double click, retry after a network error)
    returns the stored response instead of adding another. An invitation that already has a
    response is refused. Nothing is committed here: the caller commits, then thanks.
    """
    if not 8 <= len(submission.submission_id) <= 64:
        raise InputError([Problem("submission_id", "expected 8-64 characters")])
    if submission.channel not in CHANNELS:
        raise InputError(
            [
                Problem(
                    "channel",
                    f"unknown channel {submission.channel!r}; "
                    f"expected one of {', '.join(CHANNELS)}",
                )
            ]
        )
    existing = _existing(session, campaign.id, submission.submission_id)
    if existing is not None:
        return existing, False
    if not is_accepting(campaign, today or utcnow().date()):
        raise IngestError(f"campaign {campaign.slug} is not accepting responses")
    if submission.invitation_id is not None and session.scalar(
        select(Response.id).where(Response.invitation_id == submission.invitation_id)
    ):
        raise IngestError("this invitation has already been used to respond")
    answers = validate_answers(form_of(version), raw_answers, submission.language)
    now = utcnow()
    started = submission.started_at
    response = Response(
        campaign_id=campaign.id,
        version_id=version.id,
        submission_id=submission.submission_id,
        invitation_id=submission.invitation_id,
        channel=submission.channel,
        collection_point_id=submission.collection_point_id,
        target_group_id=submission.target_group_id,
        language=submission.language,
        started_at=started,
        submitted_at=now,
        duration_seconds=(now - started).total_seconds() if started else None,
        answers=answers,
    )
    try:
        # A savepoint, so losing a race with a concurrent retry does not poison the transaction.
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        existing = _existing(session, campaign.id, submission.submission_id)
        if existing is None:
            raise IngestError("this invitation has already been used to respond") from None
        return existing, False
    return response, True


def _existing(session: Session, campaign_id: int, submission_id: str) -> Response | None:
    return session.scalar(
        select(Response).where(
            Response.campaign_id == campaign_id, Response.submission_id == submission_id
        )
    )
