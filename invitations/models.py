"""Samples, quotas and invitations (one unique link per invited person, stored as a hash), their
deliveries and opt-out events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Invitations point at contacts and their lists: those tables must be in the metadata too.
import contacts.models  # noqa: F401
from minsheng.db import Base, utcnow


class Sample(Base):
    """A stratified random sample drawn from a target list for a campaign (抽样).

    `seed` reproduces the draw from the same frame; `counts` maps each stratum key to
    `{"population": N_h, "allocated": n_h, "invited": k_h}`.
    """

    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"))
    seed: Mapped[int] = mapped_column(BigInteger)
    strata: Mapped[list[Any]] = mapped_column(default=list)
    allocation: Mapped[str] = mapped_column(String(20))
    requested: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Quota(Base):
    """The most completed responses one stratum may give (配额). `attribute_values` define it
    (a subset of the sample's strata, or answers on the public link); `stratum` is their
    canonical key (`invitations.sampling.stratum_key`)."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("campaign_id", "stratum"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    stratum: Mapped[str] = mapped_column(String(500))
    attribute_values: Mapped[dict[str, Any]]
    maximum: Mapped[int]
    completed: Mapped[int] = mapped_column(default=0)


class Invitation(Base):
    """A personal link to one campaign's questionnaire; good for one response.

    Only `sha256(token)` is stored, so a database leak reveals no usable link; links issued
    again later (reminders) are in `invitation_tokens`. `stratum` is the sample stratum key.
    In an anonymous campaign the invitation records that the person completed, and the response
    keeps no reference back to it.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_invitations_campaign_id_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("samples.id", ondelete="SET NULL"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Changed only through `invitations.lifecycle.advance` (its table says which moves are allowed).
    status: Mapped[str] = mapped_column(String(20), default="created")
    channel: Mapped[str | None] = mapped_column(String(20))
    stratum: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class InvitationToken(Base):
    """A further link to the same invitation (issued when a message or reminder is sent), also
    stored only as `sha256(token)`; every link of an invitation leads to the same response."""

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Sending, delivery and opt-out events (invitations.sending, invitations.funnel).

DELIVERY_STATES = ("sending", "retry", "sent", "bounced", "failed", "uncertain")


class Delivery(Base):
    """One send step of one invitation: step 0 is the invitation message, step n the n-th
    reminder. The row is committed as `sending` before the channel is called and marked `sent`
    after, and (invitation, step) is unique, so no step is ever sent twice (`invitations.sending`
    explains the at-most-once rule for a step left `sending` by a dead worker). `retry` is a
    temporary failure waiting for its retry; `bounced` a refused address; `failed` a permanent
    failure of another kind; `uncertain` a step whose worker died during the call."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("invitation_id", "step"),
        Index("ix_deliveries_campaign_id_state", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(default=0)
    channel: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12), default="sending")
    attempts: Mapped[int] = mapped_column(default=1)
    error: Mapped[str] = mapped_column(String(500), default="")
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    segments: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]


class OptOutEvent(Base):
    """An opt-out made through the link of a message (退订): the invitation, campaign and channel
    it came from, for the funnel's refusals. The lasting block on the person is `OptOut`."""

    __tablename__ = "opt_out_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
