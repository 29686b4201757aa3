"""The report's appendices (附录), built from the questionnaire and the summary the chapters use:
the questionnaire as asked (question text, type, choices, when it is shown), the sample profile
against the population margins of the campaign file, the full crosstab tables behind the
differences between groups, and a glossary of the terms the report uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exporters.codebook import asked_when
from exporters.key_findings import CHANNEL_LABELS, ORIGIN_SEGMENTS, Gettext
from questionnaire.schema import INPUT_FREE_TYPES, Form, text_in

#: How the questionnaire appendix names each question type (gettext msgids).
TYPE_NAMES = {
    "select_one": "single choice",
    "select_multiple": "multiple choice",
    "rank": "ranking",
    "text": "free text",
    "integer": "whole number",
    "decimal": "number",
    "range": "scale",
    "date": "date",
    "acknowledge": "confirmation",
}
#: The glossary: term and definition (gettext msgids), in the order a reader meets them.
GLOSSARY = (
    (
        "Base (n)",
        "The number of respondents who answered the question: every percentage of it is of "
        "this number.",
    ),
    (
        "Confidence interval (CI)",
        "The range that holds the population value with the stated confidence if the "
        "respondents were a random sample; it says nothing about who chose not to take part.",
    ),
    (
        "Satisfaction rate",
        "The share of valid answers in the two most favourable points of a rating scale "
        "(top-2-box).",
    ),
    (
        "Net Promoter Score (NPS)",
        "On a 0 to 10 scale, the percent answering 9 or 10 (promoters) less the percent "
        "answering 0 to 6 (detractors), from -100 to 100.",
    ),
    (
        "Mean rank",
        "In a ranking question, the average position given to an option (1 = first); lower is"
        " preferred.",
    ),
    (
        "Design effect",
        "How much weighting widens the intervals compared with a simple random sample of the "
        "same size; the effective n is n divided by it.",
    ),
    (
        "Raking",
        "Weighting the responses so that their distribution over each declared margin "
        "(district, age group) matches the population's.",
    ),
    (
        "Benjamini-Hochberg control",
        "A correction for testing many differences at once, keeping the expected share of "
        "false discoveries at the stated level.",
    ),
    (
        "Suppression",
        "In editions for departments, cells with fewer responses than the threshold, and the "
        "cells that would give them away, are not shown.",
    ),
    (
        "AAPOR response rate",
        "The share of invited people who answered, as defined by the American Association for"
        " Public Opinion Research (RR1: complete answers only).",
    ),
)


@dataclass(frozen=True)
class QuestionnaireItem:
    """One question as the respondent saw it."""

    number: int
    name: str
    label: str
    kind: str
    required: bool
    choices: tuple[str, ...]
    asked_when: str


def questionnaire_items(form: Form, lang: str, gettext: Gettext) -> list[QuestionnaireItem]:
    """Every question that asks for an answer, in form order, with its choices and, when it is
    not always asked, the condition in words (the codebook's wording)."""
    groups = form.enclosing_groups()
    items: list[QuestionnaireItem] = []
    for question in form.questions():
        if question.type in INPUT_FREE_TYPES:
            continue
        choices = tuple(
            text_in(choice.label, lang, form.default_language) or choice.name
            for choice in form.choices_for(question)
        )
        condition = asked_when(form, question.name, groups)
        items.append(
            QuestionnaireItem(
                number=len(items) + 1,
                name=question.name,
                label=text_in(question.label, lang, form.default_language) or question.name,
                kind=str(gettext(TYPE_NAMES.get(question.type, question.type))),
                required=question.required,
                choices=choices,
                asked_when="" if condition == "always" else condition,
            )
        )
    return items


def choice_labels(form: Form, lang: str) -> dict[str, dict[str, str]]:
    """Choice name -> label in `lang`, by question (a ranking's summary names its items)."""
    return {
        question.name: {
            choice.name: text_in(choice.label, lang, form.default_language) or choice.name
            for choice in form.choices_for(question)
        }
        for question in form.questions()
        if question.has_choices
    }


@dataclass(frozen=True)
class ProfileRow:
    """One category of a profile variable: its share of the population (from the campaign
    file's margins), of the respondents, and after weighting, in percent."""

    label: str
    count: int | None
    sample: float | None
    population: float | None
    weighted: float | None


@dataclass(frozen=True)
class ProfileTable:
    """The sample's distribution over one profile variable."""

    name: str
    label: str
    rows: tuple[ProfileRow, ...]


def sample_profile(
    summary: Mapping[str, Any],
    segments: Sequence[str],
    margins: Mapping[str, Mapping[str, float]],
    lang: str,
    gettext: Gettext,
) -> list[ProfileTable]:
    """The respondents by each segment of the report and each variable with a population
    margin: unweighted shares, the population's where the campaign file declares them, and the
    weighted shares when the summary is raked. A suppressed count stays None."""
    by_name = {str(q["name"]): q for q in summary.get("questions") or []}
    weighted = bool(summary.get("weighted"))
    tables = []
    for name in dict.fromkeys([*margins, *segments]):
        if name in by_name:
            question = by_name[name]
            label = text_in(question.get("label") or {}, lang, "zh") or name
            categories = [
                (
                    str(row["name"]),
                    text_in(row.get("label") or {}, lang, "zh") or str(row["name"]),
                    row.get("count"),
                    row.get("percent") if weighted else None,
                )
                for row in question.get("rows") or []
            ]
        elif name in (summary.get("responses_by") or {}):
            label = str(gettext(ORIGIN_SEGMENTS.get(name, name)))
            counts = summary["responses_by"][name]
            categories = [
                (str(c), str(gettext(CHANNEL_LABELS.get(str(c), str(c)))), n, None)
                for c, n in counts.items()
            ]
        else:
            continue
        tables.append(ProfileTable(name, label, _profile_rows(categories, margins.get(name))))
    return tables


def _profile_rows(
    categories: Sequence[tuple[str, str, int | None, float | None]],
    margin: Mapping[str, float] | None,
) -> tuple[ProfileRow, ...]:
    total = sum(count or 0 for _, _, count, _ in categories)
    population_total = sum(margin.values()) if margin else 0.0
    return tuple(
        ProfileRow(
            label=label,
            count=count,
            sample=100 * count / total if count is not None and total else None,
            population=100 * margin[code] / population_total
            if margin and code in margin and population_total
            else None,
            weighted=weighted,
        )
        for code, label, count, weighted in categories
    )


@dataclass(frozen=True)
class FullTable:
    """One crosstab in full: column percentages of each answer by segment, with column bases;
    a suppressed cell is None and marked."""

    title: str
    columns: tuple[str, ...]
    column_n: tuple[int | None, ...]
    rows: tuple[tuple[str, tuple[float | None, ...], tuple[bool, ...]], ...]
    p_adjusted: float | None


def full_tables(summary: Mapping[str, Any], lang: str, gettext: Gettext) -> list[FullTable]:
    """Every crosstab of the summary (answers by segment), in the order the summary lists
    them, with the p-value after the Benjamini-Hochberg control."""
    scan = summary.get("crosstabs") or {}
    adjusted = (scan.get("comparison") or {}).get("p_adjusted") or []
    by_name = {str(q["name"]): q for q in summary.get("questions") or []}
    tables = []
    for index, table in enumerate(scan.get("tables") or []):
        row_q = by_name.get(str(table["row_variable"]), {})
        segment = str(table["column_variable"])
        title = " × ".join(
            (
                text_in(row_q.get("label") or {}, lang, "zh") or str(table["row_variable"]),
                _variable_label(segment, by_name, lang, gettext),
            )
        )
        percents = table.get("column_percents") or []
        hidden = table.get("suppressed") or [[False] * len(r) for r in percents]
        tables.append(
            FullTable(
                title=title,
                columns=tuple(
                    _category_label(segment, str(c), by_name, lang, gettext)
                    for c in table.get("column_categories") or []
                ),
                column_n=tuple(table.get("column_n") or ()),
                rows=tuple(
                    (
                        _category_label(
                            str(table["row_variable"]), str(category), by_name, lang, gettext
                        ),
                        tuple(percents[i]),
                        tuple(bool(h) for h in hidden[i]),
                    )
                    for i, category in enumerate(table.get("row_categories") or [])
                ),
                p_adjusted=adjusted[index] if index < len(adjusted) else None,
            )
        )
    return tables


def _variable_label(
    name: str, by_name: Mapping[str, Mapping[str, Any]], lang: str, gettext: Gettext
) -> str:
    if name in by_name:
        return text_in(by_name[name].get("label") or {}, lang, "zh") or name
    return str(gettext(ORIGIN_SEGMENTS.get(name, name)))


def _category_label(
    variable: str,
    category: str,
    by_name: Mapping[str, Mapping[str, Any]],
    lang: str,
    gettext: Gettext,
) -> str:
    if variable == "channel":
        return str(gettext(CHANNEL_LABELS.get(category, category)))
    for row in by_name.get(variable, {}).get("rows") or []:
        if str(row.get("name")) == category:
            return text_in(row.get("label") or {}, lang, "zh") or category
    return category
