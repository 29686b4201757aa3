"""Chinese open text: segmentation, TF-IDF keywords, themes and near-duplicate clusters."""

from __future__ import annotations

import itertools
import math
import random

import jieba
import pytest

from analysis.frames import answers_frame
from analysis.summary import summarize_frame
from analysis.text import (
    BACKGROUND_CORPUS,
    inverse_document_frequency,
    keywords,
    near_duplicate_groups,
    normalise,
    terms,
    text_summary,
    tokenizer,
)
from campaigns.definition import read_campaign_file

from .conftest import EXAMPLE

SUGGESTIONS = [
    "建议增加地铁末班车的班次",
    "希望公交站台增加遮阳棚和座椅",
    "小区周边停车位太少，建议建设立体停车场",
    "老旧小区加装电梯补贴太少，审批流程太长",
    "地铁站出口没有共享单车停放点，最后一公里不方便",
    "社区食堂价格再低一点，方便独居老人吃饭",
]


def test_domain_words_stay_whole_where_plain_jieba_splits_them():
    plain = jieba.Tokenizer()
    for word in ("最后一公里", "公交专用道", "日间照料中心"):
        assert word not in plain.lcut(f"解决{word}的问题")
        assert word in terms(f"解决{word}的问题")


def test_stop_words_punctuation_and_numbers_are_not_terms():
    found = terms("我们希望建议：增加3条公交线路，好吗？")
    assert "公交线路" in found
    for word in ("我们", "希望", "建议", "3", "：", "吗"):
        assert word not in found


def test_tokenizer_is_loaded_once_and_quietly(capfd):
    tokenizer.cache_clear()
    capfd.readouterr()
    first = tokenizer()
    assert first is tokenizer()
    assert "加装电梯" in terms("加装电梯")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_idf_follows_the_smoothed_formula_on_the_background_corpus():
    documents = [
        line for line in BACKGROUND_CORPUS.read_text(encoding="utf-8").splitlines() if line
    ]
    n = len(documents)
    assert inverse_document_frequency("末班车") == pytest.approx(math.log(1 + n) + 1, abs=1e-12)
    containing = sum("社区" in terms(d) for d in documents)
    assert containing > 3
    assert inverse_document_frequency("社区") == pytest.approx(
        math.log((1 + n) / (1 + containing)) + 1, abs=1e-12
    )


def test_keywords_rank_by_share_of_answers_times_idf():
    answers = [set(terms(t)) for t in SUGGESTIONS * 3 + SUGGESTIONS[:2] * 5]
    ranked = keywords(answers, limit=50)
    n = len(answers)
    for keyword in ranked:
        count = sum(keyword.term in a for a in answers)
        assert keyword.answers == count
        assert keyword.score == pytest.approx(
            count / n * inverse_document_frequency(keyword.term), abs=1e-12
        )
    scores = [k.score for k in ranked]
    assert scores == sorted(scores, reverse=True)
    assert ranked[0].term in terms(SUGGESTIONS[0]) + terms(SUGGESTIONS[1])


def jaccard_components(texts, threshold):
    """Brute force: every pair's exact Jaccard on character bigrams, then connected parts."""
    forms = [normalise(t) for t in texts]
    grams = [{f[i : i + 2] for i in range(len(f) - 1)} or {f} for f in forms]
    parent = list(range(len(texts)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(texts)), 2):
        if len(grams[i] & grams[j]) >= threshold * len(grams[i] | grams[j]):
            parent[root(i)] = root(j)
    parts = {}
    for i in range(len(texts)):
        parts.setdefault(root(i), []).append(i)
    return sorted(sorted(p) for p in parts.values())


def test_near_duplicates_match_brute_force_jaccard_clustering():
    rng = random.Random(3)
    texts = []
    for base in SUGGESTIONS:
        texts.append(base)
        texts.append(base + "！")  # punctuation only
        texts.append(base.replace("建议", "希望"))  # one word swapped
        texts.append(" ".join(base))  # spaces
    texts += ["停车", "停车", "完全不同的一条关于公园绿化的意见"]
    rng.shuffle(texts)
    groups = near_duplicate_groups(texts, threshold=0.7)
    assert sorted(groups) == jaccard_components(texts, 0.7)
    for base in SUGGESTIONS:
        home = next(g for g in groups if texts.index(base) in g)
        assert texts.index(base + "！") in home and texts.index(" ".join(base)) in home
    alone = next(g for g in groups if texts[g[0]].startswith("完全不同"))
    assert len(alone) == 1


def test_repeated_suggestions_merge_into_counted_clusters():
    rng = random.Random(5)
    texts = [rng.choice(SUGGESTIONS) for _ in range(300)]
    texts += ["建议增加地铁末班车班次！"] * 7 + ["", "   "]
    summary = text_summary(texts)
    assert summary.n_answers == 307
    assert summary.n_distinct == len(SUGGESTIONS)
    subway = next(c for c in summary.duplicates if "末班车" in c.text)
    assert subway.count == texts.count(SUGGESTIONS[0]) + 7
    assert subway.wordings == 2
    assert subway.text == SUGGESTIONS[0]
    assert sum(c.count for c in summary.duplicates) == 307


def test_themes_count_answers_and_quote_them():
    rng = random.Random(8)
    texts = [rng.choice(SUGGESTIONS) for _ in range(200)]
    summary = text_summary(texts, n_themes=4)
    assert len(summary.themes) == 4
    assert sum(t.count for t in summary.themes) + summary.n_unthemed == 200
    for theme in summary.themes:
        members = [t for t in texts if theme.keyword in terms(t)]
        assert theme.count <= len(members)
        assert theme.percent == pytest.approx(100 * theme.count / 200)
        assert theme.quotes and all(q in texts for q in theme.quotes)
        assert all(theme.keyword in terms(q) for q in theme.quotes)
    counts = [t.count for t in summary.themes]
    assert counts == sorted(counts, reverse=True)


def test_no_text_answers_give_an_empty_summary():
    summary = text_summary([None, "", "  "])
    assert summary.n_answers == 0 and summary.keywords == () and summary.themes == ()


def test_summary_of_a_text_question_carries_its_text_analysis():
    form = read_campaign_file(EXAMPLE).form
    frame = answers_frame([{"suggestion": s} for s in SUGGESTIONS * 4] + [{}], form)
    question = summarize_frame(frame, form, exclude=()).question("suggestion")
    assert question.n_base == 24 and question.text.n_answers == 24
    assert question.text.n_distinct == len(SUGGESTIONS)
    quick = summarize_frame(frame, form, text_analysis=False, exclude=()).question("suggestion")
    assert quick.text is None and quick.n_base == 24
