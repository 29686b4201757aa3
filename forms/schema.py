"""The questionnaire definition in XLSForm's vocabulary: pure data, no database, no Flask.

A YAML campaign file and an XLSForm workbook describe the same `Form`. Every stage may import this
module; `parse_form()` validates a plain mapping and collects every problem before raising.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from minsheng.errors import InputError, Problem

# XLSForm base types minsheng supports, with the value each stores.
QUESTION_TYPES: dict[str, str] = {
    "select_one": "one choice name",
    "select_multiple": "a list of choice names",
    "rank": "choice names in order of preference",
    "text": "free text",
    "integer": "a whole number",
    "decimal": "a number",
    "range": "a number on a scale (e.g. NPS 0-10)",
    "date": "a date (YYYY-MM-DD)",
    "note": "nothing (a statement shown to the respondent)",
    "calculate": "a value computed from other answers",
    "acknowledge": "OK when ticked",
}
CHOICE_TYPES = frozenset({"select_one", "select_multiple", "rank"})
INPUT_FREE_TYPES = frozenset({"note", "calculate"})
LIST_SUFFIX_SEPARATOR = " "
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"

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


def _walk(children: Sequence[Question | Group]) -> Iterator[Question]:
    for child in children:
        if isinstance(child, Group):
            yield from _walk(child.children)
        else:
            yield child


def text_in(label: Mapping[str, str], language: str, fallback: str) -> str:
    """The label in `language` ("zh_CN" matches "zh"), else in `fallback`, else any."""
    short = language.split("_")[0].split("-")[0]
    for key in (language, short, fallback, fallback.split("_")[0]):
        if key in label:
            return label[key]
    return next(iter(label.values()), "")


QUESTION_FIELDS = frozenset(
    {
        "type",
        "name",
        "label",
        "hint",
        "required",
        "required_message",
        "relevant",
        "constraint",
        "constraint_message",
        "choice_filter",
        "appearance",
        "default",
        "calculation",
        "read_only",
        "parameters",
        "choices",
    }
)
GROUP_FIELDS = frozenset({"type", "name", "label", "relevant", "appearance", "questions"})
SETTINGS_FIELDS = frozenset({"form_title", "form_id", "version", "default_language"})


class _Parser:
    """Walks a plain mapping (from YAML or XLSForm) and collects every problem with its place."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.names: set[str] = set()
        self.inline_lists: dict[str, tuple[Choice, ...]] = {}

    def error(self, where: str, message: str) -> None:
        self.problems.append(Problem(f"{self.source}: {where}" if where else self.source, message))

    def label(self, value: Any, where: str, default_language: str) -> Label:
        if value is None:
            return {}
        if isinstance(value, str):
            return {default_language: value}
        if isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str | int | float) for k, v in value.items()
        ):
            return {str(k): str(v) for k, v in value.items()}
        self.error(
            where,
            "expected text or a mapping of language to text, e.g. {zh: ..., en: ...}",
        )
        return {}

    def node(self, raw: Any, where: str, lang: str) -> Question | Group | None:
        if not isinstance(raw, Mapping):
            self.error(where, "expected a mapping with at least `type` and `name`")
            return None
        name = raw.get("name")
        type_text = str(raw.get("type") or "").strip()
        here = f"question `{name}`" if name else where
        if not name or not isinstance(name, str):
            self.error(where, "missing `name`")
        elif not _valid_name(name):
            self.error(
                here,
                f"name {name!r} must start with a letter or _ and contain only "
                "letters, digits, _, - and .",
            )
        elif name in self.names:
            self.error(here, f"duplicate name {name!r}; every question and group needs its own")
        else:
            self.names.add(name)
        if type_text in ("group", "begin group", "begin_group"):
            return self.group(raw, here, str(name or ""), lang)
        return self.question(raw, here, str(name or ""), type_text, lang)

    def group(self, raw: Mapping[str, Any], here: str, name: str, lang: str) -> Group:
        for key in raw:
            if key not in GROUP_FIELDS:
                self.error(
                    here,
                    f"unknown field `{key}` for a group; expected one of "
                    f"{', '.join(sorted(GROUP_FIELDS))}",
                )
        children = self.children(raw.get("questions"), f"{here}.questions", lang)
        if not children:
            self.error(here, "a group needs at least one question in `questions`")
        return Group(
            name=name,
            label=self.label(raw.get("label"), f"{here}: label", lang),
            relevant=_opt(raw.get("relevant")),
            appearance=_opt(raw.get("appearance")),
            children=tuple(children),
        )

    def question(
        self, raw: Mapping[str, Any], here: str, name: str, type_text: str, lang: str
    ) -> Question:
        for key in raw:
            if key not in QUESTION_FIELDS:
                self.error(
                    here,
                    f"unknown field `{key}`; expected one of {', '.join(sorted(QUESTION_FIELDS))}",
                )
        parts = type_text.split()
        base = parts[0] if parts else ""
        list_name = parts[1] if len(parts) > 1 else None
        or_other = len(parts) > 2 and parts[2] == "or_other"
        if base not in QUESTION_TYPES:
            self.error(
                here,
                f"unknown type {type_text!r}; expected one of "
                f"{', '.join(QUESTION_TYPES)} (choice types followed by a list name)",
            )
        inline = raw.get("choices")
        if base in CHOICE_TYPES:
            if inline is not None:
                choices = self.choice_list(inline, f"{here}: choices", lang)
                list_name = list_name or name
                self.inline_lists[list_name] = choices
            elif list_name is None:
                self.error(
                    here,
                    f"type {base} needs choices: write `type: {base} <list name>` "
                    "or give `choices:`",
                )
        elif inline is not None:
            self.error(here, f"`choices` given but type {base!r} takes no choices")
        params = raw.get("parameters") or {}
        if not isinstance(params, Mapping):
            self.error(here, "`parameters` must be a mapping, e.g. {min: 1, max: 3}")
            params = {}
        return Question(
            name=name,
            type=base,
            list_name=list_name,
            or_other=or_other,
            label=self.label(raw.get("label"), f"{here}: label", lang),
            hint=self.label(raw.get("hint"), f"{here}: hint", lang),
            required=_flag(raw.get("required")),
            required_message=self.label(
                raw.get("required_message"), f"{here}: required_message", lang
            ),
            relevant=_opt(raw.get("relevant")),
            constraint=_opt(raw.get("constraint")),
            constraint_message=self.label(
                raw.get("constraint_message"), f"{here}: constraint_message", lang
            ),
            choice_filter=_opt(raw.get("choice_filter")),
            appearance=_opt(raw.get("appearance")),
            default=_opt(raw.get("default")),
            calculation=_opt(raw.get("calculation")),
            read_only=_flag(raw.get("read_only")),
            parameters={str(k): str(v) for k, v in params.items()},
        )

    def children(self, raw: Any, where: str, lang: str) -> list[Question | Group]:
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            self.error(where, "expected a list of questions")
            return []
        nodes = [self.node(item, f"{where}[{i}]", lang) for i, item in enumerate(raw)]
        return [n for n in nodes if n is not None]

    def choice_list(self, raw: Any, where: str, lang: str) -> tuple[Choice, ...]:
        if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
            self.error(where, "expected a non-empty list of choices with `name` and `label`")
            return ()
        seen: set[str] = set()
        choices = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping) or item.get("name") in (None, ""):
                self.error(f"{where}[{i}]", "a choice needs `name` and `label`")
                continue
            cname = str(item["name"])
            if cname in seen:
                self.error(f"{where}[{i}]", f"duplicate choice name {cname!r}")
            seen.add(cname)
            extra = {str(k): str(v) for k, v in item.items() if k not in ("name", "label")}
            choices.append(
                Choice(
                    cname,
                    self.label(item.get("label"), f"{where}[{i}]", lang) or {lang: cname},
                    extra,
                )
            )
        return tuple(choices)


def parse_form(data: Any, source: str = "questionnaire") -> Form:
    """Validate a plain mapping (`settings`, `choices`, `survey`) and return the `Form`.

    Every problem is collected with its place (`source: question `x`: ...`) before `InputError`
    is raised, so a form designer fixes a file in one pass.
    """
    parser = _Parser(source)
    if not isinstance(data, Mapping):
        raise InputError(
            [Problem(source, "expected a mapping with `settings`, `choices`, `survey`")]
        )
    for key in data:
        if key not in ("settings", "choices", "survey"):
            parser.error("", f"unknown section `{key}`; expected settings, choices, survey")
    settings = data.get("settings") or {}
    for key in settings:
        if key not in SETTINGS_FIELDS:
            parser.error(
                "settings",
                f"unknown setting `{key}`; expected one of {', '.join(sorted(SETTINGS_FIELDS))}",
            )
    lang = str(settings.get("default_language") or "zh")
    lists: dict[str, tuple[Choice, ...]] = {}
    raw_lists = data.get("choices") or {}
    if not isinstance(raw_lists, Mapping):
        parser.error("choices", "expected a mapping of list name to choices")
        raw_lists = {}
    for list_name, raw in raw_lists.items():
        lists[str(list_name)] = parser.choice_list(raw, f"choices.{list_name}", lang)
    children = parser.children(data.get("survey"), "survey", lang)
    for list_name, inline in parser.inline_lists.items():
        if list_name in lists:
            parser.error(f"choices.{list_name}", "defined both inline and in `choices`")
        lists[list_name] = inline
    form = Form(
        title=parser.label(settings.get("form_title"), "settings.form_title", lang),
        form_id=str(settings.get("form_id") or "form"),
        version=str(settings.get("version") or "1"),
        default_language=lang,
        children=tuple(children),
        choices=lists,
    )
    for question in form.questions():
        if question.has_choices and question.list_name and question.list_name not in lists:
            parser.error(
                f"question `{question.name}`",
                f"choice list {question.list_name!r} "
                f"is not defined; defined lists: {', '.join(sorted(lists)) or 'none'}",
            )
    if not any(True for _ in form.questions()):
        parser.error("survey", "the questionnaire has no questions")
    if parser.problems:
        raise InputError(parser.problems)
    languages = sorted({k for q in form.questions() for k in q.label} | {lang})
    return Form(**{**form.__dict__, "languages": tuple(languages)})


def form_to_dict(form: Form) -> dict[str, Any]:
    """The plain mapping `parse_form` reads back into an equal `Form` (YAML dump, storage)."""
    return {
        "settings": {
            "form_title": dict(form.title),
            "form_id": form.form_id,
            "version": form.version,
            "default_language": form.default_language,
        },
        "choices": {
            name: [{"name": c.name, "label": dict(c.label), **c.filters} for c in choices]
            for name, choices in form.choices.items()
        },
        "survey": [_node_to_dict(child) for child in form.children],
    }


def _node_to_dict(node: Question | Group) -> dict[str, Any]:
    if isinstance(node, Group):
        out: dict[str, Any] = {
            "type": "group",
            "name": node.name,
            "label": dict(node.label),
        }
        if node.relevant:
            out["relevant"] = node.relevant
        if node.appearance:
            out["appearance"] = node.appearance
        out["questions"] = [_node_to_dict(c) for c in node.children]
        return out
    type_text = node.type
    if node.list_name:
        type_text += f" {node.list_name}" + (" or_other" if node.or_other else "")
    out = {"type": type_text, "name": node.name}
    for key in ("label", "hint", "required_message", "constraint_message"):
        if getattr(node, key):
            out[key] = dict(getattr(node, key))
    for key in (
        "relevant",
        "constraint",
        "choice_filter",
        "appearance",
        "default",
        "calculation",
    ):
        if getattr(node, key) is not None:
            out[key] = getattr(node, key)
    if node.required:
        out["required"] = True
    if node.read_only:
        out["read_only"] = True
    if node.parameters:
        out["parameters"] = dict(node.parameters)
    return out


def _valid_name(name: str) -> bool:
    import re

    return re.match(NAME_PATTERN, name) is not None


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "true", "1", "true()")
    return bool(value)
