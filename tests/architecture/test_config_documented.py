"""Every setting is explained once, in `minsheng.config.SETTINGS`, and the README's configuration
table is generated from it (`minsheng config docs`), so the two never drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from minsheng.config import SETTINGS, settings_markdown

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE = re.compile(r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", re.DOTALL)


def test_every_setting_has_a_sentence_of_help():
    for setting in SETTINGS:
        assert len(setting.help) >= 15 and setting.help.endswith("."), setting.name
        assert setting.name.isupper() and setting.env == f"MINSHENG_{setting.name}"


def test_readme_configuration_table_is_the_generated_one():
    match = TABLE.search(README.read_text(encoding="utf-8"))
    assert match, "README.md has no settings-table markers"
    assert match.group(1) == settings_markdown(), (
        "README's configuration table is stale: replace it with `minsheng config docs`"
    )


def test_readme_names_every_setting_once_in_its_table():
    table = TABLE.search(README.read_text(encoding="utf-8"))
    assert table
    for setting in SETTINGS:
        assert table.group(1).count(f"| `{setting.env}` |") == 1, setting.env


def test_config_docs_command_prints_the_table(runner):
    result = runner.invoke(args=["config", "docs"])
    assert result.exit_code == 0
    assert result.output == settings_markdown()
