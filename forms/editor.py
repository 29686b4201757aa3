"""The questionnaire editor's tables: a campaign's questionnaire as XLSForm sheets (survey,
choices, settings) of rows of text cells, and back. What the page posts is read by the XLSForm
importer itself (`forms.xlsform.read_tables`), so the editor, an uploaded workbook and
`minsheng form import` give a form the same problems, named by sheet, row and column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import QuestionnaireVersion, Response
from forms.publishing import QuestionAcrossVersions, question_map, versions_of
from forms.xlsform import form_tables, read_tables
from questionnaire.schema import Form
from questionnaire.tree import CHOICE_TYPES

#: The editor always offers a Chinese and an English column for every translatable field.
EDITOR_LANGUAGES = ("zh", "en")
SHEETS = ("survey", "choices", "settings")
#: Empty rows the page adds under each table, so a question can be added without a script.
SPARE_ROWS = 3
#: Survey columns whose cells are expressions the page checks as one types.
EXPRESSION_COLUMNS = ("relevant", "constraint", "choice_filter", "calculation")
#: What a new questionnaire starts with: a first question to rename and reword.
STARTER_SURVEY = [
    {"type": "text", "name": "suggestion", "label::zh": "您的建议", "label::en": "Your suggestion"}
]

Tables = list[tuple[str, list[list[str]]]]


def editor_tables(form: Form | None) -> Tables:
    """The sheets the editor shows for `form` (None: a new questionnaire), every cell as text,
    with `SPARE_ROWS` empty rows under the survey and the choices."""
    if form is None:
        tables = _starter()
    else:
        tables = [
            (name, [[_text(c) for c in row] for row in rows])
            for name, rows in form_tables(form, EDITOR_LANGUAGES)
        ]
    out: Tables = []
    for name, rows in tables:
        if name != "settings":
            rows = [*rows, *([""] * len(rows[0]) for _ in range(SPARE_ROWS))]
        out.append((name, rows))
    return out


def posted_tables(formdata: Any) -> Tables:
    """The sheets a submitted editor page holds (a werkzeug `MultiDict`): for each sheet the
    headers in `<sheet>:columns` and each column's cells, in row order, in `<sheet>:<header>`.
    A column whose cells do not line up with the others is cut or padded, never shifted."""
    tables: Tables = []
    for sheet in SHEETS:
        header = [h for h in formdata.getlist(f"{sheet}:columns") if h]
        columns = [formdata.getlist(f"{sheet}:{h}") for h in header]
        count = max((len(c) for c in columns), default=0)
        rows = [[c[i] if i < len(c) else "" for c in columns] for i in range(count)]
        tables.append((sheet, [header, *rows]))
    return tables


def form_of_tables(tables: Sequence[tuple[str, list[list[str]]]]) -> Form:
    """The form the editor's tables describe; `InputError` with each problem's sheet, row and
    column (rows counted as the page numbers them: the header is row 1)."""
    form: Form = read_tables("questionnaire", list(tables)).form
    return form


@dataclass(frozen=True)
class VersionLine:
    """One published version as the editor lists it."""

    number: int
    published_at: Any
    responses: int


def version_lines(session: Session, campaign: Campaign) -> list[VersionLine]:
    """Every version, newest first, with its number of responses."""
    versions = versions_of(session, campaign)
    counts = dict(
        session.execute(
            select(Response.version_id, func.count())
            .where(Response.campaign_id == campaign.id)
            .group_by(Response.version_id)
        ).all()
    )
    return [
        VersionLine(v.number, v.published_at, int(counts.get(v.id, 0))) for v in reversed(versions)
    ]


def changed_questions(versions: Sequence[QuestionnaireVersion]) -> list[QuestionAcrossVersions]:
    """The questions whose answers do not simply line up across versions: asked by some
    versions only, or changed in type, choices or relevance (`forms.publishing.question_map`)."""
    if len(versions) < 2:
        return []
    every = {v.number for v in versions}
    return [q for q in question_map(versions).values() if q.changes or set(q.versions) != every]


def names_in(tables: Sequence[tuple[str, list[list[str]]]]) -> dict[str, Any]:
    """Question and group names, choice-list names and choice columns of the tables, for the
    page's script (the expression check asks the server about names it knows)."""
    survey = dict(tables).get("survey") or [[]]
    header = survey[0]
    questions: list[str] = []
    groups: list[str] = []
    if "name" in header and "type" in header:
        at, kind = header.index("name"), header.index("type")
        for row in survey[1:]:
            if not row[at]:
                continue
            base = row[kind].split()[0] if row[kind].split() else ""
            (groups if base in ("begin_group", "begin", "group") else questions).append(row[at])
    choices = dict(tables).get("choices") or [[]]
    return {
        "questions": questions,
        "groups": groups,
        "columns": [h for h in choices[0] if h not in ("list_name", "name") and "::" not in h],
        "choice_types": sorted(CHOICE_TYPES),
    }


def _starter() -> Tables:
    header = [
        "type",
        "name",
        *(f"{f}::{lang}" for f in ("label", "hint") for lang in EDITOR_LANGUAGES),
    ]
    header += ["required", *EXPRESSION_COLUMNS, "appearance", "parameters"]
    survey = [header, *([_text(row.get(h)) for h in header] for row in STARTER_SURVEY)]
    choices = [["list_name", "name", *(f"label::{lang}" for lang in EDITOR_LANGUAGES)]]
    settings = [
        ["form_title::zh", "form_title::en", "default_language"],
        ["", "", "zh"],
    ]
    return [("survey", survey), ("choices", choices), ("settings", settings)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
