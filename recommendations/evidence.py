"""Evidence files attached to progress updates, kept in the file store under
`evidence/<assignment id>/<update number>-<safe name>`; the update's row lists their keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from minsheng.errors import Problem
from minsheng.files import file_store
from recommendations.models import Assignment

#: `Session.info` key of the evidence keys written in the session's open transaction.
PENDING = "recommendations.evidence_pending"

ALLOWED_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".txt")
MAX_BYTES = 10 * 1024 * 1024
# Letters and digits of any script (Chinese file names stay readable), dot, dash, underscore.
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user gave and its content."""

    filename: str
    content: bytes


def safe_name(filename: str) -> str:
    """`filename` without any folder part or character that is unsafe in a path."""
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip("._")
    return name[:120]


def check_uploads(uploads: list[Upload]) -> list[Problem]:
    """Every problem with the files: unknown type, too big, empty, unusable name."""
    problems = []
    for upload in uploads:
        # Under the upload field of the form, each message naming its file.
        named = f"{upload.filename}: "
        name = safe_name(upload.filename)
        suffix = Path(name).suffix.lower()
        if not name or suffix not in ALLOWED_SUFFIXES:
            allowed = ", ".join(ALLOWED_SUFFIXES)
            problems.append(
                Problem("attachments", f"{named}type {suffix or 'none'!r}; allowed {allowed}")
            )
        if not upload.content:
            problems.append(Problem("attachments", f"{named}the file is empty"))
        elif len(upload.content) > MAX_BYTES:
            size = f"{len(upload.content)} bytes; at most {MAX_BYTES} (10 MB)"
            problems.append(Problem("attachments", f"{named}{size}"))
    return problems


def store_uploads(
    session: Session, assignment_id: int, update_number: int, uploads: list[Upload]
) -> list[str]:
    """Put checked uploads into the file store and return their keys (the name is prefixed by
    the update number, unique per assignment, so no file ever overwrites another). The keys
    are remembered on the session: a rollback of its transaction deletes the files again, so
    a refused or failed update leaves no orphan in the store."""
    keys = []
    pending: list[str] = session.info.setdefault(PENDING, [])
    for upload in uploads:
        key = f"evidence/{assignment_id}/{update_number}-{safe_name(upload.filename)}"
        file_store().put(key, upload.content)
        pending.append(key)
        keys.append(key)
    return keys


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(PENDING, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_files(session: Session, previous: SessionTransaction) -> None:
    # Only the rollback of the whole transaction undoes the update (a savepoint's does not).
    if previous.nested or previous.parent is not None:
        return
    store = file_store() if session.info.get(PENDING) else None
    for key in session.info.pop(PENDING, []):
        if store is not None and store.exists(key):
            store.delete(key)


def evidence_name(key: str) -> str:
    """The file name an evidence file is shown and downloaded under (the key's last part)."""
    return key.rsplit("/", 1)[-1]


def evidence_key(assignment: Assignment, name: str) -> str | None:
    """The key of the evidence file `name` of one of the assignment's updates, or None: only
    files that an update of this assignment lists can be reached through it."""
    for update in assignment.updates:
        for key in update.attachments:
            if evidence_name(str(key)) == name:
                return str(key)
    return None
