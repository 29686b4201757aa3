"""Chinese open-text answers: segmentation (jieba, with a domain dictionary and stop words),
TF-IDF keywords against a background corpus, keyword-seeded themes with representative quotes,
and near-duplicate clusters (MinHash LSH) so that repeated suggestions are read once, with a count.
Every text it hands out (quotes, duplicate wordings) is masked (`minsheng.masking`) and keywords
are segmented with personal data taken out, so no phone number or address leaves through them.

The dictionary, stop words and background corpus ship in ``analysis/data/``; jieba is loaded once
per process and kept quiet.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
import pandas as pd
from datasketch import MinHash, MinHashLSH

from analysis.results import Result
from minsheng.masking import masked, without_personal_data

DATA = Path(__file__).parent / "data"
DOMAIN_DICTIONARY = DATA / "domain_dict.txt"
STOP_WORDS = DATA / "stopwords.txt"
BACKGROUND_CORPUS = DATA / "background_corpus.txt"
#: Characters kept when comparing texts for duplicates: letters and digits of any script.
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
#: Character bigrams: in short Chinese texts one changed character alters few of them.
SHINGLE = 2
NUM_PERM = 128
DUPLICATE_THRESHOLD = 0.7


@lru_cache(maxsize=1)
def tokenizer() -> jieba.Tokenizer:
    """The process-wide jieba tokenizer with the domain dictionary loaded (built on first use).

    jieba logs its dictionary loading at DEBUG level to stderr; its logger is set to WARNING.
    """
    jieba.setLogLevel(logging.WARNING)
    instance = jieba.Tokenizer()
    instance.initialize()
    # An open file, because jieba leaves a file it opened from a path unclosed.
    with DOMAIN_DICTIONARY.open("rb") as words:
        instance.load_userdict(words)
    return instance


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Function words and suggestion boilerplate (建议, 希望, ...) that never make a keyword."""
    lines = STOP_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation and spaces removed: the form compared for duplicates."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def terms(text: str) -> list[str]:
    """Content words of ``text`` in order: jieba tokens without stop words, punctuation,
    numbers and single characters (which are mostly particles or fragments in Chinese), and
    without the personal data typed into it (an e-mail address would give `com`, a WeChat id a
    word of its own)."""
    stops = stop_words()
    out = []
    plain = unicodedata.normalize("NFKC", without_personal_data(text)).lower()
    for token in tokenizer().lcut(plain):
        word = token.strip()
        if len(word) < 2 or word in stops or not _NOT_WORD.sub("", word) or word.isdigit():
            continue
        out.append(word)
    return out


@lru_cache(maxsize=1)
def background_frequencies() -> tuple[int, dict[str, int]]:
    """Number of background documents and, per term, how many contain it."""
    lines = BACKGROUND_CORPUS.read_text(encoding="utf-8").splitlines()
    documents = [line.strip() for line in lines if line.strip()]
    frequency: Counter[str] = Counter()
    for document in documents:
        frequency.update(set(terms(document)))
    return len(documents), dict(frequency)


def inverse_document_frequency(term: str) -> float:
    """Smoothed IDF of ``term`` in the background corpus: ln((1 + N) / (1 + df)) + 1.

    The smoothing is scikit-learn's ``TfidfTransformer(smooth_idf=True)``: a term the background
    never uses gets the largest weight, ln(1 + N) + 1, and none gets zero.
    """
    size, frequency = background_frequencies()
    return math.log((1 + size) / (1 + frequency.get(term, 0))) + 1


@dataclass(frozen=True)
class Keyword(Result):
    """A keyword: ``answers`` containing it (``percent`` of all answers) and its TF-IDF score."""

    term: str
    answers: int
    percent: float
    score: float


@dataclass(frozen=True)
class Theme(Result):
    """Answers gathered under a seed keyword, with the words that go with it and quotes."""

    keyword: str
    related: tuple[str, ...]
    count: int
    percent: float
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class DuplicateCluster(Result):
    """Answers that say the same thing: the most frequent wording, how many answers, and how
    many different wordings were merged."""

    text: str
    count: int
    wordings: int


@dataclass(frozen=True)
class TextSummary(Result):
    """What a campaign's open answers say. ``n_distinct`` counts clusters after merging near
    duplicates; ``duplicates`` lists clusters of two or more answers, largest first."""

    n_answers: int
    n_distinct: int
    keywords: tuple[Keyword, ...]
    themes: tuple[Theme, ...]
    n_unthemed: int
    duplicates: tuple[DuplicateCluster, ...]
    method: str = (
        "jieba segmentation with domain dictionary; TF-IDF against background corpus; "
        "keyword-seeded themes; MinHash LSH on character bigrams"
    )


def _shingles(text: str) -> set[str]:
    if len(text) <= SHINGLE:
        return {text}
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def near_duplicate_groups(
    texts: Sequence[str], threshold: float = DUPLICATE_THRESHOLD, num_perm: int = NUM_PERM
) -> list[list[int]]:
    """Indices of ``texts`` grouped into clusters of near duplicates, largest cluster first.

    Notes
    -----
    Texts are normalised (`normalise`); identical normal forms are merged first. Distinct forms
    are compared as sets of character bigrams: MinHash LSH (Broder 1997; ``datasketch``) finds
    candidate pairs with estimated Jaccard similarity >= ``threshold``, each candidate is checked
    with the exact Jaccard similarity, and clusters are the connected components of the
    accepted pairs (so A~B and B~C put A, B, C together). Cost grows with the number of
    distinct texts, not of answers. Empty texts are left out.

    References
    ----------
    Broder, A. Z. (1997). On the resemblance and containment of documents. Compression and
    Complexity of Sequences, 21-29.
    Leskovec, J., Rajaraman, A., Ullman, J. (2014). Mining of Massive Datasets, ch. 3.
    """
    by_form: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(texts):
        form = normalise(text)
        if form:
            by_form[form].append(index)
    forms = list(by_form)
    shingles = [_shingles(f) for f in forms]
    parent = list(range(len(forms)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(forms) > 1:
        hashes = MinHash.bulk(
            [[s.encode("utf-8") for s in group] for group in shingles], num_perm=num_perm
        )
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        for i, minhash in enumerate(hashes):
            for j in lsh.query(minhash):
                a, b = shingles[i], shingles[j]
                if len(a & b) >= threshold * len(a | b):
                    parent[root(i)] = root(j)
            lsh.insert(i, minhash)
    clusters: dict[int, list[int]] = defaultdict(list)
    for i, form in enumerate(forms):
        clusters[root(i)].extend(by_form[form])
    return sorted((sorted(c) for c in clusters.values()), key=lambda c: (-len(c), c[0]))


def keywords(
    answer_terms: Sequence[Iterable[str]],
    limit: int = 20,
    min_answers: int = 2,
    repeats: Sequence[int] | None = None,
) -> tuple[Keyword, ...]:
    """The ``limit`` best keywords of a set of answers by TF-IDF against the background corpus.

    TF is the share of answers containing the term (each answer counts once), IDF is
    `inverse_document_frequency`; score = TF x IDF. Terms in fewer than ``min_answers`` answers
    are left out (a single answer is not a pattern), unless there are fewer answers than that.
    ``repeats`` gives how many answers each entry stands for (distinct wordings with counts).
    """
    weights = list(repeats) if repeats is not None else [1] * len(answer_terms)
    n = sum(weights)
    if n == 0:
        return ()
    frequency: Counter[str] = Counter()
    for words, weight in zip(answer_terms, weights, strict=True):
        for term in set(words):
            frequency[term] += weight
    floor = min(min_answers, n)
    scored = [
        (count / n * inverse_document_frequency(term), term, count)
        for term, count in frequency.items()
        if count >= floor
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return tuple(
        Keyword(term=term, answers=count, percent=100 * count / n, score=score)
        for score, term, count in scored[:limit]
    )


@dataclass(frozen=True)
class _Wordings:
    """Distinct wordings of the answers with how many answers each stands for, their content
    words and their near-duplicate cluster."""

    texts: list[str]
    repeats: list[int]
    terms: list[set[str]]
    cluster_of: list[int]
    clusters: list[DuplicateCluster]


def _wordings(counted: Mapping[str, int], threshold: float) -> _Wordings:
    # Wordings as shown (masked): answers that differ only in a phone number are one wording.
    shown: Counter[str] = Counter()
    # A masked wording's content words come from an answer behind it: a mask's hint (the domain
    # of `a***@example.com`) is no word of the suggestion.
    source: dict[str, str] = {}
    for text in sorted(counted):
        wording = masked(text)
        shown[wording] += counted[text]
        source.setdefault(wording, text)
    # In text order, so ties break the same way whatever order the answers were counted in.
    distinct = sorted(shown)
    repeats = [shown[t] for t in distinct]
    groups = near_duplicate_groups(distinct, threshold)
    cluster_of = [0] * len(distinct)
    clusters = []
    for number, group in enumerate(groups):
        for i in group:
            cluster_of[i] = number
        best = min(group, key=lambda i: (-repeats[i], len(distinct[i]), distinct[i]))
        clusters.append(
            DuplicateCluster(distinct[best], sum(repeats[i] for i in group), len(group))
        )
    order = sorted(range(len(clusters)), key=lambda c: (-clusters[c].count, c))
    renumber = {old: new for new, old in enumerate(order)}
    return _Wordings(
        texts=distinct,
        repeats=repeats,
        terms=[set(terms(source[t])) for t in distinct],
        cluster_of=[renumber[c] for c in cluster_of],
        clusters=[clusters[c] for c in order],
    )


def _themes(
    words: _Wordings, ranked: Sequence[Keyword], limit: int, quotes: int
) -> tuple[list[Theme], int]:
    """Keyword-seeded themes: each answer joins the theme of the best-ranked keyword it
    contains; themes are the ``limit`` largest, the rest of the answers stay unthemed."""
    seeds = [k.term for k in ranked]
    members: dict[str, list[int]] = defaultdict(list)
    for i, found in enumerate(words.terms):
        seed = next((s for s in seeds if s in found), None)
        if seed is not None:
            members[seed].append(i)
    size = {seed: sum(words.repeats[i] for i in rows) for seed, rows in members.items()}
    chosen = sorted(members.items(), key=lambda kv: (-size[kv[0]], seeds.index(kv[0])))[:limit]
    n = sum(words.repeats)
    themes = []
    for seed, rows in chosen:
        together: Counter[str] = Counter()
        for i in rows:
            for term in words.terms[i] - {seed}:
                together[term] += words.repeats[i]
        # Ties are broken by the word, so every process picks the same (set order is not).
        ranked_words = sorted(together.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        related = tuple(t for t, c in ranked_words if c >= 2)
        vocabulary = {seed, *related}
        # Quotes: the most repeated suggestions, then those using most of the theme's words;
        # one per near-duplicate cluster, in the theme's own most frequent wording of it (so
        # every quote contains the theme's keyword).
        order = sorted(
            rows,
            key=lambda i: (
                -words.clusters[words.cluster_of[i]].count,
                -words.repeats[i],
                -len(words.terms[i] & vocabulary),
                len(words.texts[i]),
            ),
        )
        picked: dict[int, str] = {}
        for i in order:
            picked.setdefault(words.cluster_of[i], words.texts[i])
            if len(picked) == quotes:
                break
        themes.append(
            Theme(seed, related, size[seed], 100 * size[seed] / n, tuple(picked.values()))
        )
    return themes, n - sum(t.count for t in themes)


def text_summary(
    answers: Sequence[Any] | pd.Series[Any],
    *,
    n_keywords: int = 20,
    n_themes: int = 8,
    n_quotes: int = 3,
    n_duplicates: int = 10,
    threshold: float = DUPLICATE_THRESHOLD,
) -> TextSummary:
    """Keywords, themes and near-duplicate clusters of a text question's answers.

    Missing and blank answers are left out. Identical answers are counted first and each
    distinct wording is segmented and hashed once, so a campaign where many people sent the
    same suggestion costs what its distinct texts cost. Counts are of answers (unweighted).
    """
    values = answers.tolist() if isinstance(answers, pd.Series) else list(answers)
    counted = Counter(v.strip() for v in values if isinstance(v, str) and v.strip())
    return _text_summary(counted, n_keywords, n_themes, n_quotes, n_duplicates, threshold)


def text_summary_from_counts(
    counts: Mapping[str, int],
    *,
    n_keywords: int = 20,
    n_themes: int = 8,
    n_quotes: int = 3,
    n_duplicates: int = 10,
    threshold: float = DUPLICATE_THRESHOLD,
) -> TextSummary:
    """`text_summary` from the distinct answers and how many times each was given (e.g. a
    ``value_counts`` of the text column): the same result without the list of answers."""
    counted: Counter[str] = Counter()
    for text, count in counts.items():
        if isinstance(text, str) and text.strip() and count > 0:
            counted[text.strip()] += int(count)
    return _text_summary(counted, n_keywords, n_themes, n_quotes, n_duplicates, threshold)


def _text_summary(
    counted: Counter[str],
    n_keywords: int,
    n_themes: int,
    n_quotes: int,
    n_duplicates: int,
    threshold: float,
) -> TextSummary:
    words = _wordings(counted, threshold)
    ranked = keywords(words.terms, limit=max(n_keywords, 3 * n_themes), repeats=words.repeats)
    themes, unthemed = _themes(words, ranked, n_themes, n_quotes)
    return TextSummary(
        n_answers=sum(counted.values()),
        n_distinct=len(words.clusters),
        keywords=ranked[:n_keywords],
        themes=tuple(themes),
        n_unthemed=unthemed,
        duplicates=tuple(c for c in words.clusters[:n_duplicates] if c.count > 1),
    )
