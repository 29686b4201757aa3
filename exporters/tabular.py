"""The tabular export files: CSV (UTF-8 with BOM), XLSX (streamed, with the codebook sheet) and
Parquet (a row group per chunk, labels in its metadata), written chunk by chunk."""

from __future__ import annotations

import csv
import io
import json
from typing import IO, Any

import pandas as pd
import pyarrow as pa

from exporters.codebook import codebook_entries, codebook_table
from exporters.exports import Export, Progress, is_text, plain_value, report_progress
from minsheng.workbooks import csv_cell, xlsx_cell

BOM = "\ufeff"


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
    for frame in export.frames():
        _csv_chunk(frame).to_csv(
            text, header=False, index=False, lineterminator="\r\n", float_format="%.15g"
        )
        done += len(frame)
        report_progress(progress, done, export.rows)
    text.flush()
    text.detach()


def write_xlsx(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """A write-only (streaming) workbook: the responses, then a codebook sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    data = book.create_sheet("responses")
    data.append([xlsx_cell(v.name) for v in export.columns])
    done = 0
    for frame in export.frames():
        for row in frame.itertuples(index=False, name=None):
            data.append([xlsx_cell(plain_value(c)) for c in row])
        done += len(frame)
        report_progress(progress, done, export.rows)
    codebook = book.create_sheet("codebook")
    for line in codebook_table(codebook_entries(export.form, export.columns)):
        codebook.append([xlsx_cell(c) for c in line])
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
        for frame in export.frames():
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            done += len(frame)
            report_progress(progress, done, export.rows)
