"""Response exports an analyst opens without cleaning: one row per response, streamed in
chunks, with local submission times, channel, weights and quality flags, answers as codes or
labels, one 0/1 column per option of a multiple choice, free text masked (unless an admin asks
for the raw file), no contact details and every cell safe from formula injection.

`export_frames` gives the exported columns (`exporters.variables`) and the responses as typed
frames of at most one chunk each; the writers (`exporters.tabular` for CSV, XLSX and Parquet,
`exporters.statistical` for SPSS and Stata, `exporters.open_data` for the open-data package)
consume them one by one. The responses are read from the database and decoded once, whatever
the number of passes a writer makes.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.frames import conform
from analysis.loading import (
    DEFAULT_CHUNK_SIZE,
    campaign_form,
    frame_template,
    iter_response_chunks,
)
from analysis.quality import FLAGS
from analysis.screening import Screen, speed_threshold
from analysis.weighting import raked_weights
from campaigns.models import Campaign
from exporters.variables import Variable, declared_margins, export_columns
from forms.models import Response
from minsheng.masking import masked
from questionnaire.schema import Form

#: Called with the share of rows written so far (0..1), so a job can show progress.
Progress = Callable[[float], None]


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What an export holds: `labels` puts single choices as labels instead of codes; `raw`
    keeps free text unmasked (admins only, audited by the caller)."""

    labels: bool = False
    raw: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE


class Spool:
    """The response chunks of an export's first pass, kept on disk (Arrow IPC, LZ4), so that
    every later pass reads them back instead of querying and decoding the answers again; read
    back with the dtypes of the campaign's response frames (`template`)."""

    def __init__(self, template: pd.DataFrame) -> None:
        self.template = template
        self.parts = 0
        self._folder = tempfile.TemporaryDirectory(prefix="minsheng-export-")

    def _path(self, part: int) -> Path:
        return Path(self._folder.name) / f"{part:06d}.arrow"

    def add(self, batch: Any) -> None:
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        with (
            pa.OSFile(str(self._path(self.parts)), "wb") as sink,
            pa.ipc.new_file(sink, batch.schema, options=options) as writer,
        ):
            writer.write_batch(batch)
        self.parts += 1

    def frames(self) -> Iterator[pd.DataFrame]:
        for part in range(self.parts):
            # Read into memory, not mapped: the frame outlives the file handle.
            with pa.OSFile(str(self._path(part))) as source:
                table = pa.ipc.open_file(source).read_all()
            yield conform(table.to_pandas(), self.template)

    def close(self) -> None:
        self._folder.cleanup()


@dataclasses.dataclass
class Export:
    """A campaign's export: its columns, its row count, and `frames()`, which gives the
    responses as typed frames (one per chunk) each time it is called. The first call reads them
    from the database into `spool`; `close()` removes that."""

    campaign: Campaign
    form: Form
    columns: list[Variable]
    rows: int
    timezone: str
    chunks: Callable[[], Iterator[pd.DataFrame]]
    spool: Spool

    def frames(self) -> Iterator[pd.DataFrame]:
        return self.chunks()

    def close(self) -> None:
        self.spool.close()


def _survey(
    session: Session, campaign: Campaign, form: Form, last_id: int, chunk_size: int, spool: Spool
) -> tuple[dict[str, Any], Any | None]:
    """The one read of the responses up to `last_id`, before any row is written: each row's
    quality flags (the analysis screen) and its raking weight when the campaign declares
    margins (none for a flagged row), while every chunk goes into `spool` for the passes that
    write the rows.

    Only the flags, the weights and the few margin columns stay in memory: a byte or eight per
    response, not the responses.
    """
    durations = session.scalars(
        select(Response.duration_seconds)
        .where(Response.campaign_id == campaign.id, Response.id <= last_id)
        .order_by(Response.id)
    ).all()
    screen = Screen(
        form,
        FLAGS,
        speed_threshold(pa.chunked_array([durations], type=pa.float64())),
        keep_flags=True,
    )
    margins, bounds = declared_margins(campaign)
    names = sorted({n for key in margins for n in ((key,) if isinstance(key, str) else key)})
    held: list[pd.DataFrame] = []
    for frame in iter_response_chunks(
        session, campaign, form, up_to_id=last_id, chunk_size=chunk_size
    ):
        batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
        screen.screen(batch)
        spool.add(batch)
        if names:
            held.append(frame[names])
    flags = screen.flags(screen.finish())
    weights = None
    if names and held:
        # Raked like the summary (`analysis.frame_summary.summarize_frame`): over the responses
        # no quality flag leaves out; the others get no weight, so a weighted figure from the
        # file is the summary's.
        keep = ~np.logical_or.reduce([flags[f] for f in FLAGS])
        weights = np.full(keep.size, np.nan)
        if keep.any():
            cells = pd.concat(held, ignore_index=True)[keep].reset_index(drop=True)
            weights[keep] = raked_weights(cells, margins, bounds=bounds).weights.to_numpy()
    return flags, weights


def _texts(column: pd.Series[Any], raw: bool) -> pd.Series[Any]:
    values = column.astype(object).where(column.notna(), None)
    return values if raw else values.map(lambda v: None if v is None else masked(str(v)))


def _converted(
    variable: Variable, frame: pd.DataFrame, extra: dict[str, Any], options: ExportOptions, tz: str
) -> Any:
    """One exported column of a chunk, typed: Int8 for 0/1, float for numbers, local
    timestamps, and objects (str or None) for everything else."""
    kind = variable.kind
    if kind in ("flag", "weight"):
        values = extra[variable.source]
        return pd.array(values, dtype="Int8") if kind == "flag" else np.asarray(values, float)
    if kind == "time":
        return frame["submitted_at"].dt.tz_convert(tz)
    column = frame[variable.source]
    if kind == "text":
        return _texts(column, options.raw)
    if kind == "option":
        return column.astype("boolean").astype("Int8")
    if kind == "number":
        return column.astype(np.float64)
    if kind == "date":
        dates = pd.to_datetime(column, errors="coerce")
        return dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)
    if variable.name == "response_id":
        return column.astype(np.int64)
    values = column.astype(object).where(column.notna(), None)
    if kind == "choice" and options.labels:
        table = dict(variable.values)
        return values.map(lambda v: None if v is None else table.get(str(v), str(v)))
    return values.map(lambda v: None if v is None else str(v))


def export_frames(
    session: Session, campaign: Campaign, options: ExportOptions | None = None
) -> Export:
    """The campaign's export of the responses received so far. Each `frames()` gives them in
    chunks of `options.chunk_size` in id order (memory stays that of one chunk, whatever the
    number of responses); the first reads them from the database, screens them for the flags
    and weights and spools them, the others read the spool."""
    options = options or ExportOptions()
    form = campaign_form(session, campaign)
    tz = campaign.timezone
    columns = export_columns(campaign, form)
    # Responses that arrive while the export runs wait for the next one: the flags of the
    # first pass line up with the rows of the spool.
    last_id, total = session.execute(
        select(func.coalesce(func.max(Response.id), 0), func.count(Response.id)).where(
            Response.campaign_id == campaign.id
        )
    ).one()
    spool = Spool(frame_template(session, campaign, form))
    surveyed: list[tuple[dict[str, Any], Any | None]] = []

    def frames() -> Iterator[pd.DataFrame]:
        if not surveyed:
            surveyed.append(_survey(session, campaign, form, last_id, options.chunk_size, spool))
        flags, weights = surveyed[0]
        offset = 0
        # No responses still give one (empty) frame, so every writer sees the column types.
        for frame in spool.frames() if spool.parts else [spool.template]:
            end = offset + len(frame)
            extra: dict[str, Any] = {f: flags[f][offset:end] for f in FLAGS}
            extra["weight"] = (
                weights[offset:end] if weights is not None else np.full(len(frame), np.nan)
            )
            offset = end
            yield pd.DataFrame(
                {v.name: _converted(v, frame, extra, options, tz) for v in columns},
                index=pd.RangeIndex(len(frame)),
            )

    return Export(campaign, form, columns, int(total), tz, frames, spool)


def plain_value(value: Any) -> Any:
    """A frame cell as a plain Python value: None for missing, int for integral numbers,
    local time as "YYYY-MM-DD HH:MM:SS"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def export_rows(
    session: Session,
    campaign: Campaign,
    *,
    labels: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[list[Variable], Iterator[list[Any]]]:
    """The exported columns and an iterator of rows (lists of plain values), read in chunks."""
    export = export_frames(session, campaign, ExportOptions(labels=labels, chunk_size=chunk_size))
    return export.columns, _rows(export)


def _rows(export: Export) -> Iterator[list[Any]]:
    with closing(export):
        for frame in export.frames():
            for row in frame.itertuples(index=False, name=None):
                yield [plain_value(c) for c in row]


def report_progress(progress: Progress | None, done: int, total: int) -> None:
    """Tell `progress` the share of `total` rows written."""
    if progress is not None and total:
        progress(min(1.0, done / total))


def is_text(column: pd.Series[Any]) -> bool:
    """Whether a column of an export frame holds text (pandas 3 infers `str` from `map`)."""
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)
