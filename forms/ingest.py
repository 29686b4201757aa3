"""Accepting responses: validate against the version, store once per submission id and once per
invitation, and flush so the caller's commit makes it durable before the respondent is thanked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, make_transient_to_detached

from campaigns.lifecycle import is_accepting
from campaigns.models import Campaign
from forms.models import Questionnaire, QuestionnaireVersion, Response
from forms.publishing import form_of
from forms.schema import Form
from forms.validation import validate_answers
from invitations.models import Quota
from invitations.quotas import claim_quota, quota_attributes
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

CHANNELS = ("web", "invitation", "qr", "api", "import")


class IngestError(Exception):
    """The campaign is not taking responses (closed, not yet open, unknown invitation)."""


class QuotaFullError(IngestError):
    """A public-link response whose stratum's quota (配额) is already full."""


class OpenQuestionnaire(NamedTuple):
    """A campaign as the respondent pages and the API need it: its current version (None before
    one is published) and whether it has quotas to claim against."""

    campaign: Campaign
    version: QuestionnaireVersion | None
    has_quotas: bool


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


def open_questionnaire(session: Session, slug: str) -> OpenQuestionnaire | None:
    """The campaign named `slug`, its current version and whether it has quotas, in one query
    (None: no such campaign).

    The version's definition is not loaded: `version_form()` parses it once per process, and a
    response is stored on the hot path without reading it again.
    """
    has_quotas = select(Quota.id).where(Quota.campaign_id == Campaign.id).exists()
    row = session.execute(
        select(Campaign, QuestionnaireVersion, has_quotas)
        .outerjoin(Questionnaire, Questionnaire.campaign_id == Campaign.id)
        .outerjoin(QuestionnaireVersion, QuestionnaireVersion.questionnaire_id == Questionnaire.id)
        .where(Campaign.slug == slug)
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
        .options(defer(QuestionnaireVersion.definition))
    ).first()
    if row is None:
        return None
    return OpenQuestionnaire(row[0], row[1], bool(row[2]))


_FORMS: dict[str, Form] = {}


def version_form(version: QuestionnaireVersion) -> Form:
    """The parsed questionnaire of a version, cached by checksum (versions never change)."""
    form = _FORMS.get(version.checksum)
    if form is None:
        if len(_FORMS) > 512:
            _FORMS.clear()
        form = _FORMS[version.checksum] = form_of(version)
    return form


def submit_response(
    session: Session,
    campaign: Campaign,
    version: QuestionnaireVersion,
    raw_answers: Mapping[str, Any],
    submission: Submission,
    today: date | None = None,
    *,
    has_quotas: bool | None = None,
) -> tuple[Response, bool]:
    """Validate and add one response; return it and whether it is new.

    A second call with the same `submission_id` (double click, retry after a network error)
    returns the stored response instead of adding another, even when the campaign has closed in
    between. An invitation that already has a response is refused. A new response without an
    invitation claims its place in the campaign's quotas (`QuotaFullError` when one is full;
    `has_quotas=False` from `open_questionnaire` skips the lookup). Nothing is committed here:
    the caller commits, then thanks.
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
    try:
        if not is_accepting(campaign, today or utcnow().date()):
            raise IngestError(f"campaign {campaign.slug} is not accepting responses")
        if submission.invitation_id is not None and session.scalar(
            select(Response.id).where(Response.invitation_id == submission.invitation_id)
        ):
            raise IngestError("this invitation has already been used to respond")
        answers = validate_answers(version_form(version), raw_answers, submission.language)
    except (IngestError, InputError):
        # A retry of a stored submission is answered with what was stored; the lookup is only
        # paid on this rare path, not by every new response.
        existing = _existing(session, campaign.id, submission.submission_id)
        if existing is not None:
            return existing, False
        raise
    now = utcnow()
    started = submission.started_at
    values = {
        "campaign_id": campaign.id,
        "version_id": version.id,
        "submission_id": submission.submission_id,
        "invitation_id": submission.invitation_id,
        "channel": submission.channel,
        "collection_point_id": submission.collection_point_id,
        "target_group_id": submission.target_group_id,
        "language": submission.language,
        "started_at": started,
        "submitted_at": now,
        "duration_seconds": (now - started).total_seconds() if started else None,
        "answers": answers,
    }
    try:
        response = _insert(session, values)
    except IntegrityError:
        # Only the one-response-per-invitation constraint is left to fail here.
        raise IngestError("this invitation has already been used to respond") from None
    if response is None:
        existing = _existing(session, campaign.id, submission.submission_id)
        assert existing is not None
        return existing, False
    if submission.invitation_id is None and has_quotas is not False:
        _claim_quotas(session, campaign, answers)
    return response, True


def _claim_quotas(session: Session, campaign: Campaign, answers: Mapping[str, Any]) -> None:
    attributes = quota_attributes(session, campaign)
    if attributes and not claim_quota(
        session, campaign, {name: answers.get(name) for name in attributes}
    ):
        raise QuotaFullError(f"campaign {campaign.slug}: the quota for these answers is full")


def _insert(session: Session, values: dict[str, Any]) -> Response | None:
    """`INSERT ... ON CONFLICT (campaign_id, submission_id) DO NOTHING RETURNING id`: one round
    trip, and a concurrent retry that wins the race leaves nothing to roll back (Warehouse
    retries after IntegrityError on a double click; the database does it for us here)."""
    dialect = session.get_bind().dialect.name
    insert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        response = Response(**values)
        try:
            with session.begin_nested():
                session.add(response)
        except IntegrityError:
            if _existing(session, values["campaign_id"], values["submission_id"]) is None:
                raise
            return None
        return response
    # A statement without literal values is compiled once and cached; the row becomes a
    # persistent `Response` without reading it back.
    statement = (
        insert(Response.__table__)
        .on_conflict_do_nothing(index_elements=["campaign_id", "submission_id"])
        .returning(Response.__table__.c.id)
    )
    new_id = session.execute(statement, values).scalar()
    if new_id is None:
        return None
    response = Response(id=new_id, **values)
    make_transient_to_detached(response)
    session.add(response)
    return response


def _existing(session: Session, campaign_id: int, submission_id: str) -> Response | None:
    return session.scalar(
        select(Response).where(
            Response.campaign_id == campaign_id, Response.submission_id == submission_id
        )
    )
