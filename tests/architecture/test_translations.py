"""Every package keeps its own catalog, and Flask-Babel merges them: the last catalog read wins.
So one English message must mean one Chinese text everywhere, or pages change with load order."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]


def _catalogs() -> list[Path]:
    return sorted(ROOT.glob("*/translations/zh_CN/LC_MESSAGES/messages.po"))


def test_every_package_catalog_is_found():
    packages = {path.parts[-5] for path in _catalogs()}
    assert {"minsheng", "campaigns", "contacts", "forms", "analysis", "exporters"} <= packages


def test_one_message_has_one_translation_across_catalogs():
    meanings: dict[str, dict[str, list[str]]] = {}
    for path in _catalogs():
        with path.open("rb") as handle:
            for message in read_po(handle):
                if not message.id or not message.string or message.context:
                    continue
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                text = message.string if isinstance(message.string, str) else message.string[0]
                meanings.setdefault(msgid, {}).setdefault(text, []).append(path.parts[-5])
    clashes = {msgid: texts for msgid, texts in meanings.items() if len(texts) > 1}
    assert clashes == {}
