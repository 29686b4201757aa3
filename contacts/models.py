"""Target lists (名单) and their contacts (personal data encrypted, looked up by keyed hash),
contact file imports and uploads waiting for a worker, and opt-outs across campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from minsheng.db import Base, utcnow


class ContactList(Base):
    """A target list (名单): contacts imported from files, for one campaign or reused across
    campaigns (`campaign_id` empty)."""

    __tablename__ = "contact_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contact(Base):
    """One person on a target list. Name, phone and e-mail are stored encrypted
    (`contacts.pii`); `phone_hash` / `email_hash` are keyed HMACs of the normalised values,
    so a list never holds the same phone or e-mail twice and opt-outs can be matched without
    decrypting. `attributes` holds the other columns (district, age group...), used for strata.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("list_id", "phone_hash"),
        UniqueConstraint("list_id", "email_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"))
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    email_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OptOut(Base):
    """A phone or e-mail (by keyed hash) that must never be invited again, whatever the list or
    campaign (退订). `campaign_id` records where the person opted out, if known."""

    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactImport(Base):
    """One upload of a contact file: counts and the error report (masked values only) that the
    organizer downloads."""

    __tablename__ = "contact_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    error_report: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactUpload(Base):
    """A contact file waiting for a worker to import it, encrypted like contact details
    (`contacts.pii.encrypt_bytes`), so no plaintext list rests in the database or a shared
    folder; deleted once the import has run."""

    __tablename__ = "contact_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    required: Mapped[list[Any]] = mapped_column(default=list)
    data_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
