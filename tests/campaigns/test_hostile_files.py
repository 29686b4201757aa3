"""Hostile campaign files: a YAML "billion laughs", nesting past any questionnaire and a file too
large are refused with the file named, before anything walks them (issue 11)."""

from __future__ import annotations

import pytest

from campaigns.definition import MAX_FILE_BYTES, read_campaign_file
from minsheng.errors import InputError, TooLargeError

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
