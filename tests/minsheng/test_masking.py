"""The masking module against a corpus of spellings (tests/minsheng/data/masking_corpus.yaml):
every listed spelling of personal data is masked with its hint, ordinary numbers are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from minsheng.masking import KINDS, masked, personal_data, without_personal_data

CORPUS = yaml.safe_load(
    (Path(__file__).parent / "data" / "masking_corpus.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(("kind", "text", "expected"), CORPUS["masked"])
def test_personal_data_is_masked_with_a_hint(kind: str, text: str, expected: str) -> None:
    assert masked(text) == expected
    assert {found.kind for found in personal_data(text)} == {kind}


@pytest.mark.parametrize("text", CORPUS["unchanged"])
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert personal_data(text) == []
    assert masked(text) == text


def test_the_corpus_covers_every_kind() -> None:
    assert {kind for kind, _, _ in CORPUS["masked"]} == set(KINDS)


def test_several_kinds_in_one_suggestion_are_all_masked() -> None:
    text = "我是张三，电话13812345678，邮箱abc@x.com，车牌川A12345，希望18路延长到11点。"
    assert masked(text) == (
        "我是张三，电话138****5678，邮箱a***@x.com，车牌川A***45，希望18路延长到11点。"
    )


def test_without_personal_data_leaves_no_fragment_for_keywords() -> None:
    text = "联系我abc@example.com或138-1234-5678，微信: zhangsan_88，公交站太远"
    stripped = without_personal_data(text)
    for fragment in ("abc", "example", "com", "138", "5678", "zhangsan", "88"):
        assert fragment not in stripped
    assert "公交站太远" in stripped


def test_masking_a_masked_text_changes_nothing() -> None:
    for *_, expected in CORPUS["masked"]:
        assert masked(expected) == expected
