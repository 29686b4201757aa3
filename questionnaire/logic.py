"""The checks `parse_form` runs on a questionnaire's logic as a whole: every expression parsed,
references to questions that exist, `.` and bare names where they mean something, no cycle in the
dependency graph (`Form.dependencies`), matrices that share one choice list, fixed defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from questionnaire.expressions import (
    ExpressionError,
    Node,
    parse_expression,
    regex_problem,
    walk,
)
from questionnaire.tree import Form, Group, Question

MATRIX_APPEARANCES = ("table-list", "matrix")


class Reporter(Protocol):
    """Where load-time problems go (`questionnaire.schema`'s parser): `where(name)` is a question's
    place, `error(place, message)` records one problem."""

    def where(self, name: str, kind: str = "question") -> str: ...

    def error(self, where: str, message: str) -> None: ...


EXPRESSION_FIELDS = ("relevant", "constraint", "choice_filter", "calculation")
_LABEL_REFERENCE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class _Names:
    """The question and group names of the form being checked."""

    questions: frozenset[str]
    groups: frozenset[str]


def check_logic(form: Form, parser: Reporter) -> None:
    """Parse every expression; refuse unknown references, misplaced `.` and bare names, cycles,
    and matrices whose rows do not share one choice list."""
    questions = {q.name: q for q in form.questions()}
    # Collected once, not per expression: a form of 10,000 rows must not cost 10,000² steps.
    names = _Names(frozenset(questions), frozenset(g.name for g, _ in form.groups()))
    for group, _outer in form.groups():
        if group.relevant:
            _check_expression(
                parser, parser.where(group.name, "group"), "relevant", group.relevant, form, names
            )
        _check_matrix(parser, form, group)
    for question in questions.values():
        here = parser.where(question.name)
        for key in EXPRESSION_FIELDS:
            text = getattr(question, key)
            if text is not None:
                _check_expression(parser, here, key, text, form, names, question)
        for key in ("label", "hint", "constraint_message", "required_message"):
            for text in getattr(question, key).values():
                for name in _LABEL_REFERENCE.findall(text):
                    if name not in questions:
                        parser.error(
                            f"{here}: {key}", f"`${{{name}}}` in the text refers to no question"
                        )
        if question.default is not None:
            problem = _default_problem(form, question, question.default)
            if problem:
                parser.error(f"{here}: default", problem)
    cycle = _find_cycle(form.dependencies)
    if cycle:
        parser.error(
            "survey",
            "relevant/calculation/choice_filter dependencies form a cycle: "
            + " -> ".join(cycle)
            + "; no order of questions can satisfy it",
        )


@dataclass(frozen=True)
class ExpressionProblem:
    """One problem of an expression typed in the questionnaire editor; `position` is the 0-based
    character it points at (None when the problem is the whole expression's)."""

    message: str
    position: int | None


_AT_CHARACTER = re.compile(r"at character (\d+)")


def expression_problems(
    text: str,
    key: str,
    questions: Iterable[str],
    groups: Iterable[str] = (),
    columns: Iterable[str] = (),
) -> list[ExpressionProblem]:
    """The problems `parse_form` would find in one `key` expression (relevant, constraint,
    choice_filter, calculation) of a form with these question and group names, and these
    extra choice-list `columns` for a choice filter: the editor checks as one types with the
    very rules the server applies on saving."""
    found: list[ExpressionProblem] = []

    class _Collect:
        def where(self, name: str, kind: str = "question") -> str:
            return name

        def error(self, where: str, message: str) -> None:
            at = _AT_CHARACTER.search(message)
            found.append(ExpressionProblem(message, int(at.group(1)) - 1 if at else None))

    names = _Names(frozenset(questions), frozenset(groups))
    _check_expression(_Collect(), "", key, text, None, names, extra_columns=frozenset(columns))
    return found


def _check_expression(
    parser: Reporter,
    here: str,
    key: str,
    text: str,
    form: Form | None,
    names: _Names,
    question: Question | None = None,
    extra_columns: frozenset[str] = frozenset(),
) -> None:
    try:
        node = parse_expression(text)
    except ExpressionError as exc:
        parser.error(
            f"{here}: {key}", f"{exc.message} at character {exc.position + 1} of {_quoted(text)}"
        )
        return
    questions, groups = names.questions, names.groups
    columns = {"name", "label", *extra_columns}
    if form is not None and question is not None and key == "choice_filter":
        columns |= {k for c in form.choices_for(question) for k in c.filters}
    for item in walk(node):
        at = f"character {item.position + 1} of {_quoted(text)}"
        if item.kind == "call" and item.value == "regex" and item.args[1].kind == "lit":
            problem = regex_problem(str(item.args[1].value))
            if problem:
                parser.error(
                    f"{here}: {key}", f"the pattern of regex() at {at} is invalid: {problem}"
                )
        if item.kind == "ref" and item.value not in questions:
            what = "a group, which has no value" if item.value in groups else "no question"
            parser.error(f"{here}: {key}", f"`${{{item.value}}}` at {at} refers to {what}")
        elif item.kind == "cur" and key != "constraint":
            parser.error(
                f"{here}: {key}",
                f"`.` (this question's answer) at {at} works only in `constraint`; "
                f"write ${{name}} instead",
            )
        elif item.kind == "name" and key != "choice_filter":
            parser.error(
                f"{here}: {key}",
                f"bare word `{item.value}` at {at}: write ${{{item.value}}} for a question's "
                f"answer or '{item.value}' for text",
            )
        elif item.kind == "name" and item.value not in columns:
            parser.error(
                f"{here}: {key}",
                f"`{item.value}` at {at} is not a column of choice list "
                f"{question.list_name if question else ''!r}; columns: "
                f"{', '.join(sorted(columns))}",
            )


_DEFAULT_PATTERNS = {
    "integer": (r"-?\d+", "a whole number"),
    "decimal": (r"-?(\d+(\.\d*)?|\.\d+)", "a number"),
    "range": (r"-?(\d+(\.\d*)?|\.\d+)", "a number"),
    "date": (r"\d{4}-\d{2}-\d{2}", "a date written YYYY-MM-DD"),
}


def _quoted(text: str, limit: int = 200) -> str:
    """The expression as a message quotes it: a hostile 400,000-character one is cut short."""
    return (
        repr(text) if len(text) <= limit else f"{text[: limit // 2]!r}… ({len(text):,} characters)"
    )


def _default_problem(form: Form, question: Question, default: str) -> str | None:
    """Why a default cannot be the question's answer, or None. Defaults are fixed values:
    ODK's dynamic defaults (`today()`, `${q}`) are refused rather than shown as text."""
    if "${" in default or re.search(r"\w\(", default):
        return f"{default!r} looks like an expression; defaults are fixed values"
    if question.type in _DEFAULT_PATTERNS:
        pattern, what = _DEFAULT_PATTERNS[question.type]
        if not re.fullmatch(pattern, default.strip()):
            return f"{default!r} is not {what}"
    if question.has_choices:
        names = {c.name for c in form.choices_for(question)}
        unknown = [v for v in default.split() if v not in names]
        if unknown or (question.type == "select_one" and len(default.split()) != 1):
            return f"{default!r} is not a choice of list {question.list_name!r}"
    return None


def _check_matrix(parser: Reporter, form: Form, group: Group) -> None:
    if not any(a in (group.appearance or "") for a in MATRIX_APPEARANCES):
        return
    lists = set()
    for child in group.children:
        if isinstance(child, Group):
            parser.error(parser.where(group.name, "group"), "a matrix group cannot contain groups")
        elif child.has_choices:
            lists.add(child.list_name)
        elif child.type != "note":
            parser.error(
                parser.where(child.name),
                f"a matrix row must be a choice question (or a note), not {child.type}",
            )
    if len(lists) > 1:
        parser.error(
            parser.where(group.name, "group"),
            "the rows of a matrix share one choice list; found "
            + ", ".join(sorted(str(x) for x in lists)),
        )


def _find_cycle(graph: Mapping[str, frozenset[str]]) -> list[str]:
    """The first cycle found (its names, the first repeated at the end), or [].

    Depth-first with an explicit stack, not recursion: a chain of thousands of questions each
    reading the next is a valid form and must not reach the recursion limit (issue 11).
    """
    state: dict[str, int] = {}
    for start in graph:
        if start in state:
            continue
        state[start] = 1
        path = [start]
        pending = [iter(sorted(graph.get(start, ())))]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                pending.pop()
                state[path.pop()] = 2
            elif state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            elif dep in graph and dep not in state:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(sorted(graph.get(dep, ()))))
    return []


def compiled(text: str) -> Node:
    """The parsed (cached) AST of an expression that `parse_form` has already accepted."""
    return parse_expression(text)
