"""Response exports an analyst opens without cleaning: one row per response, streamed in
chunks, with local submission times, channel, quality flags, answers as codes or labels,
one 0/1 column per option of a multiple choice, free text masked, no contact details and
every cell safe from formula injection."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy.orm import Session

from analysis.frames import NO_ANSWER_TYPES, choice_names, option_column
from analysis.loading import DEFAULT_CHUNK_SIZE, campaign_form, iter_response_chunks
from analysis.quality import FLAGS
from analysis.screening import Screen, speed_threshold
from campaigns.models import Campaign
from minsheng.masking import masked
from minsheng.workbooks import csv_cell
from questionnaire.schema import Form, Question, text_in

LOCAL_TIMEZONE = "Asia/Shanghai"
BOM = "\ufeff"
META = (
    ("response_id", "Response id", "integer"),
    ("submitted_at", f"Submission time ({LOCAL_TIMEZONE})", "datetime"),
    ("channel", "Channel", "text"),
    ("collection_point", "Collection point", "text"),
    ("target_group", "Target group", "text"),
    ("language", "Language", "text"),
    ("duration", "Duration (seconds)", "decimal"),
)
TEXT_TYPES = frozenset({"text"})


@dataclasses.dataclass(frozen=True)
class Variable:
    """One exported column: its name, label, type, value labels and how a frame fills it."""

    name: str
    label: str
    type: str
    values: tuple[tuple[str, str], ...] = ()
    source: str = ""
    kind: str = "plain"


def _label(form: Form, label: dict[str, str], fallback: str) -> str:
    return text_in(label, form.default_language, form.default_language) or fallback


def variables(form: Form) -> list[Variable]:
    """Every exported column in order: metadata, quality flags, then the answers."""
    out = [Variable(n, label, kind, source=n) for n, label, kind in META]
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
    if question.type in ("select_multiple", "rank"):
        names = choice_names(form, question)
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
            )
            for o in names
        ]
    elif question.type == "select_one":
        values = tuple((c.name, _label(form, c.label, c.name)) for c in form.choices_for(question))
        found = [Variable(question.name, label, "code", values, question.name, "choice")]
    elif question.type in TEXT_TYPES:
        found = [Variable(question.name, label, "text (masked)", (), question.name, "text")]
    else:
        found = [Variable(question.name, label, question.type, (), question.name)]
    if question.or_other:
        other = f"{question.name}_other"
        found.append(Variable(other, f"{label} (other)", "text (masked)", (), other, "text"))
    return found


def _cell(variable: Variable, value: Any, labels: bool) -> Any:
    """One exported value: None for missing, masked text, 0/1 options, codes or labels."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if variable.kind == "text":
        return masked(str(value))
    if variable.kind in ("option", "flag"):
        return int(bool(value))
    if variable.kind == "choice" and labels:
        return dict(variable.values).get(str(value), str(value))
    if variable.name == "submitted_at":
        return pd.Timestamp(value).tz_convert(LOCAL_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (np.integer, np.bool_)):
        return int(value)
    if isinstance(value, np.floating):
        number = float(value)
        return int(number) if number.is_integer() else number
    return value if isinstance(value, (int, float)) else str(value)


def _flags(session: Session, campaign: Campaign, form: Form, chunk_size: int) -> dict[str, Any]:
    """The analysis quality screen's per-row flags, by flag name, in response-id order.

    A first pass over the chunks reads the durations (the speed threshold is their median) and
    screens each chunk; only the flags stay in memory, one boolean per response and rule.
    """
    chunks = list(_arrow_chunks(session, campaign, form, chunk_size, ["duration"]))
    durations = pa.chunked_array([c["duration"] for c in chunks], type=pa.float64())
    screen = Screen(form, FLAGS, speed_threshold(durations), keep_flags=True)
    for batch in _arrow_chunks(session, campaign, form, chunk_size):
        screen.screen(batch)
    return screen.flags(screen.finish())


def _arrow_chunks(
    session: Session,
    campaign: Campaign,
    form: Form,
    chunk_size: int,
    columns: Sequence[str] | None = None,
) -> Iterator[Any]:
    for frame in iter_response_chunks(session, campaign, form, chunk_size=chunk_size):
        if columns is not None:
            frame = frame[list(columns)]
        yield pa.RecordBatch.from_pandas(frame, preserve_index=False)


def export_rows(
    session: Session,
    campaign: Campaign,
    *,
    labels: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[list[Variable], Iterator[list[Any]]]:
    """The exported columns and an iterator of rows (lists of plain values), read in chunks."""
    form = campaign_form(session, campaign)
    columns = variables(form)
    flags = _flags(session, campaign, form, chunk_size)

    def rows() -> Iterator[list[Any]]:
        offset = 0
        for frame in iter_response_chunks(session, campaign, form, chunk_size=chunk_size):
            data = {
                v.name: (
                    flags[v.source][offset : offset + len(frame)]
                    if v.kind == "flag"
                    else frame[v.source].astype(object).to_numpy()
                )
                for v in columns
            }
            offset += len(frame)
            for i in range(len(frame)):
                yield [_cell(v, data[v.name][i], labels) for v in columns]

    return columns, rows()


def write_csv(columns: Sequence[Variable], rows: Iterator[list[Any]], target: IO[bytes]) -> None:
    """UTF-8 with a BOM (so Excel reads the Chinese right), CRLF lines, formulas neutralised."""
    text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
    text.write(BOM)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([csv_cell(v.name) for v in columns])
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    text.detach()


def codebook_rows(columns: Sequence[Variable]) -> Iterator[list[str]]:
    """The codebook: variable, label, type, value labels ("code = label; ...")."""
    yield ["variable", "label", "type", "value labels"]
    for v in columns:
        values = "; ".join(f"{code} = {label}" for code, label in v.values)
        yield [v.name, v.label, v.type, values]


def write_xlsx(columns: Sequence[Variable], rows: Iterator[list[Any]], target: IO[bytes]) -> None:
    """A write-only (streaming) workbook: the responses, then a codebook sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    data = book.create_sheet("responses")
    data.append([csv_cell(v.name) for v in columns])
    for row in rows:
        data.append([csv_cell(c) for c in row])
    codebook = book.create_sheet("codebook")
    for line in codebook_rows(columns):
        codebook.append([csv_cell(c) for c in line])
    book.save(target)


def write_parquet(
    columns: Sequence[Variable], rows: Iterator[list[Any]], target: IO[bytes], batch: int = 10_000
) -> None:
    """Parquet written in row groups, the labels and value labels in the schema metadata."""
    import json

    import pyarrow.parquet as pq

    types = {
        "integer": pa.float64(),
        "0/1": pa.int8(),
        "decimal": pa.float64(),
        "rank": pa.float64(),
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
        for v in columns
    ]
    codebook = [
        {"variable": v.name, "label": v.label, "type": v.type, "values": dict(v.values)}
        for v in columns
    ]
    schema = pa.schema(
        fields, metadata={"minsheng.codebook": json.dumps(codebook, ensure_ascii=False)}
    )
    with pq.ParquetWriter(target, schema) as writer:
        buffer: list[list[Any]] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= batch:
                writer.write_table(_table(buffer, schema))
                buffer = []
        writer.write_table(_table(buffer, schema))


def _table(buffer: list[list[Any]], schema: Any) -> Any:
    arrays = [
        pa.array(
            [
                r[i] if not isinstance(r[i], str) or pa.types.is_string(f.type) else None
                for r in buffer
            ],
            type=f.type,
        )
        for i, f in enumerate(schema)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_export(
    session: Session,
    campaign: Campaign,
    fmt: str,
    target: IO[bytes],
    *,
    labels: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> None:
    """Write campaign's responses as ``fmt`` ("csv", "xlsx" or "parquet") to ``target``."""
    columns, rows = export_rows(session, campaign, labels=labels, chunk_size=chunk_size)
    writer = {"csv": write_csv, "xlsx": write_xlsx, "parquet": write_parquet}[fmt]
    writer(columns, rows, target)
