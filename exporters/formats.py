"""The export formats by name: what each writes, its file suffix, and whether a department may
have it, so the command, the page and the task offer the same list."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import IO

from flask import current_app
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from exporters.codebook import campaign_codebook, write_codebook_pdf, write_codebook_xlsx
from exporters.exports import Export, ExportOptions, Progress, export_frames
from exporters.open_data import produce_datapackage
from exporters.statistical import write_dta, write_sav
from exporters.tabular import write_csv, write_parquet, write_xlsx

#: (session, campaign, target, options, progress) -> None
Producer = Callable[[Session, Campaign, IO[bytes], ExportOptions, Progress | None], None]


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    """One format: how it is produced and the suffix of its files."""

    name: str
    suffix: str
    produce: Producer
    # Anonymised and suppressed: the only kind of export a department may have.
    anonymised: bool = False


def _responses(writer: Callable[[Export, IO[bytes], Progress | None], None]) -> Producer:
    def produce(
        session: Session,
        campaign: Campaign,
        target: IO[bytes],
        options: ExportOptions,
        progress: Progress | None,
    ) -> None:
        writer(export_frames(session, campaign, options), target, progress)

    return produce


def _codebook_xlsx(
    session: Session, campaign: Campaign, target: IO[bytes], _o: ExportOptions, _p: Progress | None
) -> None:
    write_codebook_xlsx(campaign_codebook(session, campaign), target)


def _codebook_pdf(
    session: Session, campaign: Campaign, target: IO[bytes], _o: ExportOptions, _p: Progress | None
) -> None:
    write_codebook_pdf(campaign, campaign_codebook(session, campaign), target)


def _datapackage(
    session: Session,
    campaign: Campaign,
    target: IO[bytes],
    options: ExportOptions,
    progress: Progress | None,
) -> None:
    threshold = int(current_app.config["SUPPRESSION_THRESHOLD"])
    produce_datapackage(session, campaign, target, options, progress, threshold)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", "csv", _responses(write_csv)),
        ExportFormat("xlsx", "xlsx", _responses(write_xlsx)),
        ExportFormat("sav", "sav", _responses(write_sav)),
        ExportFormat("dta", "dta", _responses(write_dta)),
        ExportFormat("parquet", "parquet", _responses(write_parquet)),
        ExportFormat("codebook", "xlsx", _codebook_xlsx),
        ExportFormat("codebook-pdf", "pdf", _codebook_pdf),
        ExportFormat("datapackage", "zip", _datapackage, anonymised=True),
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
    FORMATS[fmt].produce(session, campaign, target, options or ExportOptions(), progress)
