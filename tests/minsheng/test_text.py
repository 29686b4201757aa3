"""Reading JSON columns: stored NUL and lone surrogates come back as U+FFFD, whether the driver
hands over text (SQLite) or bytes (psycopg), and ordinary text comes back untouched."""

from __future__ import annotations

import json

import pytest

from minsheng.text import json_loads


@pytest.mark.parametrize("as_bytes", [False, True])
@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ('{"a": "bad \\ud800 and \\u0000 here"}', {"a": "bad \ufffd and \ufffd here"}),
        ('["\\uDFFF"]', ["\ufffd"]),
        ('{"a": "x\ud800y"}', {"a": "x\ufffdy"}),
    ],
)
def test_stored_nul_and_lone_surrogates_are_read_as_a_replacement(stored, read, as_bytes):
    raw = stored.encode("utf-8", "surrogatepass") if as_bytes else stored
    assert json_loads(raw) == read


@pytest.mark.parametrize("as_bytes", [False, True])
@pytest.mark.parametrize("value", [{"a": "骑车 😀"}, {"한국어": "\ud7a3 힣"}, [1, None, "\\u0000"]])
def test_paired_surrogates_hangul_and_escaped_backslashes_read_unchanged(value, as_bytes):
    stored = json.dumps(value)
    assert json_loads(stored.encode() if as_bytes else stored) == value
