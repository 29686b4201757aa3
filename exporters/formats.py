"""The export formats by name: which writer makes each, its file suffix and media type, so the
command, the page and the task offer the same list."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import IO

from sqlalchemy.orm import Session

from campaigns.models import Campaign
from exporters.exports import (
    Export,
    ExportOptions,
    Progress,
    export_frames,
    write_csv,
    write_parquet,
    write_xlsx,
)
from exporters.statistical import write_dta, write_sav

Writer = Callable[[Export, IO[bytes], Progress | None], None]


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    """One format: its writer and the suffix of its files."""

    name: str
    suffix: str
    writer: Writer


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", "csv", write_csv),
        ExportFormat("xlsx", "xlsx", write_xlsx),
        ExportFormat("sav", "sav", write_sav),
        ExportFormat("dta", "dta", write_dta),
        ExportFormat("parquet", "parquet", write_parquet),
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
    """Write the campaign's responses as `fmt` (a name of `FORMATS`) to `target`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    FORMATS[fmt].writer(export_frames(session, campaign, options), target, progress)
