"""The codebook of a campaign's exports: every exported variable with its label, type, value
labels, the question it comes from and when that question is asked (its relevance expression in
words), as XLSX or as PDF (WeasyPrint, the reports' CJK font). It reads no responses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import IO

from flask import current_app
from jinja2 import Environment, PackageLoader, select_autoescape

from analysis.frames import OTHER, OTHER_LABEL
from campaigns.models import Campaign
from exporters.exports import Export, Progress
from exporters.statistical import program_names
from exporters.variables import Variable
from minsheng.workbooks import xlsx_cell
from questionnaire.expressions import ExpressionError, Node, parse_expression
from questionnaire.schema import Form, Group, Question, text_in

HEADER = (
    "variable",
    "SPSS/Stata name",
    "label",
    "type",
    "value labels",
    "question",
    "asked when",
)
_OPERATORS = {
    "=": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is more than",
    ">=": "is at least",
    "and": "and",
    "or": "or",
    "+": "+",
    "-": "-",
    "*": "×",
    "div": "÷",
    "mod": "mod",
}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of the codebook."""

    variable: Variable
    program_name: str
    asked_when: str

    @property
    def value_labels(self) -> str:
        return "; ".join(f"{code} = {label}" for code, label in self.variable.values)

    def cells(self) -> list[str]:
        v = self.variable
        return [v.name, self.program_name, v.label, v.type, self.value_labels, v.question]


def _question(form: Form, name: str) -> Question | None:
    try:
        return form.question(name)
    except KeyError:
        return None


def _choice_label(form: Form, question_name: str, value: str) -> str:
    question = _question(form, question_name)
    if question is None or not question.has_choices:
        return value
    for choice in form.choices_for(question):
        if choice.name == value:
            label = text_in(choice.label, form.default_language, form.default_language)
            return f"{value} ({label})" if label and label != value else value
    if value == OTHER and question.or_other:
        return f"{value} ({text_in(OTHER_LABEL, form.default_language, 'zh')})"
    return value


def in_words(form: Form, node: Node, about: str = "") -> str:
    """An expression as a sentence an analyst reads: `${mode} = 'other'` -> "mode is other
    (其他)"; `selected(${problems}, 'parking')` -> "problems includes parking (停车难)".
    `about` is the question a literal compares with, so a choice name shows its label."""
    if node.kind == "ref":
        return str(node.value)
    if node.kind == "lit":
        return _choice_label(form, about, str(node.value)) if about else repr(node.value)
    if node.kind == "cur":
        return "this answer"
    if node.kind == "neg":
        return f"-{in_words(form, node.args[0])}"
    if node.kind == "bin":
        left, right = node.args
        subject = str(left.value) if left.kind == "ref" else ""
        words = f"{in_words(form, left)} {_OPERATORS.get(node.op, node.op)} "
        words += in_words(form, right, subject)
        return f"({words})" if node.op == "or" else words
    if node.kind == "call":
        return _call_in_words(form, node)
    return str(node.value)


def _call_in_words(form: Form, node: Node) -> str:
    name = str(node.value)
    args = node.args
    if name == "selected" and len(args) == 2:
        subject = str(args[0].value) if args[0].kind == "ref" else ""
        return f"{in_words(form, args[0])} includes {in_words(form, args[1], subject)}"
    if name == "count-selected" and len(args) == 1:
        return f"the number of choices in {in_words(form, args[0])}"
    if name == "not" and len(args) == 1:
        return f"not ({in_words(form, args[0])})"
    if name == "string-length" and len(args) == 1:
        return f"the length of {in_words(form, args[0])}"
    inner = ", ".join(in_words(form, a) for a in args)
    return f"{name}({inner})"


def asked_when(
    form: Form, question_name: str, groups: dict[str, tuple[Group, ...]], other: bool = False
) -> str:
    """When the question is shown: its groups' relevance (outermost first) and its own, in
    words, or "always"; `other` is its "please specify" box, shown once "other" is chosen. An
    expression the words cannot follow is given as written."""
    question = _question(form, question_name)
    if question is None:
        return "always"
    chain = [g.relevant for g in groups.get(question_name, ())] + [question.relevant]
    conditions = [e for e in chain if e and e.strip()]
    if not conditions and not other:
        return "always"
    words = [f"{question_name} is {_choice_label(form, question_name, OTHER)}"] if other else []
    for expression in conditions:
        try:
            words.append(in_words(form, parse_expression(expression)))
        except ExpressionError:
            words.append(expression)
    return "only if " + " and ".join(words)


def codebook_entries(form: Form, columns: Sequence[Variable]) -> list[Entry]:
    names = program_names(columns)
    groups = form.enclosing_groups()
    return [
        Entry(
            v,
            names[v.name],
            asked_when(form, v.question, groups, other=v.name == f"{v.question}_other"),
        )
        for v in columns
    ]


def codebook_table(entries: Sequence[Entry]) -> Iterator[list[str]]:
    """The codebook as rows, header first (the XLSX codebook and the export's codebook sheet)."""
    yield list(HEADER)
    for entry in entries:
        yield [*entry.cells(), entry.asked_when]


def write_codebook_xlsx(
    export: Export, target: IO[bytes], progress: Progress | None = None
) -> None:
    """The codebook alone as a workbook (it reads no responses)."""
    from openpyxl import Workbook

    entries = codebook_entries(export.form, export.columns)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("codebook")
    for row in codebook_table(entries):
        sheet.append([xlsx_cell(c) for c in row])
    book.save(target)


def codebook_html(campaign: Campaign, entries: Sequence[Entry], font_family: str) -> str:
    env = Environment(
        loader=PackageLoader("exporters", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("exporters/codebook.html").render(
        title=text_in(campaign.title, "zh", campaign.slug),
        slug=campaign.slug,
        header=HEADER,
        rows=[[*e.cells(), e.asked_when] for e in entries],
        font_family=font_family,
    )


def write_codebook_pdf(export: Export, target: IO[bytes], progress: Progress | None = None) -> None:
    """The codebook as an A4 landscape PDF in the reports' CJK font (a missing font is the
    reports' `FontMissingError`, naming the package to install); it reads no responses."""
    from exporters.fonts import find_cjk_font
    from exporters.pdf_report import html_to_pdf

    font = find_cjk_font(str(current_app.config["CJK_FONT_FAMILY"]))
    entries = codebook_entries(export.form, export.columns)
    target.write(html_to_pdf(codebook_html(export.campaign, entries, font.family)))
