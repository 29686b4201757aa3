"""Response exports an analyst opens without cleaning: one row per response, streamed in
chunks, with local submission times, channel, weights and quality flags, answers as codes or
labels, one 0/1 column per option of a multiple choice, free text masked (unless an admin asks
for the raw file), no contact details and every cell safe from formula injection.

`export_frames` gives the exported columns (`Variable`) and the responses as typed frames of at
most one chunk each; the writers (this module for CSV, XLSX and Parquet, `exporters.statistical`
for SPSS and Stata, `exporters.open_data` for the open-data package) consume them one by one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.frames import NO_ANSWER_TYPES, OTHER, OTHER_LABEL, choice_names, option_column
from analysis.loading import DEFAULT_CHUNK_SIZE, campaign_form, iter_response_chunks
from analysis.quality import FLAGS
from analysis.screening import Screen, speed_threshold
from analysis.summary import campaign_margins
from analysis.weighting import raked_weights
from campaigns.models import Campaign
from forms.models import Response
from minsheng.masking import masked
from minsheng.workbooks import csv_cell
from questionnaire.schema import Form, Question, text_in

DEFAULT_TIMEZONE = "Asia/Shanghai"
BOM = "\ufeff"
TEXT_TYPES = frozenset({"text"})
#: Called with the share of rows written so far (0..1), so a job can show progress.
Progress = Callable[[float], None]


@dataclasses.dataclass(frozen=True)
class Variable:
    """One exported column: its name, label, type, value labels and how a frame fills it.

    `kind` is how a response frame's column becomes this one: plain (as is), flag and option
    (0/1), choice (code or label), text (masked), number, date, time (local), weight.
    `question` is the question it comes from ("" for metadata), for the codebook's skip logic.
    """

    name: str
    label: str
    type: str
    values: tuple[tuple[str, str], ...] = ()
    source: str = ""
    kind: str = "plain"
    question: str = ""


def campaign_timezone(campaign: Campaign) -> str:
    """The campaign's time zone (`settings.timezone` of its file), Asia/Shanghai by default."""
    settings = campaign.settings if isinstance(campaign.settings, dict) else {}
    zone = settings.get("timezone")
    return zone if isinstance(zone, str) and zone else DEFAULT_TIMEZONE


def _label(form: Form, label: dict[str, str], fallback: str) -> str:
    return text_in(label, form.default_language, form.default_language) or fallback


def _meta(timezone: str) -> list[Variable]:
    return [
        Variable("response_id", "Response id", "integer", source="response_id"),
        Variable("submitted_at", f"Submission time ({timezone})", "datetime", (), "", "time"),
        Variable("channel", "Channel", "text", source="channel"),
        Variable("collection_point", "Collection point", "text", source="collection_point"),
        Variable("target_group", "Target group", "text", source="target_group"),
        Variable("language", "Language", "text", source="language"),
        Variable("duration", "Duration (seconds)", "decimal", (), "duration", "number"),
    ]


def variables(
    form: Form, *, timezone: str = DEFAULT_TIMEZONE, weight: bool = False
) -> list[Variable]:
    """Every exported column in order: metadata, the weight (when the campaign declares
    population margins), quality flags, then the answers."""
    out = _meta(timezone)
    if weight:
        out.append(Variable("weight", "Raking weight", "decimal", (), "weight", "weight"))
    out += [
        Variable(f"flag_{f}", f"Quality flag: {f}", "0/1", (("0", "no"), ("1", "yes")), f, "flag")
        for f in FLAGS
    ]
    for question in form.questions():
        if question.type in NO_ANSWER_TYPES:
            continue
        out += _question_variables(form, question)
    return out


def _question_variables(form: Form, question: Question) -> list[Variable]:
    label = _label(form, question.label, question.name)
    name = question.name
    if question.type in ("select_multiple", "rank"):
        labels = {c.name: _label(form, c.label, c.name) for c in form.choices_for(question)}
        multiple = question.type == "select_multiple"
        found = [
            Variable(
                option_column(question, o),
                f"{label}: {labels.get(o, o)}",
                "0/1" if multiple else "rank",
                (("0", "not chosen"), ("1", "chosen")) if multiple else (),
                option_column(question, o),
                "option" if multiple else "number",
                name,
            )
            for o in choice_names(form, question)
        ]
    elif question.type == "select_one":
        labels = {c.name: _label(form, c.label, c.name) for c in form.choices_for(question)}
        labels.setdefault(OTHER, text_in(OTHER_LABEL, form.default_language, "zh"))
        values = tuple((c, labels[c]) for c in choice_names(form, question))
        found = [Variable(name, label, "code", values, name, "choice", name)]
    elif question.type in TEXT_TYPES:
        found = [Variable(name, label, "text (masked)", (), name, "text", name)]
    elif question.type in ("integer", "decimal", "range"):
        found = [Variable(name, label, question.type, (), name, "number", name)]
    elif question.type in ("date", "today"):
        found = [Variable(name, label, "date", (), name, "date", name)]
    elif question.type == "acknowledge":
        found = [Variable(name, label, "0/1", (("0", "no"), ("1", "yes")), name, "option", name)]
    else:
        found = [Variable(name, label, question.type, (), name, "plain", name)]
    if question.or_other:
        other = f"{name}_other"
        found.append(Variable(other, f"{label} (other)", "text (masked)", (), other, "text", name))
    return found


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What an export holds: `labels` puts single choices as labels instead of codes; `raw`
    keeps free text unmasked (admins only, audited by the caller)."""

    labels: bool = False
    raw: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE


@dataclasses.dataclass
class Export:
    """The exported columns, the row count and the responses as frames (one per chunk)."""

    columns: list[Variable]
    rows: int
    frames: Iterator[pd.DataFrame]
    timezone: str


def _survey(
    session: Session, campaign: Campaign, form: Form, chunk_size: int
) -> tuple[dict[str, Any], Any | None, int]:
    """One pass before the export: each row's quality flags (the analysis screen), its raking
    weight when the campaign declares margins, and the number of rows.

    Only the flags, the weights and the few margin columns stay in memory: a byte or eight per
    response, not the responses.
    """
    durations = session.scalars(
        select(Response.duration_seconds)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id)
    ).all()
    threshold = speed_threshold(pa.array([d for d in durations], type=pa.float64()))
    screen = Screen(form, FLAGS, threshold, keep_flags=True)
    margins, bounds = _margins(campaign)
    margin_names = sorted({n for key in margins for n in ((key,) if isinstance(key, str) else key)})
    held: list[pd.DataFrame] = []
    for frame in iter_response_chunks(session, campaign, form, chunk_size=chunk_size):
        screen.screen(pa.RecordBatch.from_pandas(frame, preserve_index=False))
        if margin_names:
            held.append(frame[margin_names])
    flags = screen.flags(screen.finish())
    weights = None
    if margin_names and held:
        cells = pd.concat(held, ignore_index=True)
        weights = raked_weights(cells, margins, bounds=bounds).weights.to_numpy()
    return flags, weights, len(durations)


def _margins(campaign: Campaign) -> tuple[Any, tuple[float, float] | None]:
    settings = campaign.settings if isinstance(campaign.settings, dict) else {}
    weighting = settings.get("weighting")
    if not isinstance(weighting, dict) or not weighting.get("margins"):
        return {}, None
    return campaign_margins(settings)


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
    """The campaign's export: its columns and an iterator of typed frames, one per chunk of
    `options.chunk_size` responses read from the database in id order (memory stays that of
    one chunk, whatever the number of responses)."""
    options = options or ExportOptions()
    form = campaign_form(session, campaign)
    tz = campaign_timezone(campaign)
    flags, weights, total = _survey(session, campaign, form, options.chunk_size)
    columns = variables(form, timezone=tz, weight=weights is not None)

    def frames() -> Iterator[pd.DataFrame]:
        offset = 0
        for frame in iter_response_chunks(session, campaign, form, chunk_size=options.chunk_size):
            end = offset + len(frame)
            extra: dict[str, Any] = {f: flags[f][offset:end] for f in FLAGS}
            if weights is not None:
                extra["weight"] = weights[offset:end]
            offset = end
            yield pd.DataFrame(
                {v.name: _converted(v, frame, extra, options, tz) for v in columns},
                index=pd.RangeIndex(len(frame)),
            )

    return Export(columns, total, frames(), tz)


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
    return export.columns, _rows(export.frames)


def _rows(frames: Iterator[pd.DataFrame]) -> Iterator[list[Any]]:
    for frame in frames:
        for row in frame.itertuples(index=False, name=None):
            yield [plain_value(c) for c in row]


def is_text(column: pd.Series[Any]) -> bool:
    """Whether a column of an export frame holds text (pandas 3 infers `str` from `map`)."""
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def _csv_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for name, column in frame.items():
        if is_text(column):
            out[name] = column.map(csv_cell)
        elif isinstance(column.dtype, pd.DatetimeTZDtype):
            out[name] = column.dt.strftime("%Y-%m-%d %H:%M:%S")
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index)


def write_csv(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """UTF-8 with a BOM (so Excel reads the Chinese right), CRLF lines, formulas neutralised;
    whole numbers print without ".0" (`%.15g`)."""
    text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=False)
    text.write(BOM)
    csv.writer(text, lineterminator="\r\n").writerow([csv_cell(v.name) for v in export.columns])
    done = 0
    for frame in export.frames:
        _csv_chunk(frame).to_csv(
            text, header=False, index=False, lineterminator="\r\n", float_format="%.15g"
        )
        done += len(frame)
        _report(progress, done, export.rows)
    text.flush()
    text.detach()


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and total:
        progress(min(1.0, done / total))


def codebook_rows(columns: Sequence[Variable]) -> Iterator[list[str]]:
    """The short codebook of the XLSX sheet: variable, label, type, value labels."""
    yield ["variable", "label", "type", "value labels"]
    for v in columns:
        values = "; ".join(f"{code} = {label}" for code, label in v.values)
        yield [v.name, v.label, v.type, values]


def write_xlsx(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """A write-only (streaming) workbook: the responses, then a codebook sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    data = book.create_sheet("responses")
    data.append([csv_cell(v.name) for v in export.columns])
    done = 0
    for frame in export.frames:
        for row in frame.itertuples(index=False, name=None):
            data.append([csv_cell(plain_value(c)) for c in row])
        done += len(frame)
        _report(progress, done, export.rows)
    codebook = book.create_sheet("codebook")
    for line in codebook_rows(export.columns):
        codebook.append([csv_cell(c) for c in line])
    book.save(target)


def parquet_schema(export: Export) -> Any:
    """Arrow schema of the export: labels and value labels in each field's metadata, the whole
    codebook in the schema's."""
    types = {
        "integer": pa.float64(),
        "0/1": pa.int8(),
        "decimal": pa.float64(),
        "rank": pa.float64(),
        "range": pa.float64(),
        "datetime": pa.timestamp("us", tz=export.timezone),
    }
    fields = [
        pa.field(
            v.name,
            pa.int64() if v.name == "response_id" else types.get(v.type, pa.string()),
            metadata={
                "label": v.label,
                "value_labels": json.dumps(dict(v.values), ensure_ascii=False),
            },
        )
        for v in export.columns
    ]
    codebook = [
        {"variable": v.name, "label": v.label, "type": v.type, "values": dict(v.values)}
        for v in export.columns
    ]
    return pa.schema(
        fields, metadata={"minsheng.codebook": json.dumps(codebook, ensure_ascii=False)}
    )


def write_parquet(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """Parquet written one row group per chunk, labels in the schema metadata."""
    import pyarrow.parquet as pq

    schema = parquet_schema(export)
    done = 0
    with pq.ParquetWriter(target, schema) as writer:
        for frame in export.frames:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            done += len(frame)
            _report(progress, done, export.rows)
