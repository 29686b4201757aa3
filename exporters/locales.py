"""The translations of report text: this package's catalog, usable without a Flask request (a
report is rendered by a worker or a command, in the language asked for, not the visitor's)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOGS = Path(__file__).parent / "translations"


def report_translations(language: str) -> NullTranslations:
    """Translations for `language` ("zh_CN", "en"); msgids are English, so "en" needs none.

    The compiled `.mo` is used when it is up to date; otherwise the `.po` is compiled in memory,
    so a report never falls back to English because `minsheng i18n compile` was not run.
    """
    po_path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    return _load(po_path, po_path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(po_path: Path, _mtime: int) -> Translations:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as stream:
            return Translations(stream)
    with po_path.open("rb") as stream:
        catalog = read_po(stream)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)
