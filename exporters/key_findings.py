"""The executive summary of a thematic report: key findings as sentences built from the campaign
summary (`CampaignSummary.to_dict()`, the object the results page renders), ranked by what a
department should read first.

Order: the weakest satisfaction rate; the largest differences between groups that survive the
Benjamini-Hochberg control of the crosstab scan, largest effect (Cramér's V) first; what to
improve first (an importance-satisfaction matrix, when both are asked); the problems most often
named; the main themes of the open answers. Questions that only describe who answered (the
segments) get no sentence of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from analysis.proportions import proportion_ci
from questionnaire.schema import text_in

Gettext = Callable[[str], str]
#: Labels of the response metadata that can be segments, by gettext msgid.
ORIGIN_SEGMENTS = {
    "channel": "collection channel",
    "collection_point": "collection point",
    "target_group": "target group",
}
#: Channel names as the report prints them (gettext msgids).
CHANNEL_LABELS = {
    "web": "Web link",
    "invitation": "Personal invitation",
    "qr": "QR code at a collection point",
    "api": "Partner platform (API)",
    "import": "Paper forms (imported)",
}
#: Findings of each kind, most important kind first.
KINDS = ("lowest_satisfaction", "difference", "priority", "top_problem", "theme")
MAX_DIFFERENCES = 4
#: Between a number and its unit or sign ("68.2 %", "n = 2,104"): a line never breaks there.
NBSP = "\u00a0"


@dataclass(frozen=True)
class Finding:
    """One sentence of the executive summary. ``kind`` is one of `KINDS`; ``weight`` orders
    findings of the same kind (larger first): the gap, the effect size, the share."""

    kind: str
    sentence: str
    question: str = ""
    weight: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """A share on the 0-100 scale with its interval and base, as a report prints it."""

    percent: float
    ci_low: float | None
    ci_high: float | None
    n: int | None


class Wording:
    """How the sentences of one report are written: its language, gettext and confidence."""

    def __init__(self, gettext: Gettext, lang: str, confidence: int) -> None:
        self.gettext, self.lang, self.confidence = gettext, lang, confidence

    def label(self, label: Mapping[str, str] | None, default: str = "") -> str:
        return text_in(dict(label or {}), self.lang, "zh") or default

    def question(self, question: Mapping[str, Any]) -> str:
        return self.label(question.get("label"), str(question.get("name", ""))).rstrip("？?：:")

    def estimate(self, value: Estimate) -> str:
        """ "68.2 %（95 % CI 66.1–70.3 %，n = 2,104）": the share, its interval and base."""
        inside = []
        if value.ci_low is not None and value.ci_high is not None:
            inside.append(
                f"{self.confidence}{NBSP}%{NBSP}CI {value.ci_low:.1f}–{value.ci_high:.1f}{NBSP}%"
            )
        if value.n is not None:
            inside.append(f"n{NBSP}={NBSP}{value.n:,}")
        head = f"{value.percent:.1f}{NBSP}%"
        if not inside:
            return head
        if self.lang == "zh":
            return f"{head}（{'，'.join(inside)}）"
        return f"{head} ({', '.join(inside)})"

    def p_value(self, p: float | None) -> str:
        if p is None:
            return "—"
        return f"p{NBSP}<{NBSP}0.001" if p < 0.001 else f"p{NBSP}={NBSP}{p:.3f}"

    def sentence(self, msgid: str, **values: Any) -> str:
        return str(self.gettext(msgid) % values)


def key_findings(
    summary: Mapping[str, Any],
    gettext: Gettext,
    lang: str = "zh",
    *,
    priorities: Sequence[PriorityItem] = (),
) -> list[Finding]:
    """The executive summary's findings, most important first (see the module docstring).

    ``priorities`` is the importance-satisfaction matrix (`priority_matrix`), whose items that
    need improving first give one finding. Suppressed cells (department editions) are never
    used: a share whose count is hidden gives no sentence.
    """
    confidence = round(100 * (1 - float(summary.get("alpha", 0.05))))
    wording = Wording(gettext, lang, confidence)
    questions = list(summary.get("questions") or [])
    profile = set(summary.get("segments") or ())
    findings = [
        *_lowest_satisfaction(questions, wording),
        *_differences(summary, questions, wording),
        *_priority_findings(priorities, wording),
        *_top_problems([q for q in questions if q.get("name") not in profile], wording),
        *_themes(questions, wording),
    ]
    return sorted(findings, key=lambda f: (KINDS.index(f.kind), -f.weight))


def _top_box(question: Mapping[str, Any]) -> Estimate | None:
    box = question.get("top_box") or {}
    if box.get("estimate") is None:
        return None
    low, high = box.get("ci_low"), box.get("ci_high")
    return Estimate(
        100 * float(box["estimate"]),
        None if low is None else 100 * float(low),
        None if high is None else 100 * float(high),
        int(box.get("n_unweighted") or question.get("n_base") or 0),
    )


def _lowest_satisfaction(questions: Sequence[Mapping[str, Any]], w: Wording) -> list[Finding]:
    """The rating with the lowest satisfaction rate, against the best one when there are
    several."""
    rated = [(q, e) for q in questions if q.get("kind") == "rating" for e in [_top_box(q)] if e]
    if not rated:
        return []
    lowest, low = min(rated, key=lambda item: item[1].percent)
    highest, high = max(rated, key=lambda item: item[1].percent)
    if lowest is highest:
        sentence = w.sentence(
            "%(question)s: the satisfaction rate is %(estimate)s.",
            question=w.question(lowest),
            estimate=w.estimate(low),
        )
    else:
        sentence = w.sentence(
            "The lowest satisfaction rate is for “%(question)s”: %(estimate)s, "
            "%(gap).1f percentage points below “%(best)s” (%(best_percent).1f %%).",
            question=w.question(lowest),
            estimate=w.estimate(low),
            gap=high.percent - low.percent,
            best=w.question(highest),
            best_percent=high.percent,
        )
    return [Finding("lowest_satisfaction", sentence, str(lowest["name"]), 100 - low.percent)]


def _labels(questions: Sequence[Mapping[str, Any]], w: Wording) -> dict[str, dict[str, str]]:
    """Category labels by variable: each question's choices."""
    return {
        str(q["name"]): {
            str(r["name"]): w.label(r.get("label"), str(r["name"])) for r in q.get("rows") or []
        }
        for q in questions
    }


def _segment_name(segment: str, by_name: Mapping[str, Mapping[str, Any]], w: Wording) -> str:
    if segment in by_name:
        return w.question(by_name[segment])
    return w.gettext(ORIGIN_SEGMENTS.get(segment, segment))


class _Scan(NamedTuple):
    """What every sentence about a crosstab needs: category labels, questions, the wording, and
    the summary's confidence level and interval method (a segment's share is given the same
    interval as every other share of the report)."""

    labels: Mapping[str, Mapping[str, str]]
    by_name: Mapping[str, Mapping[str, Any]]
    w: Wording
    alpha: float
    method: str


def _differences(
    summary: Mapping[str, Any], questions: Sequence[Mapping[str, Any]], w: Wording
) -> list[Finding]:
    """The largest significant difference of each question (the next ones, by other segments,
    mostly repeat it: mode and commute time are related), largest first, at most
    `MAX_DIFFERENCES`."""
    found = segment_differences(summary, questions, w)
    first = {f.question: f for f in reversed(found)}
    return sorted(first.values(), key=lambda f: -f.weight)[:MAX_DIFFERENCES]


def segment_differences(
    summary: Mapping[str, Any], questions: Sequence[Mapping[str, Any]], w: Wording
) -> list[Finding]:
    """Every crosstab significant after the Benjamini-Hochberg control, largest Cramér's V
    first: for a rating, the segments with the lowest and highest satisfaction rate; otherwise
    the cell furthest above what independence expects."""
    scan = summary.get("crosstabs") or {}
    tables = scan.get("tables") or []
    comparison = scan.get("comparison") or {}
    significant = comparison.get("significant") or [False] * len(tables)
    adjusted = comparison.get("p_adjusted") or [None] * len(tables)
    by_name = {str(q["name"]): q for q in questions}
    bundle = _Scan(
        _labels(questions, w),
        by_name,
        w,
        float(summary.get("alpha", 0.05)),
        str(summary.get("method") or "wilson"),
    )
    found = []
    for table, keep, p in zip(tables, significant, adjusted, strict=False):
        question = by_name.get(str(table.get("row_variable")))
        if not keep or question is None or table.get("cramers_v") is None:
            continue
        if question.get("kind") == "rating":
            sentence = _rating_difference(table, question, bundle, p)
        else:
            sentence = _cell_difference(table, question, bundle, p)
        if sentence:
            found.append(
                Finding("difference", sentence, str(question["name"]), float(table["cramers_v"]))
            )
    return sorted(found, key=lambda f: -f.weight)


def comparison_note(summary: Mapping[str, Any], gettext: Gettext) -> str:
    """The sentence that says how group differences were screened: how many crosstabs were
    tested and at which false discovery rate."""
    scan = summary.get("crosstabs") or {}
    comparison = scan.get("comparison") or {}
    tests = sum(1 for p in comparison.get("p_values") or [] if p is not None)
    if not tests:
        return ""
    return str(
        gettext(
            "Differences between groups are reported only where they hold after correcting for "
            "the %(tests)s comparisons made (Benjamini-Hochberg, false discovery rate %(fdr)s %%); "
            "p-values are the corrected ones."
        )
        % {"tests": tests, "fdr": f"{100 * float(comparison.get('alpha', 0.05)):g}"}
    )


def segment_top_boxes(
    table: Mapping[str, Any],
    question: Mapping[str, Any],
    alpha: float = 0.05,
    method: str = "wilson",
) -> list[tuple[str, Estimate]]:
    """The satisfaction rate of a rating in each segment of its crosstab, with a 1 - alpha
    interval by ``method`` on the segment's unweighted base (`analysis.proportions.proportion_ci`,
    the summary's own level and method); weighted
    crosstabs give the weighted share without an interval. Segments with a suppressed cell or
    no answers are left out."""
    top = set(question.get("top_box_choices") or ())
    rows = [i for i, name in enumerate(table.get("row_categories") or []) if str(name) in top]
    counts = table.get("counts") or []
    percents = table.get("column_percents") or []
    weighted = bool(table.get("weighted_counts"))
    result = []
    for j, segment in enumerate(table.get("column_categories") or []):
        column = [row[j] for row in counts]
        n = (table.get("column_n") or [None] * (j + 1))[j]
        if not n or any(c is None for c in column):
            continue
        if weighted:
            share = sum(float(percents[i][j] or 0.0) for i in rows)
            result.append((str(segment), Estimate(share, None, None, int(n))))
            continue
        estimate = proportion_ci(float(sum(column[i] for i in rows)), float(n), alpha, method)
        if estimate.estimate is None or estimate.ci_low is None or estimate.ci_high is None:
            continue
        result.append(
            (
                str(segment),
                Estimate(
                    100 * estimate.estimate, 100 * estimate.ci_low, 100 * estimate.ci_high, int(n)
                ),
            )
        )
    return result


def _segment_label(
    segment_variable: str, category: str, labels: Mapping[str, Mapping[str, str]], w: Wording
) -> str:
    if segment_variable == "channel":
        return w.gettext(CHANNEL_LABELS.get(category, category))
    return labels.get(segment_variable, {}).get(category, category)


def _rating_difference(
    table: Mapping[str, Any], question: Mapping[str, Any], scan: _Scan, p: float | None
) -> str:
    labels, by_name, w = scan.labels, scan.by_name, scan.w
    shares = segment_top_boxes(table, question, scan.alpha, scan.method)
    if len(shares) < 2:
        return ""
    low = min(shares, key=lambda item: item[1].percent)
    high = max(shares, key=lambda item: item[1].percent)
    segment = str(table["column_variable"])
    return w.sentence(
        "The satisfaction rate of “%(question)s” differs by %(segment)s: lowest among "
        "%(low_group)s, %(low)s, highest among %(high_group)s, %(high)s (adjusted %(p)s).",
        question=w.question(question),
        segment=_segment_name(segment, by_name, w),
        low_group=_segment_label(segment, low[0], labels, w),
        low=w.estimate(low[1]),
        high_group=_segment_label(segment, high[0], labels, w),
        high=w.estimate(high[1]),
        p=w.p_value(p),
    )


def _cell_difference(
    table: Mapping[str, Any], question: Mapping[str, Any], scan: _Scan, p: float | None
) -> str:
    labels, by_name, w = scan.labels, scan.by_name, scan.w
    residuals = table.get("adjusted_residuals") or []
    best: tuple[float, int, int] | None = None
    for i, row in enumerate(residuals):
        for j, value in enumerate(row):
            if value is not None and (best is None or value > best[0]):
                best = (float(value), i, j)
    if best is None:
        return ""
    _, i, j = best
    rows = {str(r["name"]): r for r in question.get("rows") or []}
    answer = str(table["row_categories"][i])
    overall = rows.get(answer, {}).get("percent")
    cell = (table.get("column_percents") or [[None]])[i][j]
    n = (table.get("column_n") or [None])[j]
    if cell is None or overall is None:
        return ""
    segment = str(table["column_variable"])
    return w.sentence(
        "In “%(question)s”, %(group)s choose “%(answer)s” more often than everyone "
        "(%(cell).1f %% of n = %(n)s against %(overall).1f %%), a difference by %(segment)s "
        "(adjusted %(p)s).",
        answer=labels.get(str(question["name"]), {}).get(answer, answer),
        group=_segment_label(segment, str(table["column_categories"][j]), labels, w),
        cell=float(cell),
        n=f"{int(n):,}" if n else "—",
        overall=float(overall),
        question=w.question(question),
        segment=_segment_name(segment, by_name, w),
        p=w.p_value(p),
    )


def _top_problems(questions: Sequence[Mapping[str, Any]], w: Wording) -> list[Finding]:
    """Multiple-choice questions: the options most often chosen (up to three), each with its
    share of respondents, interval and base."""
    found = []
    for q in questions:
        if q.get("kind") != "multiple":
            continue
        rows = sorted(
            (r for r in q.get("rows") or [] if r.get("percent") is not None),
            key=lambda r: -float(r["percent"]),
        )[:3]
        if not rows:
            continue
        n = int(q.get("n_base") or 0)
        parts = [
            f"{w.label(r.get('label'), str(r['name']))} "
            + w.estimate(Estimate(float(r["percent"]), r.get("ci_low"), r.get("ci_high"), n))
            for r in rows
        ]
        found.append(
            Finding(
                "top_problem",
                w.sentence(
                    "“%(question)s”: most named are %(answers)s.",
                    question=w.question(q),
                    answers=("；" if w.lang == "zh" else "; ").join(parts),
                ),
                str(q["name"]),
                float(rows[0]["percent"]),
            )
        )
    return found


def _themes(questions: Sequence[Mapping[str, Any]], w: Wording) -> list[Finding]:
    """Open questions: the largest themes, and the share of answers in none of them."""
    found = []
    for q in questions:
        text = q.get("text") or {}
        themes = text.get("themes") or []
        n = int(text.get("n_answers") or 0)
        if not themes or not n:
            continue
        top = ("、" if w.lang == "zh" else ", ").join(
            f"“{t['keyword']}”（{int(t['count']):,}）"
            if w.lang == "zh"
            else f"“{t['keyword']}” ({int(t['count']):,})"
            for t in themes[:3]
        )
        found.append(
            Finding(
                "theme",
                w.sentence(
                    "Of %(n)s written suggestions, the largest themes are %(themes)s; "
                    "%(unthemed).1f %% fall in no theme and are read one by one.",
                    n=f"{n:,}",
                    themes=top,
                    unthemed=100 * int(text.get("n_unthemed") or 0) / n,
                ),
                str(q["name"]),
                float(themes[0].get("percent") or 0.0),
            )
        )
    return found


@dataclass(frozen=True)
class PriorityItem:
    """One aspect of the importance-satisfaction matrix: its importance (share rating it
    important) and satisfaction rate, and its quadrant against the means of all aspects:
    ``improve`` (important, below-average satisfaction: act first), ``keep`` (important and
    satisfying), ``watch`` (less important, less satisfying), ``surplus`` (less important,
    satisfying)."""

    name: str
    label: str
    importance: Estimate
    satisfaction: Estimate
    quadrant: str


def priority_pairs(
    questions: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(importance, satisfaction) question pairs: those the campaign file lists under
    ``settings.report.priorities`` (``[{importance: imp_bus, satisfaction: sat_bus}, ...]``),
    else every rating ``imp_<x>`` (or ``importance_<x>``) with a rating ``sat_<x>``."""
    ratings = {str(q["name"]) for q in questions if q.get("kind") == "rating"}
    declared = ((settings.get("report") or {}).get("priorities")) or []
    pairs = [
        (str(p.get("importance")), str(p.get("satisfaction")))
        for p in declared
        if isinstance(p, Mapping)
    ]
    if not pairs:
        for name in sorted(ratings):
            for prefix in ("imp_", "importance_"):
                if name.startswith(prefix) and f"sat_{name[len(prefix) :]}" in ratings:
                    pairs.append((name, f"sat_{name[len(prefix) :]}"))
    return [(i, s) for i, s in pairs if i in ratings and s in ratings]


def priority_matrix(
    questions: Sequence[Mapping[str, Any]], pairs: Sequence[tuple[str, str]], w: Wording
) -> list[PriorityItem]:
    """The importance-satisfaction (IPA) matrix of ``pairs``, split at the mean importance and
    mean satisfaction of the aspects (Martilla & James 1977), most urgent first; empty with
    fewer than two aspects that have both shares."""
    by_name = {str(q["name"]): q for q in questions}
    measured = []
    for importance, satisfaction in pairs:
        imp, sat = _top_box(by_name[importance]), _top_box(by_name[satisfaction])
        if imp is not None and sat is not None:
            measured.append((satisfaction, w.question(by_name[satisfaction]), imp, sat))
    if len(measured) < 2:
        return []
    mean_imp = sum(m[2].percent for m in measured) / len(measured)
    mean_sat = sum(m[3].percent for m in measured) / len(measured)
    items = [
        PriorityItem(
            name,
            label,
            imp,
            sat,
            ("improve" if sat.percent < mean_sat else "keep")
            if imp.percent >= mean_imp
            else ("watch" if sat.percent < mean_sat else "surplus"),
        )
        for name, label, imp, sat in measured
    ]
    order = ("improve", "keep", "watch", "surplus")
    return sorted(
        items,
        key=lambda i: (order.index(i.quadrant), i.satisfaction.percent - i.importance.percent),
    )


def _priority_findings(items: Sequence[PriorityItem], w: Wording) -> list[Finding]:
    first = [i for i in items if i.quadrant == "improve"]
    if not first:
        return []
    parts = [
        w.sentence(
            "%(aspect)s (important to %(importance).1f %%, satisfied %(satisfaction)s)",
            aspect=i.label,
            importance=i.importance.percent,
            satisfaction=w.estimate(i.satisfaction),
        )
        for i in first
    ]
    return [
        Finding(
            "priority",
            w.sentence(
                "Rated important but below-average in satisfaction, to improve first: %(aspects)s.",
                aspects=("；" if w.lang == "zh" else "; ").join(parts),
            ),
            first[0].name,
            first[0].importance.percent - first[0].satisfaction.percent,
        )
    ]
