"""Invitations: one unique link per invited person, stored as a hash of its token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from minsheng.db import Base, utcnow

INVITATION_STATUSES = ("created", "sent", "delivered", "bounced", "opened", "started", "completed")


class Invitation(Base):
    """A personal link to one campaign's questionnaire; good for one response.

    Only `sha256(token)` is stored, so a database leak reveals no usable link.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="created")
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
