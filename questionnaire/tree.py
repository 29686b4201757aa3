"""The questionnaire as data: a `Form` (settings, the survey tree of groups and questions, the
choice lists) and what follows from its structure alone: pages, enclosing groups, the dependency
graph of its expressions, the order answers are evaluated in, and its logic as JSON for the
browser. `questionnaire.schema` reads and writes it; `questionnaire.logic` checks it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from questionnaire.expressions import ExpressionError, parse_expression, references, to_json

CHOICE_TYPES = frozenset({"select_one", "select_multiple", "rank"})
TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y"})

Label = dict[str, str]


@dataclass(frozen=True)
class Choice:
    """One option of a choice list; `filters` holds extra columns used by `choice_filter`."""

    name: str
    label: Label
    filters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """One row of the survey sheet that asks for (or shows, or computes) a value."""

    name: str
    type: str
    label: Label = field(default_factory=dict)
    list_name: str | None = None
    hint: Label = field(default_factory=dict)
    required: bool = False
    required_message: Label = field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Label = field(default_factory=dict)
    choice_filter: str | None = None
    appearance: str | None = None
    default: str | None = None
    calculation: str | None = None
    read_only: bool = False
    parameters: dict[str, str] = field(default_factory=dict)
    or_other: bool = False

    @property
    def has_choices(self) -> bool:
        return self.type in CHOICE_TYPES


@dataclass(frozen=True)
class Group:
    """A section (`begin group` ... `end group`); a top-level group is one page for respondents."""

    name: str
    label: Label = field(default_factory=dict)
    relevant: str | None = None
    appearance: str | None = None
    children: tuple[Question | Group, ...] = ()
    hint: Label = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    """A questionnaire: settings, the survey tree and the choice lists."""

    title: Label
    form_id: str
    version: str
    default_language: str
    children: tuple[Question | Group, ...]
    choices: dict[str, tuple[Choice, ...]]
    languages: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)

    def questions(self) -> Iterator[Question]:
        """Every question in document order, groups flattened."""
        yield from _walk(self.children)

    def question(self, name: str) -> Question:
        for question in self.questions():
            if question.name == name:
                return question
        raise KeyError(name)

    def choices_for(self, question: Question) -> tuple[Choice, ...]:
        return self.choices.get(question.list_name or "", ())

    def ordered_choices(self, question: Question, seed: str) -> list[Choice]:
        """The choices of `question` in the order this respondent sees them (`choice_order`)."""
        return choice_order(question, seed, self.choices_for(question))

    def groups(self) -> Iterator[tuple[Group, tuple[Group, ...]]]:
        """Every group with its enclosing groups (outermost first), in document order."""
        yield from _walk_groups(self.children, ())

    def enclosing_groups(self) -> dict[str, tuple[Group, ...]]:
        """Question name -> the groups around it, outermost first (their `relevant` applies)."""
        out: dict[str, tuple[Group, ...]] = {}
        _collect_parents(self.children, (), out)
        return out

    def pages(self) -> list[tuple[Group | None, list[Question | Group]]]:
        """Top-level groups become pages; loose top-level questions are gathered in between."""
        pages: list[tuple[Group | None, list[Question | Group]]] = []
        loose: list[Question | Group] = []
        for child in self.children:
            if isinstance(child, Group):
                if loose:
                    pages.append((None, loose))
                    loose = []
                pages.append((child, list(child.children)))
            else:
                loose.append(child)
        if loose:
            pages.append((None, loose))
        return pages

    # Derived once per parsed form: `forms.publishing.form_of` keeps one `Form` per stored
    # version, so every request of a version reuses them. Frozen, not slotted, so
    # `cached_property` can keep its value in the instance's __dict__.
    @cached_property
    def dependencies(self) -> Mapping[str, frozenset[str]]:
        """Question or group name -> the names its relevance, calculation or choice filter
        reads, plus its enclosing group (whose relevance it inherits). Constraints are not
        edges: they run after every value is known."""
        return _dependencies(self)

    @cached_property
    def evaluation_order(self) -> tuple[Question, ...]:
        """The questions ordered so that everything an expression reads comes before it
        (document order otherwise). Forms with cycles never get here: `parse_form` refuses
        them."""
        return _evaluation_order(self)

    @cached_property
    def logic_json(self) -> dict[str, Any]:
        """The form's logic for the browser (`MinshengExpr.state` in forms/static/forms/
        expressions.js): `order` (evaluation order), `groups` {name: {relevant, parents}},
        `questions` {name: {type, list, relevant, constraint, choice_filter, calculation,
        parents}}, each expression as its `to_json` AST or null, and `choices` {list: [{name,
        filter columns}]} for the lists a `choice_filter` reads. The server re-checks
        everything (`validate_answers`). Shared by every caller: read it, never change it."""
        return _logic_json(self)


def _walk(children: Sequence[Question | Group]) -> Iterator[Question]:
    for child in children:
        if isinstance(child, Group):
            yield from _walk(child.children)
        else:
            yield child


def _walk_groups(
    children: Sequence[Question | Group], parents: tuple[Group, ...]
) -> Iterator[tuple[Group, tuple[Group, ...]]]:
    for child in children:
        if isinstance(child, Group):
            yield child, parents
            yield from _walk_groups(child.children, (*parents, child))


def _collect_parents(
    children: Sequence[Question | Group],
    parents: tuple[Group, ...],
    out: dict[str, tuple[Group, ...]],
) -> None:
    for child in children:
        if isinstance(child, Group):
            _collect_parents(child.children, (*parents, child), out)
        else:
            out[child.name] = parents


def choice_order(question: Question, seed: str, choices: Sequence[Choice]) -> list[Choice]:
    """The order one respondent sees the choices in.

    With the parameter `randomize=true` (as in ODK) the order is shuffled by a generator seeded
    with `seed` and the question name, so the same seed (the response's `submission_id`) always
    gives the same order: storing the submission id records the order that was shown. Without it
    the list order is kept. An "other" option (`or_other`) is not a choice and stays last.
    """
    ordered = list(choices)
    if question.parameters.get("randomize", "").strip().lower() in TRUE_WORDS:
        random.Random(f"{seed}:{question.name}").shuffle(ordered)
    return ordered


def _dependencies(form: Form) -> dict[str, frozenset[str]]:
    graph: dict[str, frozenset[str]] = {}
    for group, outer in form.groups():
        deps = {outer[-1].name} if outer else set()
        graph[group.name] = frozenset(deps | _refs(group.relevant))
    parents = form.enclosing_groups()
    for question in form.questions():
        deps = {parents[question.name][-1].name} if parents[question.name] else set()
        for text in (question.relevant, question.calculation, question.choice_filter):
            deps |= _refs(text)
        graph[question.name] = frozenset(deps)
    return graph


def _refs(text: str | None) -> set[str]:
    if text is None:
        return set()
    try:
        return references(parse_expression(text))
    except ExpressionError:
        return set()


def _evaluation_order(form: Form) -> tuple[Question, ...]:
    # Depth-first post-order with an explicit stack: a chain of thousands of questions, each
    # reading the next, must not reach the recursion limit (issue 11).
    graph = form.dependencies
    by_name = {q.name: q for q in form.questions()}
    done: set[str] = set()
    order: list[Question] = []
    for start in by_name:
        if start in done:
            continue
        done.add(start)
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        while stack:
            name, deps = stack[-1]
            dep = next((d for d in deps if d not in done), None)
            if dep is None:
                stack.pop()
                if name in by_name:
                    order.append(by_name[name])
            else:
                done.add(dep)
                stack.append((dep, iter(sorted(graph.get(dep, ())))))
    return tuple(order)


def _logic_json(form: Form) -> dict[str, Any]:
    def ast(text: str | None) -> dict[str, Any] | None:
        return to_json(parse_expression(text)) if text else None

    parents = form.enclosing_groups()
    filtered = {q.list_name for q in form.questions() if q.choice_filter and q.list_name}
    return {
        "order": [q.name for q in form.evaluation_order],
        "groups": {
            group.name: {"relevant": ast(group.relevant), "parents": [g.name for g in outer]}
            for group, outer in form.groups()
        },
        "questions": {
            q.name: {
                "type": q.type,
                "list": q.list_name,
                "relevant": ast(q.relevant),
                "constraint": ast(q.constraint),
                "choice_filter": ast(q.choice_filter),
                "calculation": ast(q.calculation),
                "parents": [g.name for g in parents[q.name]],
            }
            for q in form.questions()
        },
        "choices": {
            name: [{**c.filters, "name": c.name} for c in form.choices.get(name, ())]
            for name in sorted(filtered)
        },
    }
