"""Per-campaign Parquet snapshots of the response frame, refreshed incrementally: each refresh
reads only responses with an id above the snapshot's last one, so a summary never re-reads the
whole campaign from the database.

Layout: ``<root>/<campaign id>/part-<first id>-<last id>.parquet`` plus ``manifest.json`` (last
id, row count, parts, and the signature of the questionnaire versions and categories the parts
were built with). A changed signature, or responses gone from the database, rebuilds the
snapshot from scratch; many small parts are compacted into one. Columns are stored as
`analysis.arrow.encode_table` lays them out (categorical answers as integer codes with their
categories in the column metadata) and decoded on reading.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.arrow import encode_table, read_table
from analysis.frames import conform
from analysis.loading import (
    DEFAULT_CHUNK_SIZE,
    campaign_form,
    frame_template,
    iter_response_chunks,
)
from campaigns.models import Campaign
from forms.models import Questionnaire, QuestionnaireVersion, Response
from questionnaire.schema import Form

#: Bump when the frame layout changes, so old snapshots are rebuilt.
LAYOUT_VERSION = 3
MANIFEST = "manifest.json"
MAX_PARTS = 32
#: Sub-folder of the instance folder that holds snapshots.
SNAPSHOT_FOLDER = "snapshots"


@dataclass
class Manifest:
    """What a snapshot holds: responses with ids up to ``last_id``, ``rows`` of them."""

    signature: str
    last_id: int = 0
    last_submission: str = ""
    rows: int = 0
    parts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: rows appended, whether it rebuilt, and the snapshot's state."""

    appended: int
    rebuilt: bool
    rows: int
    last_id: int
    parts: int


def snapshot_root() -> Path:
    """Where the running app keeps response snapshots: ``<INSTANCE_PATH>/snapshots``, so the
    results page, the API, summary jobs and reports count from the same files."""
    return Path(current_app.config["INSTANCE_PATH"]) / SNAPSHOT_FOLDER


def snapshot_dir(root: str | Path, campaign: Campaign) -> Path:
    """The folder of one campaign's snapshot under ``root`` (e.g. ``<instance>/snapshots``)."""
    return Path(root) / str(campaign.id)


def snapshot_signature(session: Session, campaign: Campaign) -> str:
    """Changes whenever the frame's columns or categories would: a new questionnaire version,
    a new collection point or target group, or a new frame layout."""
    checksums = session.scalars(
        select(QuestionnaireVersion.checksum)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.campaign_id == campaign.id)
        .order_by(QuestionnaireVersion.number)
    ).all()
    parts = [
        str(LAYOUT_VERSION),
        *checksums,
        *(f"point:{p.id}:{p.code}" for p in campaign.collection_points),
        *(f"group:{g.id}:{g.code}" for g in campaign.target_groups),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _read_manifest(folder: Path) -> Manifest | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    # Write then rename, so a reader never sees half a manifest.
    temporary = folder / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(asdict(manifest)), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)


@contextmanager
def _locked(folder: Path, shared: bool = False) -> Iterator[None]:
    """One refresh per campaign at a time (two would append the same responses twice), and
    none while the files are being read (``shared``: readers do not exclude each other)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_part(folder: Path, frame: pd.DataFrame) -> str:
    first, last = int(frame["response_id"].iloc[0]), int(frame["response_id"].iloc[-1])
    name = f"part-{first:012d}-{last:012d}.parquet"
    temporary = folder / f".{name}.tmp"
    pq.write_table(encode_table(pa.Table.from_pandas(frame, preserve_index=False)), temporary)
    os.replace(temporary, folder / name)
    return name


def _remove_parts(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).unlink(missing_ok=True)


def _still_matches(session: Session, campaign: Campaign, manifest: Manifest) -> bool:
    """The database still holds exactly the snapshot's responses up to its last id: as many of
    them, and the last one is the same submission (SQLite may reuse a deleted row's id)."""
    count = session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.campaign_id == campaign.id, Response.id <= manifest.last_id)
    )
    if int(count or 0) != manifest.rows:
        return False
    if manifest.last_id == 0:
        return True
    last = session.scalar(
        select(Response.submission_id).where(
            Response.id == manifest.last_id, Response.campaign_id == campaign.id
        )
    )
    return last == manifest.last_submission


def _submission_of(session: Session, response_id: int) -> str:
    return str(session.scalar(select(Response.submission_id).where(Response.id == response_id)))


def refresh_snapshot(
    session: Session,
    campaign: Campaign,
    root: str | Path,
    form: Form | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> RefreshResult:
    """Bring the campaign's snapshot up to date and report what was done.

    Only responses with an id above the snapshot's last id are read (in chunks of
    ``chunk_size``), each chunk written as its own part. The snapshot is rebuilt when its
    signature changed or when the database holds a different number of responses up to its last
    id (a response was deleted), so it never serves rows the database no longer has.
    """
    form = form or campaign_form(session, campaign)
    folder = snapshot_dir(root, campaign)
    signature = snapshot_signature(session, campaign)
    with _locked(folder):
        manifest = _read_manifest(folder)
        rebuilt = (
            manifest is None
            or manifest.signature != signature
            or not _still_matches(session, campaign, manifest)
        )
        if manifest is None or rebuilt:
            if manifest is not None:
                _remove_parts(folder, manifest.parts)
            manifest = Manifest(signature=signature)
        appended = 0
        for chunk in iter_response_chunks(
            session, campaign, form, after_id=manifest.last_id, chunk_size=chunk_size
        ):
            manifest.parts.append(_write_part(folder, chunk))
            manifest.last_id = int(chunk["response_id"].iloc[-1])
            manifest.last_submission = _submission_of(session, manifest.last_id)
            manifest.rows += len(chunk)
            appended += len(chunk)
            _write_manifest(folder, manifest)
        if len(manifest.parts) > MAX_PARTS:
            _compact(folder, manifest, frame_template(session, campaign, form))
        _write_manifest(folder, manifest)
    return RefreshResult(appended, rebuilt, manifest.rows, manifest.last_id, len(manifest.parts))


def read_parquet_frame(
    paths: str | Path | list[Path], columns: list[str] | None = None
) -> pd.DataFrame:
    """A pandas frame from one or more Parquet files written from response frames (only
    ``columns``, when given: Parquet is columnar, so the others are never decoded).

    ``to_pandas(split_blocks=True, self_destruct=True)`` hands each Arrow column over as its own
    block and frees the Arrow buffers as it goes: at ten million rows this costs a fifth of the
    CPU time of ``pandas.read_parquet``, which first consolidates columns into 2-D blocks, and
    needs half the memory.
    """
    frame: pd.DataFrame = read_table(paths, columns).to_pandas(
        split_blocks=True, self_destruct=True
    )
    return frame


def _read_parts(folder: Path, parts: list[str], template: pd.DataFrame) -> pd.DataFrame:
    if not parts:
        return template.copy()
    return conform(read_parquet_frame([folder / name for name in parts]), template)


def _compact(folder: Path, manifest: Manifest, template: pd.DataFrame) -> None:
    """Merge every part into one file, so reads open one file instead of hundreds."""
    frame = _read_parts(folder, manifest.parts, template)
    old = list(manifest.parts)
    manifest.parts = [_write_part(folder, frame)]
    _write_manifest(folder, manifest)
    _remove_parts(folder, [name for name in old if name not in manifest.parts])


def snapshot_frame(
    session: Session,
    campaign: Campaign,
    root: str | Path,
    form: Form | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """The campaign's response frame from its refreshed snapshot: the same frame as
    `analysis.loading.response_frame`, read mostly from Parquet."""
    form = form or campaign_form(session, campaign)
    refresh_snapshot(session, campaign, root, form, chunk_size=chunk_size)
    folder = snapshot_dir(root, campaign)
    template = frame_template(session, campaign, form)
    with _locked(folder):
        manifest = _read_manifest(folder)
        parts = manifest.parts if manifest else []
        return _read_parts(folder, parts, template)


@contextmanager
def snapshot_files(
    session: Session,
    campaign: Campaign,
    root: str | Path,
    form: Form | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[list[Path]]:
    """The Parquet files of the campaign's refreshed snapshot, oldest first (none without
    responses), for the summaries that count straight from Parquet
    (`analysis.counting.tally_parquet`). They are read under a shared lock: a refresh that
    would compact them waits until the reading is done."""
    form = form or campaign_form(session, campaign)
    refresh_snapshot(session, campaign, root, form, chunk_size=chunk_size)
    folder = snapshot_dir(root, campaign)
    with _locked(folder, shared=True):
        manifest = _read_manifest(folder)
        yield [folder / name for name in (manifest.parts if manifest else [])]
