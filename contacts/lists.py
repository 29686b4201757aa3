"""Target lists (名单): importing contact files row by row, reporting every bad row while keeping
the good ones, and opt-outs (退订) that hold across lists and campaigns."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, exists, func, or_, select
from sqlalchemy.orm import Session

from contacts.bulk import bulk_insert
from contacts.files import read_contact_file
from contacts.models import Contact, ContactImport, ContactList, OptOut
from contacts.pii import (
    PIIKeys,
    current_keys,
    decrypt,
    encrypt,
    lookup_hash,
    mask_email,
    mask_name,
    mask_phone,
    normalize_email,
    normalize_phone,
)
from contacts.rows import (
    ParsedRow,
    RowProblem,
    column_layout,
    error_report_csv,
    parse_row,
)
from minsheng.audit import record
from minsheng.db import utcnow
from minsheng.errors import InputError, Problem

_CHUNK = 500
_PROGRESS_ROWS = 5000
Progress = Callable[[float, str], None]
CONTACTS = cast(Table, Contact.__table__)


@dataclass
class ImportResult:
    """What an import did: `imported` new contacts, `skipped` bad or duplicate rows (each with
    its problems), and the stored `ContactImport` record."""

    rows: int = 0
    imported: int = 0
    skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    record: ContactImport | None = None


@dataclass(frozen=True)
class ContactDetails:
    """Decrypted details of one contact, for composing a message; never for display."""

    name: str | None
    phone: str | None
    email: str | None


def get_or_create_list(session: Session, name: str, campaign_id: int | None = None) -> ContactList:
    """The target list called `name`, created (for `campaign_id`, or reusable) if new."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InputError([Problem("list", f"list name {name!r}: expected 1-120 characters")])
    found = session.scalar(select(ContactList).where(ContactList.name == name))
    if found is None:
        found = ContactList(name=name, campaign_id=campaign_id)
        session.add(found)
        session.flush()
    return found


def contact_list_named(session: Session, name: str, location: str = "list") -> ContactList:
    """The target list called `name`, or an `InputError` at `location` naming the lists."""
    found = session.scalar(select(ContactList).where(ContactList.name == name))
    if found is None:
        names = ", ".join(session.scalars(select(ContactList.name).order_by(ContactList.name)))
        raise InputError([Problem(location, f"no list {name!r}; lists: {names or 'none yet'}")])
    return found


def lists_with_counts(session: Session) -> list[tuple[ContactList, int]]:
    """Every target list with its number of contacts, by name: the list page and the sample
    form's choices."""
    counts = (
        select(ContactList, func.count(Contact.id))
        .outerjoin(Contact, Contact.list_id == ContactList.id)
        .group_by(ContactList.id)
        .order_by(ContactList.name)
    )
    return [(contact_list, n) for contact_list, n in session.execute(counts)]


def import_contacts(
    session: Session,
    contact_list: ContactList,
    data: bytes,
    filename: str,
    required: Sequence[str] = (),
    keys: PIIKeys | None = None,
    progress: Progress | None = None,
    actor_id: int | None = None,
) -> ImportResult:
    """Import the rows of a CSV or XLSX file into `contact_list`.

    Each bad row (invalid mainland mobile, malformed e-mail, neither of the two, a required
    attribute empty, the same phone or e-mail as an earlier row or as a contact already on the
    list) is reported and skipped; the good rows are added. Importing the same file again adds
    nothing. A file-level problem (no usable column, a required column absent) raises
    InputError before anything is stored. `progress(fraction, message)` is called every
    `_PROGRESS_ROWS` rows checked and stored, for long files.
    """
    keys = keys or current_keys()
    table = read_contact_file(data, filename)
    layout = column_layout(table, required, filename)
    result = ImportResult(rows=len(table.rows))
    candidates: list[dict[str, Any]] = []
    seen: dict[bytes, int] = {}
    bad_rows: set[int] = set()
    for index, (number, cells) in enumerate(table.rows):
        if progress is not None and index % _PROGRESS_ROWS == 0 and index:
            progress(0.5 * index / len(table.rows), f"checked {index} of {len(table.rows)} rows")
        row = parse_row(number, cells, layout, keys)
        for problem in row.problems:
            result.problems.append(problem)
            bad_rows.add(number)
        if row.problems:
            continue
        duplicate = _first_seen(seen, row, number)
        if duplicate is not None:
            column, shown, earlier = duplicate
            result.problems.append(
                RowProblem(number, column, shown, f"duplicate of row {earlier} in this file")
            )
            bad_rows.add(number)
            continue
        candidates.append(row.values)
    present = _already_on_list(session, contact_list.id, candidates)
    fresh: list[dict[str, Any]] = []
    for values in candidates:
        hit = next((h for h in (values["phone_hash"], values["email_hash"]) if h in present), None)
        if hit is not None:
            column, shown = values["_shown"][hit]
            result.problems.append(
                RowProblem(values["_row"], column, shown, "already on the list; row unchanged")
            )
            bad_rows.add(values["_row"])
            continue
        fresh.append(values)
    _insert_contacts(session, contact_list.id, fresh, keys, progress)
    result.imported = len(fresh)
    result.skipped = len(bad_rows)
    result.problems.sort(key=lambda p: p.row)
    result.record = ContactImport(
        list_id=contact_list.id,
        filename=filename[:255],
        rows=result.rows,
        imported=result.imported,
        skipped=result.skipped,
        error_report=error_report_csv(result.problems),
    )
    session.add(result.record)
    session.flush()
    record(
        session,
        actor_id,
        "contacts.import",
        "contact_list",
        contact_list.id,
        file=filename,
        imported=result.imported,
        skipped=result.skipped,
    )
    return result


def _first_seen(seen: dict[bytes, int], row: ParsedRow, number: int) -> tuple[str, str, int] | None:
    hashes = [h for h in (row.values["phone_hash"], row.values["email_hash"]) if h]
    for digest in hashes:
        if digest in seen:
            column, shown = row.values["_shown"][digest]
            return column, shown, seen[digest]
    for digest in hashes:
        seen[digest] = number
    return None


def _already_on_list(
    session: Session, list_id: int, candidates: list[dict[str, Any]]
) -> set[bytes]:
    # One query per column, so each uses its (list_id, <column>) unique index; an OR of the
    # two would scan the whole list for every chunk.
    present: set[bytes] = set()
    for column in ("phone_hash", "email_hash"):
        wanted = [v[column] for v in candidates if v[column]]
        attribute = getattr(Contact, column)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            present.update(
                session.scalars(
                    select(attribute).where(Contact.list_id == list_id, attribute.in_(chunk))
                )
            )
    return present


def _insert_contacts(
    session: Session,
    list_id: int,
    rows: list[dict[str, Any]],
    keys: PIIKeys,
    progress: Progress | None,
) -> None:
    # Driver-speed inserts in chunks: no ORM object per contact, so a 100k-row file stays cheap.
    now = utcnow()
    for start in range(0, len(rows), _PROGRESS_ROWS):
        if progress is not None and start:
            progress(0.5 + 0.5 * start / len(rows), f"stored {start} of {len(rows)} contacts")
        bulk_insert(
            session,
            CONTACTS,
            ("name_enc", "phone_enc", "email_enc", "phone_hash", "email_hash", "attributes"),
            [
                (
                    encrypt(keys, v["name"]) if v["name"] else None,
                    encrypt(keys, v["phone"]) if v["phone"] else None,
                    encrypt(keys, v["email"]) if v["email"] else None,
                    v["phone_hash"],
                    v["email_hash"],
                    json.dumps(v["attributes"], ensure_ascii=False),
                )
                for v in rows[start : start + _PROGRESS_ROWS]
            ],
            {"list_id": list_id, "created_at": now},
        )


def contact_details(contact: Contact, keys: PIIKeys | None = None) -> ContactDetails:
    """Decrypt a contact's name, phone and e-mail to compose a message to them."""
    keys = keys or current_keys()

    def plain(blob: bytes | None) -> str | None:
        return decrypt(keys, blob) if blob else None

    return ContactDetails(
        name=plain(contact.name_enc), phone=plain(contact.phone_enc), email=plain(contact.email_enc)
    )


def masked_contact(contact: Contact, keys: PIIKeys | None = None) -> dict[str, str]:
    """A contact as pages show it: name `张*`, phone `138****5678`, e-mail `z***@example.com`."""
    details = contact_details(contact, keys)
    return {
        "name": mask_name(details.name or ""),
        "phone": mask_phone(details.phone) if details.phone else "",
        "email": mask_email(details.email) if details.email else "",
    }


def opt_out_contact(session: Session, contact: Contact, campaign_id: int | None = None) -> int:
    """Record that this person wants no more invitations: their phone and e-mail hashes go on
    the opt-out list, which every list and campaign consults. Returns hashes newly added."""
    added = 0
    for kind, digest in (("phone", contact.phone_hash), ("email", contact.email_hash)):
        if digest is None:
            continue
        if session.scalar(select(OptOut.id).where(OptOut.contact_hash == digest)) is None:
            session.add(OptOut(contact_hash=digest, kind=kind, campaign_id=campaign_id))
            added += 1
    session.flush()
    return added


def opt_out_address(
    session: Session,
    kind: str,
    value: str,
    campaign_id: int | None = None,
    keys: PIIKeys | None = None,
) -> bool:
    """Opt out a phone number or e-mail address given as text (an SMS "TD" reply, a bounce).

    Raises InputError when `kind` is not phone/email or the value is malformed.
    """
    keys = keys or current_keys()
    normalized = {"phone": normalize_phone, "email": normalize_email}.get(kind, lambda _v: None)(
        value
    )
    if kind not in ("phone", "email") or normalized is None:
        raise InputError([Problem(kind, "expected a mainland mobile number or an e-mail")])
    digest = lookup_hash(keys, kind, normalized)
    if session.scalar(select(OptOut.id).where(OptOut.contact_hash == digest)) is not None:
        return False
    session.add(OptOut(contact_hash=digest, kind=kind, campaign_id=campaign_id))
    session.flush()
    return True


def not_opted_out() -> ColumnElement[bool]:
    """A WHERE clause on `Contact`: true when neither its phone nor its e-mail opted out."""
    return ~exists().where(
        or_(OptOut.contact_hash == Contact.phone_hash, OptOut.contact_hash == Contact.email_hash)
    )


def is_opted_out(session: Session, contact: Contact) -> bool:
    """Whether this contact's phone or e-mail is on the opt-out list."""
    hashes = [h for h in (contact.phone_hash, contact.email_hash) if h]
    return bool(hashes) and (
        session.scalar(select(OptOut.id).where(OptOut.contact_hash.in_(hashes)).limit(1))
        is not None
    )
