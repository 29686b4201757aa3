"""Accepting responses: `submit()` is the one way a response gets in (respondent page, drafts,
invitation links, JSON API). It finds the campaign, validates against the version, stores once per
submission id and once per invitation, claims quotas, completes the invitation and commits, so the
response is durable before the respondent is thanked."""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, bindparam, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, make_transient_to_detached

from campaigns.lifecycle import is_accepting
from campaigns.models import Campaign, CollectionPoint
from forms.fingerprints import answers_fingerprint
from forms.models import Draft, Questionnaire, QuestionnaireVersion, Response
from forms.publishing import form_of
from forms.validation import validate_answers
from invitations.models import Invitation, Quota
from invitations.quotas import claim_quota, quota_attributes
from invitations.tokens import mark_completed
from minsheng.caches import BoundedCache
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem
from minsheng.text import unsafe_character

CHANNELS = ("web", "invitation", "qr", "api", "import")
# A client's `started_at` feeds the duration the quality screen judges speeders by: a start in
# the future (past a phone's clock running fast), before the campaign existed (a day's grace for
# time zones) or over a year ago is refused, not stored (issue 11).
CLOCK_SKEW = timedelta(minutes=5)
MAX_RESPONSE_AGE = timedelta(days=366)


class IngestError(Exception):
    """The campaign is not taking responses (closed, not yet open, unknown invitation)."""


class QuotaFullError(IngestError):
    """A public-link response whose stratum's quota (配额) is already full."""


class StaleSnapshotError(Exception):
    """A response was checked against a cached `open_questionnaire` snapshot that the database
    no longer agrees with; look the campaign up again and retry."""


class OpenQuestionnaire(NamedTuple):
    """A campaign as the respondent pages and the API need it: its current version (None before
    one is published), whether it has quotas to claim against, and whether this came from the
    process's short-lived snapshot (`cached`) rather than the database just now."""

    campaign: Campaign
    version: QuestionnaireVersion | None
    has_quotas: bool
    cached: bool = False


# Seconds a process reuses a campaign it looked up, for submissions only (`snapshot=True`).
# Nothing that matters is taken on trust: the INSERT itself re-checks that the campaign exists, is
# open, is within its dates and (when the snapshot says so) has no quotas, and refuses otherwise
# (`StaleSnapshotError`). A version published meanwhile is used from the next lookup on.
SNAPSHOT_SECONDS = 5.0
_SNAPSHOTS: BoundedCache[str, tuple[float, OpenQuestionnaire]] = BoundedCache(
    "campaign lookups for submissions", 1024
)


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
    # `forms.provenance.address_hash` of the client, and whether the honeypot came back filled:
    # such a response is stored (and thanked) like any other, but claims no quota and the
    # quality screen leaves it out (issue 11).
    address_hash: str | None = None
    honeypot: bool = False


def open_questionnaire(
    session: Session, slug: str, *, snapshot: bool = False
) -> OpenQuestionnaire | None:
    """The campaign named `slug`, its current version and whether it has quotas, in one query
    (None: no such campaign).

    The version's definition is not loaded: `forms.publishing.form_of()` parses it once per
    process, and a response is stored on the hot path without reading it again. With
    `snapshot=True` (a submission about to be stored) a lookup made in the last
    `SNAPSHOT_SECONDS` is reused without a query; `submit_response(..., snapshot=True)` then
    checks it inside the INSERT.
    """
    if unsafe_character(slug):
        return None  # no campaign is named so; PostgreSQL would refuse the NUL in the query
    now = time.monotonic()
    if snapshot:
        kept = _SNAPSHOTS.get(slug)
        if kept is not None and now - kept[0] < SNAPSHOT_SECONDS:
            found = kept[1]
            return OpenQuestionnaire(
                session.merge(found.campaign, load=False),
                session.merge(found.version, load=False) if found.version else None,
                found.has_quotas,
                cached=True,
            )
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
        _SNAPSHOTS.discard(slug)
        return None
    found = OpenQuestionnaire(row[0], row[1], bool(row[2]))
    _SNAPSHOTS.put(
        slug,
        (
            now,
            OpenQuestionnaire(
                _detached_copy(found.campaign, ()),
                _detached_copy(found.version, ("definition",)) if found.version else None,
                found.has_quotas,
            ),
        ),
    )
    return found


_Row = TypeVar("_Row", Campaign, QuestionnaireVersion)


def _detached_copy(row: _Row, skip: tuple[str, ...]) -> _Row:
    """A copy of `row`'s columns that belongs to no session, so nothing done to the request's
    session (a rollback expiring its objects) reaches the cache."""
    values = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}
    copy = type(row)(**values)
    make_transient_to_detached(copy)
    return copy


def collection_point_of(
    session: Session, campaign: Campaign, code: str | None
) -> CollectionPoint | None:
    """The campaign's collection point (征集点位) with this code, or None (also for an unknown
    code: a mistyped poster link still gets its response stored, as `web`)."""
    if not code or unsafe_character(code):
        return None
    return session.scalar(
        select(CollectionPoint).where(
            CollectionPoint.campaign_id == campaign.id, CollectionPoint.code == code
        )
    )


def forget_snapshot(slug: str) -> None:
    """Drop the cached lookup of `slug` (after a `StaleSnapshotError`)."""
    _SNAPSHOTS.discard(slug)


class Outcome(enum.Enum):
    """What became of a submission; each way in renders it its own way (page, JSON)."""

    STORED = "stored"  # a new response, committed
    REPEATED = "repeated"  # this submission id was stored before: nothing new
    INVALID = "invalid"  # `Submitted.problems` says what to fix; nothing stored
    CLOSED = "closed"  # not taking responses, or the invitation has already answered
    QUOTA_FULL = "quota_full"  # the public-link quota (配额) of these answers is full
    NOT_FOUND = "not_found"  # no such campaign, or it has no questionnaire yet


@dataclass(frozen=True)
class Submitted:
    """The result of `submit()`: the outcome, the stored response (STORED, REPEATED), the version
    the answers were checked against, every problem (INVALID) or why it was refused."""

    outcome: Outcome
    response: Response | None = None
    version: QuestionnaireVersion | None = None
    problems: tuple[Problem, ...] = ()
    message: str = ""

    @property
    def accepted(self) -> bool:
        """True when the response is stored and committed (new or from an earlier try)."""
        return self.outcome in (Outcome.STORED, Outcome.REPEATED)


def submit(
    session: Session,
    slug: str,
    answers: Mapping[str, Any],
    submission: Submission,
    *,
    draft: Draft | None = None,
    point_code: str | None = None,
    found: OpenQuestionnaire | None = None,
) -> Submitted:
    """Store one response to the campaign `slug` and commit it: the submit protocol of every way
    in (respondent page, draft, invitation link, JSON API), so they cannot drift apart.

    It looks the campaign up (a snapshot of the last seconds when nothing but the answers is at
    stake; `found` is the caller's own lookup of this request), validates against the current
    version (a draft's own version when `draft` is given), stores once per `submission_id`,
    claims the public-link quota, marks the invitation completed and commits before returning,
    so an accepted response is durable before anyone is thanked. A refusal by the database of a
    snapshot (closed meanwhile, a quota added, a collection point unknown to it) is retried once
    with a fresh lookup. Anything else fails as a whole: whatever it wrote is rolled back, so
    call it with nothing pending but the draft's answers. `draft` is settled in the same transaction
    (see `_settle_draft`). `point_code` (the API's `collection_point`) must name one of the
    campaign's collection points; the page resolves its `?p=` itself, an unknown one being `web`.

    Respondents' submits are not audited: in an anonymous campaign the audit log would link a
    response to a moment and a client, which the response itself does not keep.
    """
    if draft is not None and found is not None and found.cached:
        found = None  # a retry rolls back, and the draft's answers must not go with it
    try:
        return _submit_once(session, slug, answers, submission, draft, point_code, found)
    except StaleSnapshotError:
        session.rollback()
        forget_snapshot(slug)
        fresh = open_questionnaire(session, slug)
        return _submit_once(session, slug, answers, submission, draft, point_code, fresh)


def _submit_once(
    session: Session,
    slug: str,
    answers: Mapping[str, Any],
    submission: Submission,
    draft: Draft | None,
    point_code: str | None,
    found: OpenQuestionnaire | None,
) -> Submitted:
    if found is None:
        found = open_questionnaire(session, slug, snapshot=draft is None)
    if found is None:
        return Submitted(Outcome.NOT_FOUND, message=f"no campaign {slug!r} with a questionnaire")
    version = found.version
    if draft is not None and (version is None or version.id != draft.version_id):
        version = session.get(QuestionnaireVersion, draft.version_id)
    if version is None:
        return Submitted(Outcome.NOT_FOUND, message=f"no campaign {slug!r} with a questionnaire")
    campaign = found.campaign
    if point_code is not None:
        point = collection_point_of(session, campaign, point_code)
        if point is None and found.cached:
            raise StaleSnapshotError(slug)  # the point may be newer than the cached campaign
        if point is None:
            problem = unknown_point(session, campaign, point_code)
            return Submitted(Outcome.INVALID, version=version, problems=(problem,))
        submission = replace(submission, collection_point_id=point.id)
    try:
        response, new = submit_response(
            session,
            campaign,
            version,
            answers,
            submission,
            has_quotas=found.has_quotas,
            snapshot=found.cached,
        )
        if draft is not None:
            _settle_draft(session, campaign, draft, response)
        if new and submission.invitation_id is not None:
            _complete_invitation(session, submission.invitation_id)
        session.commit()
    except InputError as exc:
        if draft is not None:
            session.rollback()  # the draft's answers may have been flushed with a lookup
        # Otherwise nothing was written (answers are checked before any write), so there is
        # nothing to roll back; rolling back would only expire the campaign and version that
        # the page is about to render again, and reload them (issue 10, point 7).
        return Submitted(Outcome.INVALID, version=version, problems=tuple(exc.problems))
    except QuotaFullError as exc:
        session.rollback()
        return Submitted(Outcome.QUOTA_FULL, version=version, message=str(exc))
    except IngestError as exc:
        session.rollback()
        return Submitted(Outcome.CLOSED, version=version, message=str(exc))
    return Submitted(Outcome.STORED if new else Outcome.REPEATED, response, version)


def unknown_point(session: Session, campaign: Campaign, code: str) -> Problem:
    """The problem with a `collection_point` code the campaign does not have: it lists those it
    has, so the caller can fix the code."""
    codes = session.scalars(
        select(CollectionPoint.code).where(CollectionPoint.campaign_id == campaign.id)
    ).all()
    return Problem(
        "collection_point",
        f"unknown code {code!r}; this campaign has {', '.join(codes) or 'none'}",
    )


def _settle_draft(session: Session, campaign: Campaign, draft: Draft, response: Response) -> None:
    """The draft keeps only the link to its response: the answers live in one place, and a
    repeated submit of the same draft finds the response already stored."""
    session.flush()
    if campaign.anonymous and draft.invitation_id is not None:
        # The draft ties the invitation (a contact) to the submission: in an anonymous campaign
        # it goes, so nothing stored links the response back to the person.
        session.delete(draft)
    else:
        draft.response_id = response.id
        draft.answers = {}


def _complete_invitation(session: Session, invitation_id: int) -> None:
    """Mark the invitation completed in the response's transaction; of two racing submits
    through one link only one gets here first (`mark_completed` is a conditional UPDATE)."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or not mark_completed(session, invitation):
        raise IngestError("this invitation has already been used to respond")


def submit_response(
    session: Session,
    campaign: Campaign,
    version: QuestionnaireVersion,
    raw_answers: Mapping[str, Any],
    submission: Submission,
    today: date | None = None,
    *,
    has_quotas: bool | None = None,
    snapshot: bool = False,
) -> tuple[Response, bool]:
    """Validate and add one response; return it and whether it is new.

    A second call with the same `submission_id` (double click, retry after a network error)
    returns the stored response instead of adding another, even when the campaign has closed in
    between. An invitation that already has a response is refused. A new response without an
    invitation claims its place in the campaign's quotas (`QuotaFullError` when one is full;
    `has_quotas=False` from `open_questionnaire` skips the lookup). Nothing is committed here:
    the caller commits, then thanks.

    The INSERT only happens while the campaign is open (checked by the database in the same
    statement), so a campaign closed a moment ago takes no response. With `snapshot=True`
    (`campaign` came from `open_questionnaire`'s cache) a refusal raises `StaleSnapshotError` for
    the caller to look the campaign up again and retry.
    """
    if not 8 <= len(submission.submission_id) <= 64:
        raise InputError([Problem("submission_id", "expected 8-64 characters")])
    if unsafe_character(submission.submission_id):
        raise InputError(
            [Problem("submission_id", unsafe_character(submission.submission_id) or "")]
        )
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
    # An anonymous campaign keeps no link from a response back to the invitation (a contact):
    # the invitation alone records "completed", and the caller's `mark_completed` is what
    # allows one response per invitation there.
    linked_invitation = None if campaign.anonymous else submission.invitation_id
    try:
        if not is_accepting(campaign, today or utcnow().date()):
            if snapshot:
                raise StaleSnapshotError(campaign.slug)  # perhaps reopened since: look again
            raise IngestError(f"campaign {campaign.slug} is not accepting responses")
        if linked_invitation is not None and session.scalar(
            select(Response.id).where(Response.invitation_id == linked_invitation)
        ):
            raise IngestError("this invitation has already been used to respond")
        answers = _checked_answers(campaign, version, raw_answers, submission)
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
        "invitation_id": linked_invitation,
        "channel": submission.channel,
        "collection_point_id": submission.collection_point_id,
        "target_group_id": submission.target_group_id,
        "language": submission.language,
        "started_at": started,
        "submitted_at": now,
        "duration_seconds": (now - started).total_seconds() if started else None,
        "answers": answers,
        "address_hash": submission.address_hash,
        "answers_fingerprint": answers_fingerprint(answers),
        "honeypot": submission.honeypot,
    }
    no_quotas = submission.invitation_id is None and has_quotas is False
    try:
        response = _insert(session, values, today or now.date(), no_quotas)
    except IntegrityError:
        # Only the one-response-per-invitation constraint is left to fail here.
        raise IngestError("this invitation has already been used to respond") from None
    if response is None:
        existing = _existing(session, campaign.id, submission.submission_id)
        if existing is not None:
            return existing, False
        if snapshot:
            raise StaleSnapshotError(campaign.slug)
        raise IngestError(f"campaign {campaign.slug} is not accepting responses")
    if submission.invitation_id is None and has_quotas is not False and not submission.honeypot:
        _claim_quotas(session, campaign, answers)
    return response, True


def _checked_answers(
    campaign: Campaign,
    version: QuestionnaireVersion,
    raw_answers: Mapping[str, Any],
    submission: Submission,
) -> dict[str, Any]:
    """The validated answers, or every problem with them and with `started_at` at once."""
    problems = [p for p in [_started_problem(campaign, submission.started_at)] if p]
    try:
        answers = validate_answers(form_of(version), raw_answers, submission.language)
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    if problems:
        raise InputError(problems)
    return answers


def _started_problem(campaign: Campaign, started: datetime | None) -> Problem | None:
    if started is None:
        return None
    now = utcnow()
    opened = (
        datetime.combine(campaign.starts_on, datetime.min.time(), UTC)
        if campaign.starts_on is not None
        else (campaign.created_at or now).replace(tzinfo=UTC)
    )
    earliest = max(opened - timedelta(days=1), now - MAX_RESPONSE_AGE)
    latest = now + CLOCK_SKEW
    moment = started if started.tzinfo else started.replace(tzinfo=UTC)
    if earliest <= moment <= latest:
        return None
    return Problem(
        "started_at",
        f"got {started.isoformat()}; expected a time between {earliest:%Y-%m-%d %H:%M} and "
        f"{latest:%Y-%m-%d %H:%M} UTC (not before the campaign began, nor in the future)",
    )


def _claim_quotas(session: Session, campaign: Campaign, answers: Mapping[str, Any]) -> None:
    attributes = quota_attributes(session, campaign)
    if attributes and not claim_quota(
        session, campaign, {name: answers.get(name) for name in attributes}
    ):
        raise QuotaFullError(f"campaign {campaign.slug}: the quota for these answers is full")


def _insert(
    session: Session, values: dict[str, Any], today: date, no_quotas: bool
) -> Response | None:
    """`INSERT ... SELECT <values> WHERE <campaign open> ON CONFLICT (campaign_id, submission_id)
    DO NOTHING RETURNING id`: one round trip that also re-checks the campaign, and a concurrent
    retry that wins the race leaves nothing to roll back (Warehouse retries after IntegrityError
    on a double click; the database does it for us here). None: nothing was inserted."""
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
    statement = _STATEMENTS.get_or_compute(
        (dialect, tuple(values), no_quotas),
        lambda: _conditional_insert(insert, dialect, list(values), no_quotas),
    )
    new_id = session.execute(statement, {**values, "today": today}).scalar()
    if new_id is None:
        return None
    response = Response(id=new_id, **values)
    make_transient_to_detached(response)
    session.add(response)
    return response


# One per dialect, set of columns and quota check: a handful in any process.
_STATEMENTS: BoundedCache[tuple[str, tuple[str, ...], bool], Any] = BoundedCache(
    "response INSERT statements", 64
)


def _conditional_insert(insert: Any, dialect: str, names: list[str], no_quotas: bool) -> Any:
    """Built once per shape and reused, so SQLAlchemy's compiled cache answers every time."""
    table = Response.__table__
    params: list[ColumnElement[Any]] = [bindparam(k, type_=table.c[k].type) for k in names]
    if dialect == "postgresql":
        # A SELECT list does not take its types from the INSERT's columns: name them.
        params = [cast(bindparam(k, type_=table.c[k].type), table.c[k].type) for k in names]
    row = select(*params).where(
        select(Campaign.id)
        .where(
            Campaign.id == bindparam("campaign_id"),
            Campaign.status == "open",
            or_(Campaign.starts_on.is_(None), Campaign.starts_on <= bindparam("today")),
            or_(Campaign.ends_on.is_(None), Campaign.ends_on >= bindparam("today")),
        )
        .exists()
    )
    if no_quotas:
        row = row.where(
            ~select(Quota.id).where(Quota.campaign_id == bindparam("campaign_id")).exists()
        )
    return (
        insert(table)
        .from_select(names, row)
        .on_conflict_do_nothing(index_elements=["campaign_id", "submission_id"])
        .returning(table.c.id)
    )


def _existing(session: Session, campaign_id: int, submission_id: str) -> Response | None:
    return session.scalar(
        select(Response).where(
            Response.campaign_id == campaign_id, Response.submission_id == submission_id
        )
    )
