"""Sending invitations and reminders: which invitations still need their first message, the batch
loop that hands each message to a channel at most once, and the outcome of every step
(`Delivery`). Rate limits live in `invitations.ratelimits`, reminder planning in
`invitations.reminders`.

At most once. A step is claimed by inserting its unique (invitation, step) row as `sending`,
committed at the channel's hand-over point, the last moment before the message cannot be taken
back (for SMTP: the server has all of it but the final dot, which delivers it); it becomes `sent`
(or `bounced`, `failed`, `retry`) after. A worker that dies before the hand-over leaves neither a
row nor a message, so the next run sends the step. A task that is run again (retry, or
redelivery after a worker died) skips every step that has a row, except `retry` ones. A row still
`sending` cannot tell whether the message left before the worker died, so it is never sent
again: `resolve_stale` (or `resolve_abandoned`, when the batch is taken over) turns it into
`uncertain` and the funnel counts it as sent. We accept losing a message to a death in that one
write after the hand-over over sending a person the same message twice (Celery docs, "Should I
use retry or acks_late?").
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from contacts.lists import contact_details, not_opted_out
from contacts.models import Contact
from contacts.pii import PIIKeys
from invitations.channels import (
    CHANNEL_NAMES,
    Channel,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
)
from invitations.lifecycle import BOUNCED, NO_MORE_MESSAGES, SENT, advance_many
from invitations.messages import (
    MESSAGE_LANGUAGES,
    MessageError,
    campaign_sending_settings,
    message_context,
    render_message,
)
from invitations.models import Delivery, Invitation
from invitations.optout import opt_out_url, pixel_url
from invitations.ratelimits import DEFAULT_RATES, RateLimiter
from invitations.tokens import invitation_url, issue_tokens
from minsheng.db import utcnow

BATCH_SIZE = 200
MAX_ATTEMPTS = 6
STALE_AFTER = timedelta(minutes=15)


def channel_rate(campaign: Campaign, channel: str) -> float:
    """Messages per second for `channel`: `settings.sending.rate_per_second.<channel>` of the
    campaign file, else `DEFAULT_RATES`."""
    rates = campaign_sending_settings(campaign).get("rate_per_second") or {}
    return float(rates.get(channel, DEFAULT_RATES[channel]))


def _check_channel(channel: str) -> None:
    if channel not in CHANNEL_NAMES:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNEL_NAMES)}")


def _address_column(channel: str) -> Any:
    return Contact.email_enc if channel == "email" else Contact.phone_enc


def _reachable(campaign_id: int, channel: str, now: datetime) -> Select[Any]:
    """Invitations of the campaign whose contact has an address for `channel`, did not opt out,
    has not answered and whose link has not expired."""
    return (
        select(Invitation.id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(
            Invitation.campaign_id == campaign_id,
            Invitation.status.not_in(NO_MORE_MESSAGES),
            (Invitation.expires_at.is_(None)) | (Invitation.expires_at > now),
            _address_column(channel).is_not(None),
            not_opted_out(),
        )
    )


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    """`ids` cut into lists of at most `size`, in order: one Celery task each."""
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def plan_first_messages(
    session: Session,
    campaign: Campaign,
    channel: str,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
) -> list[list[int]]:
    """Batches of invitation ids that have not had their invitation message (step 0) yet."""
    _check_channel(channel)
    now = now or utcnow()
    sent = select(Delivery.id).where(Delivery.invitation_id == Invitation.id, Delivery.step == 0)
    query = _reachable(campaign.id, channel, now).where(~sent.exists()).order_by(Invitation.id)
    return batches(list(session.scalars(query)), batch_size)


@dataclass
class BatchResult:
    """What one batch did. `retry` holds invitations to try again later (temporary failures,
    and those not reached after the channel asked us to slow down); `retry_after` is the
    longest wait the channel asked for."""

    sent: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    retry: list[int] = field(default_factory=list)
    retry_after: float | None = None


@dataclass(frozen=True)
class SendContext:
    """Everything a batch needs besides the session: the channel, the limiter and the pieces of
    configuration that go into links."""

    channel: Channel
    limiter: RateLimiter
    base_url: str
    secret: str
    keys: PIIKeys
    track_opens: bool = True


DELIVERIES = cast(Table, Delivery.__table__)
# The statements of the per-message loop, as Core statements built once: through the ORM their
# construction and parameter handling cost more in Python than the database spends on them
# (issue 10: sending at the sink's speed). Parameters named after columns fill those columns.
_RETAKE = (
    update(DELIVERIES)
    .where(
        DELIVERIES.c.invitation_id == bindparam("b_invitation"),
        DELIVERIES.c.step == bindparam("b_step"),
        DELIVERIES.c.state == "retry",
    )
    .values(state="sending", attempts=DELIVERIES.c.attempts + 1)
    .returning(DELIVERIES.c.id)
)
_SETTLE = update(DELIVERIES).where(DELIVERIES.c.id == bindparam("b_id"))


@lru_cache(maxsize=2)
def _claim_statement(dialect: str) -> Any:
    # The dialect modules cost a tenth of a second at import; only a sender needs them.
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        dialect_insert(DELIVERIES)
        .on_conflict_do_nothing(index_elements=["invitation_id", "step"])
        .returning(DELIVERIES.c.id)
    )


def _claim_values(invitation: Invitation, step: int, channel: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "invitation_id": invitation.id,
        "campaign_id": invitation.campaign_id,
        "step": step,
        "channel": channel,
        "state": "sending",
        "attempts": 1,
        "error": "",
        "provider_id": "",
        "segments": 0,
        "created_at": now,
        "updated_at": now,
    }


@lru_cache(maxsize=16)
def _driver_statement(
    statement: Any, keys: tuple[str, ...], dialect: Any
) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """`statement` compiled for the driver itself, with the bind processors of its parameters
    (a `UTCDateTime` checks and converts its value), for `_pipelined`."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    processors = tuple(
        (name, processor)
        for name, bind in compiled.binds.items()
        if (processor := bind.type.bind_processor(dialect)) is not None
    )
    return compiled.string, processors


def _driver_params(statement: Any, values: dict[str, Any], dialect: Any) -> tuple[str, Any]:
    sql, processors = _driver_statement(statement, tuple(sorted(values)), dialect)
    params = dict(values)
    for name, processor in processors:
        if name in params:
            params[name] = processor(params[name])
    return sql, params


class _Writes:
    """The loop's writes of one batch. A message's outcome is written with the next message's
    claim, in the transaction that claim's hand-over commits (the previous behaviour, one
    statement later); on PostgreSQL both statements and the transaction's BEGIN then go to the
    server in one round trip (psycopg's pipeline mode) instead of three, which is most of what
    a message costs the database besides its commit (issue 10, point 6). Invitations settled
    `sent` or `bounced` wait in `settled` and move a few dozen at a time (`advance`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.outcome: dict[str, Any] | None = None
        self.settled: dict[str, list[int]] = {SENT: [], BOUNCED: []}

    def record(self, delivery_id: int, invitation_id: int, **values: Any) -> None:
        """Keep a step's outcome for the next claim or `flush`."""
        self.flush()
        self.outcome = {"b_id": delivery_id, "updated_at": utcnow(), **values}
        if values["state"] in self.settled:
            self.settled[values["state"]].append(invitation_id)

    def flush(self) -> None:
        if self.outcome is not None:
            outcome, self.outcome = self.outcome, None
            self.session.connection().execute(_SETTLE, outcome)

    def claim(self, invitation: Invitation, step: int, channel: str) -> int | None:
        """Insert the step's row as `sending` (or take back a `retry` row), with the last
        outcome; None if another run owns or finished this step."""
        connection = self.session.connection()
        values = _claim_values(invitation, step, channel)
        if connection.dialect.name == "postgresql":
            delivery_id = self._pipelined(connection, values)
        else:
            self.flush()
            delivery_id = connection.execute(_claim_statement("sqlite"), values).scalar()
        if delivery_id is not None:
            return int(delivery_id)
        retried = connection.execute(
            _RETAKE,
            {"b_invitation": invitation.id, "b_step": step, "updated_at": values["updated_at"]},
        ).scalar()
        return int(retried) if retried is not None else None

    def _pipelined(self, connection: Any, values: dict[str, Any]) -> Any:
        dialect = connection.dialect
        claim_sql, claim_params = _driver_params(_claim_statement("postgresql"), values, dialect)
        driver = connection.connection.driver_connection
        with driver.pipeline(), driver.cursor() as cursor:
            if self.outcome is not None:
                outcome, self.outcome = self.outcome, None
                cursor.execute(*_driver_params(_SETTLE, outcome, dialect))
            cursor.execute(claim_sql, claim_params)
            row = cursor.fetchone()
        return row[0] if row else None

    def advance(self, at_least: int = 1) -> None:
        """Move the settled invitations' statuses once there are `at_least` of them."""
        _advance_settled(self.session, self.settled, at_least)


# Invitations whose status moves in one UPDATE: one statement per message less, and a worker that
# dies leaves at most this many statuses behind their deliveries, which the next run of the
# batch catches up (`_catch_up`) and the funnel does not need (it reads the deliveries).
_SETTLE_EVERY = 50


def _advance_settled(session: Session, settled: dict[str, list[int]], at_least: int = 1) -> None:
    if sum(map(len, settled.values())) < at_least:
        return
    for state, ids in settled.items():
        advance_many(session, ids, state)
        ids.clear()


def _catch_up(session: Session, invitation_ids: Sequence[int], step: int) -> None:
    """Move the invitations whose step was settled by a run that died before moving them."""
    rows = session.execute(
        select(Delivery.state, Delivery.invitation_id).where(
            Delivery.invitation_id.in_(list(invitation_ids)),
            Delivery.step == step,
            Delivery.state.in_((SENT, BOUNCED)),
        )
    )
    settled: dict[str, list[int]] = {SENT: [], BOUNCED: []}
    for state, invitation_id in rows:
        settled[state].append(invitation_id)
    _advance_settled(session, settled)


def _message(
    ctx: SendContext,
    campaign: Campaign,
    invitation: Invitation,
    contact: Contact,
    step: int,
    token: str,
    delivery_id: int,
) -> OutgoingMessage:
    details = contact_details(contact, ctx.keys)
    language = str(contact.attributes.get("language") or "")
    if language not in MESSAGE_LANGUAGES:
        language = str(campaign_sending_settings(campaign).get("language") or "zh_CN")
    unsubscribe = opt_out_url(ctx.base_url, ctx.secret, invitation.id)
    context = message_context(
        campaign,
        language,
        link=invitation_url(token, ctx.base_url),
        opt_out_link=unsubscribe,
        name=details.name or "",
        expires_on=invitation.expires_at.date() if invitation.expires_at else None,
        pixel_url=pixel_url(ctx.base_url, ctx.secret, delivery_id) if ctx.track_opens else "",
    )
    kind = "invitation" if step == 0 else "reminder"
    rendered = render_message(kind, ctx.channel.name, language, context)
    address = details.email if ctx.channel.name == "email" else details.phone
    headers = {}
    if ctx.channel.name == "email":
        # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that posts here.
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return OutgoingMessage(
        to=address or "",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=f"minsheng-{campaign.id}-{invitation.id}-{step}",
        headers=headers,
    )


def send_batch(
    session: Session,
    ctx: SendContext,
    invitation_ids: Sequence[int],
    step: int,
    commit: Callable[[], None] | None = None,
) -> BatchResult:
    """Send step `step` to each invitation in `invitation_ids` through `ctx.channel`.

    Unlike other domain functions this one commits (through `commit`, the session's by default),
    because the at-most-once rule needs each claim durable before the channel is called: one
    commit per message carries the previous message's outcome and the next claim. Invitations
    that answered, opted out, bounced or already have this step are skipped.
    """
    commit = commit or session.commit
    result = BatchResult()
    _catch_up(session, invitation_ids, step)
    rows = _load(session, invitation_ids, ctx.channel.name, step)
    result.skipped += len(set(invitation_ids)) - len(rows)
    if not rows:
        return result
    campaign = session.get(Campaign, rows[0][0].campaign_id)
    assert campaign is not None
    # End the read transaction before the first write: SQLite cannot turn a read snapshot into a
    # write once another worker has committed since ("database is locked" at once, no waiting).
    commit()
    try:
        ctx.channel.open()
    except TemporaryFailure as exc:  # server down or throttling: the whole batch waits
        result.retry.extend(invitation.id for invitation, _ in rows)
        result.retry_after = exc.retry_after
        return result
    tokens = issue_tokens(session, [invitation.id for invitation, _ in rows])
    commit()
    writes = _Writes(session)
    try:
        for index, (invitation, contact) in enumerate(rows):
            writes.advance(at_least=_SETTLE_EVERY)
            # Wait for the rate limit before the claim, not after: a worker that dies while it
            # waits has then claimed nothing, and the step is sent by the next run instead of
            # being left `sending` (never sent again) for a message that never left.
            ctx.limiter.wait()
            # Claimed in the open transaction: the unique row keeps a parallel run off this step,
            # and the channel commits it at its hand-over point (module docstring).
            delivery_id = writes.claim(invitation, step, ctx.channel.name)
            if delivery_id is None:
                result.skipped += 1
                continue
            stop = _send_one(
                ctx, campaign, invitation, contact, step, tokens, delivery_id, result, writes,
                commit,
            )  # fmt: skip
            if stop:
                result.retry.extend(inv.id for inv, _ in rows[index + 1 :])
                break
        writes.flush()
        writes.advance()
        commit()
    finally:
        ctx.channel.close()
    return result


def _send_one(
    ctx: SendContext,
    campaign: Campaign,
    invitation: Invitation,
    contact: Contact,
    step: int,
    tokens: dict[int, str],
    delivery_id: int,
    result: BatchResult,
    writes: _Writes,
    hand_over: Callable[[], None],
) -> bool:
    """Send one claimed step, committing the claim through `hand_over` at the channel's point of
    no return, and record its outcome (uncommitted); True when the channel asked to slow down
    and the rest of the batch should wait for the retry."""
    try:
        message = _message(
            ctx, campaign, invitation, contact, step, tokens[invitation.id], delivery_id
        )
        receipt = ctx.channel.send(message, hand_over=hand_over)
    except TemporaryFailure as exc:
        writes.record(delivery_id, invitation.id, state="retry", error=str(exc)[:500])
        result.retry.append(invitation.id)
        if exc.retry_after is not None:
            result.retry_after = max(result.retry_after or 0.0, exc.retry_after)
            return True
        return False
    except MessageError as exc:  # a campaign template that does not render: fix, then resend
        writes.record(delivery_id, invitation.id, state="failed", error=str(exc)[:500])
        result.failed += 1
        return False
    except PermanentFailure as exc:
        state = "bounced" if exc.bounce else "failed"
        writes.record(delivery_id, invitation.id, state=state, error=str(exc)[:500])
        if exc.bounce:
            result.bounced += 1
        else:
            result.failed += 1
        return False
    writes.record(
        delivery_id,
        invitation.id,
        state="sent",
        sent_at=utcnow(),
        provider_id=receipt.provider_id[:200],
        segments=receipt.segments,
        error="",
    )
    result.sent += 1
    return False


def _load(
    session: Session, invitation_ids: Iterable[int], channel: str, step: int
) -> list[tuple[Invitation, Contact]]:
    """The invitations still to get this step, with their contacts. Those that already have it
    are left out here, so a batch run again issues no new links for them (`_Writes.claim` still
    decides, for runs in parallel)."""
    ids = list(dict.fromkeys(invitation_ids))
    if not ids:
        return []
    done = select(Delivery.id).where(
        Delivery.invitation_id == Invitation.id, Delivery.step == step, Delivery.state != "retry"
    )
    rows = session.execute(
        select(Invitation, Contact)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(
            Invitation.id.in_(ids),
            Invitation.status.not_in(NO_MORE_MESSAGES),
            _address_column(channel).is_not(None),
            not_opted_out(),
            ~done.exists(),
        )
        .order_by(Invitation.id)
    )
    return [(invitation, contact) for invitation, contact in rows]


def give_up(session: Session, invitation_ids: Sequence[int], step: int) -> int:
    """Turn `retry` steps into `failed` after the last attempt; returns how many."""
    changed = session.execute(
        update(Delivery)
        .where(
            Delivery.invitation_id.in_(list(invitation_ids)),
            Delivery.step == step,
            Delivery.state == "retry",
        )
        .values(
            state="failed",
            error=func.substr(
                "gave up after repeated temporary failures: " + Delivery.error, 1, 500
            ),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


def _mark_uncertain(session: Session, *where: Any) -> int:
    changed = session.execute(
        update(Delivery)
        .where(Delivery.state == "sending", *where)
        .values(state="uncertain", error="worker stopped during the call; not sent again")
        .execution_options(synchronize_session=False)
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


def resolve_stale(session: Session, now: datetime | None = None) -> int:
    """Steps left `sending` longer than `STALE_AFTER` (their worker died during the call) become
    `uncertain` and are never sent again (see the module docstring); returns how many."""
    return _mark_uncertain(session, Delivery.updated_at < (now or utcnow()) - STALE_AFTER)


def resolve_abandoned(session: Session, invitation_ids: Sequence[int], step: int) -> int:
    """Steps of a batch still `sending` when the batch is taken over from a worker whose lease
    expired (it died during the call) become `uncertain` at once rather than after
    `STALE_AFTER`, so the run can finish; returns how many."""
    return _mark_uncertain(
        session, Delivery.invitation_id.in_(list(invitation_ids)), Delivery.step == step
    )


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before retry number `attempt` (0-based): exponential backoff from 30 s, capped at
    an hour, with up to 25% jitter so workers don't retry in step, and never sooner than the
    channel asked."""
    base = min(3600.0, 30.0 * 2**attempt) * (1 + random.random() / 4)
    return float(max(base, retry_after or 0.0))
