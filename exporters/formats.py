"""The export formats by name: what each writes, its file suffix, and whether a department may
have it, so the command, the page and the task offer the same list."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import closing
from typing import IO

from sqlalchemy.orm import Session

from campaigns.models import Campaign
from exporters.codebook import write_codebook_pdf, write_codebook_xlsx
from exporters.exports import Export, ExportOptions, Progress, export_frames
from exporters.open_data import write_datapackage
from exporters.statistical import write_dta, write_sav
from exporters.tabular import write_csv, write_parquet, write_xlsx

Writer = Callable[[Export, IO[bytes], Progress | None], None]


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    """One format: its writer and the suffix of its files."""

    name: str
    suffix: str
    write: Writer
    # Anonymised and suppressed: the only kind of export a department may have.
    anonymised: bool = False


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", "csv", write_csv),
        ExportFormat("xlsx", "xlsx", write_xlsx),
        ExportFormat("sav", "sav", write_sav),
        ExportFormat("dta", "dta", write_dta),
        ExportFormat("parquet", "parquet", write_parquet),
        ExportFormat("codebook", "xlsx", write_codebook_xlsx),
        ExportFormat("codebook-pdf", "pdf", write_codebook_pdf),
        ExportFormat("datapackage", "zip", write_datapackage, anonymised=True),
    )
}


def write_export(
    session: Session,
    campaign: Campaign,
    fmt: str,
    target: IO[bytes],
    options: ExportOptions | None = None,
    progress: Progress | None = None,
) -> None:
    """Write the campaign's export `fmt` (a name of `FORMATS`) to `target`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    with closing(export_frames(session, campaign, options)) as export:
        FORMATS[fmt].write(export, target, progress)
