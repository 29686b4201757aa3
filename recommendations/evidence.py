"""Evidence files attached to progress updates, kept in the instance file store under
`<INSTANCE_PATH>/recommendations/<assignment id>/`. Only the file name is stored in the row."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from minsheng.errors import Problem

ALLOWED_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".txt")
MAX_BYTES = 10 * 1024 * 1024
# Letters and digits of any script (Chinese file names stay readable), dot, dash, underscore.
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user gave and its content."""

    filename: str
    content: bytes


def evidence_folder(assignment_id: int) -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "recommendations" / str(assignment_id)


def safe_name(filename: str) -> str:
    """`filename` without any folder part or character that is unsafe in a path."""
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip("._")
    return name[:120]


def check_uploads(uploads: list[Upload]) -> list[Problem]:
    """Every problem with the files: unknown type, too big, empty, unusable name."""
    problems = []
    for upload in uploads:
        where = f"attachments: {upload.filename}"
        name = safe_name(upload.filename)
        suffix = Path(name).suffix.lower()
        if not name or suffix not in ALLOWED_SUFFIXES:
            problems.append(
                Problem(where, f"type {suffix or 'none'!r}; allowed {', '.join(ALLOWED_SUFFIXES)}")
            )
        if not upload.content:
            problems.append(Problem(where, "the file is empty"))
        elif len(upload.content) > MAX_BYTES:
            problems.append(
                Problem(where, f"{len(upload.content)} bytes; at most {MAX_BYTES} (10 MB)")
            )
    return problems


def store_uploads(assignment_id: int, update_number: int, uploads: list[Upload]) -> list[str]:
    """Write checked uploads and return their stored names (`<update number>-<safe name>`, so a
    second file with the same name never overwrites the first)."""
    folder = evidence_folder(assignment_id)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for upload in uploads:
        name = f"{update_number}-{safe_name(upload.filename)}"
        (folder / name).write_bytes(upload.content)
        names.append(name)
    return names


def evidence_path(assignment_id: int, name: str) -> Path | None:
    """The stored file, or None when `name` is not a plain file name in the folder."""
    if name != safe_name(name) and not re.fullmatch(r"\d+-[\w.\-]+", name):
        return None
    path = evidence_folder(assignment_id) / name
    return path if path.is_file() and path.parent == evidence_folder(assignment_id) else None
