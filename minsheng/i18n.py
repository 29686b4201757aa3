"""Languages: simplified Chinese first, English available. Each package keeps its own catalog in
`<package>/translations/<locale>/LC_MESSAGES/messages.po`; `compile_catalogs()` builds the `.mo`
files (`minsheng i18n compile`, run by `make`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, get_locale, refresh

from minsheng.db import LOCAL_TIMEZONE, local_time_text
from minsheng.packages import FEATURE_PACKAGES

LOCALES = ("zh_CN", "en")
PACKAGES = ("minsheng", *FEATURE_PACKAGES)


def translation_dirs() -> list[str]:
    """Every package's `translations/` folder that exists, the shell's first."""
    dirs = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations))) / "translations"
        if folder.is_dir():
            dirs.append(str(folder))
    return dirs


def compile_catalogs(dirs: list[str] | None = None) -> list[Path]:
    """Write a `.mo` for every `.po` that is newer than it; return the files written.

    Catalogs are kept under the short code (`zh_CN`); the `.mo` goes under Babel's canonical name
    (`zh_Hans_CN`), which is what gettext looks for once Babel has parsed the locale.
    """
    written = []
    for folder in dirs or translation_dirs():
        for po_path in Path(folder).glob("*/LC_MESSAGES/*.po"):
            canonical = str(Locale.parse(po_path.parents[1].name))
            mo_path = Path(folder) / canonical / "LC_MESSAGES" / po_path.with_suffix(".mo").name
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            written.append(mo_path)
    return written


def select_locale() -> str:
    """`?lang=` (remembered in the session), else the saved choice, else the configured default
    (the only choice outside a request: a CLI command's messages are in the default language)."""
    from flask import current_app, has_request_context

    if not has_request_context():
        return str(current_app.config["DEFAULT_LOCALE"])

    chosen = request.args.get("lang")
    if chosen in LOCALES:
        session["lang"] = chosen
        return chosen
    saved = session.get("lang")
    if saved in LOCALES:
        return str(saved)
    return str(current_app.config["DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(translation_dirs()))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", LOCAL_TIMEZONE)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale

    def localtime(moment: Any, campaign: Any = None) -> str:
        """`{{ moment|localtime(campaign) }}`: in the campaign's time zone, else the app's."""
        zone = getattr(campaign, "timezone", None) or LOCAL_TIMEZONE
        return local_time_text(moment, zone)

    app.jinja_env.filters["localtime"] = localtime
    # A cached locale from an earlier request in the same app context (tests, CLI) must not stick.
    app.before_request(refresh)
