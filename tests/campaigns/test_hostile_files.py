"""Hostile campaign files: a YAML "billion laughs", nesting past any questionnaire and a file too
large are refused with the file named, before anything walks them (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.definition import MAX_FILE_BYTES, read_campaign_file
from minsheng.errors import InputError, TooLargeError

ROOT = Path(__file__).parents[2]
LAUGHS = "\n".join(
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
)


def test_a_billion_laughs_yaml_is_refused_not_expanded(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    with pytest.raises(TooLargeError, match="aliases count each time"):
        read_campaign_file(path)


@pytest.mark.parametrize("depth", [100, 5000])
def test_yaml_nested_past_the_limit_is_refused(tmp_path, depth):
    path = tmp_path / "deep.yaml"
    path.write_text("slug: " + "[" * depth + "]" * depth, encoding="utf-8")
    with pytest.raises(InputError, match="nested"):
        read_campaign_file(path)


def test_a_campaign_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(TooLargeError, match="bytes"):
        read_campaign_file(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("\\0", "contains U+0000 at character 3"),
        ("\\uD800", "contains U+D800 at character 3"),
        ("\\e", "contains the control character U+001B at character 3"),
    ],
)
def test_text_no_page_or_workbook_can_hold_is_refused_naming_its_field(tmp_path, text, reason):
    source = (ROOT / "examples" / "transport.yaml").read_text(encoding="utf-8")
    source = source.replace("theme: 交通出行", f'theme: "交通{text}出行"')
    source = source.replace("label: {zh: 锦江区,", f'label: {{zh: "锦江{text}区",', 1)
    path = tmp_path / "campaign.yaml"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_campaign_file(path)
    assert [p.location for p in refused.value.problems] == [
        "campaign.yaml: theme",
        "campaign.yaml: choices.district[0].label.zh",
    ]
    assert all(p.message.startswith(reason) for p in refused.value.problems)
