"""The questionnaire definition in XLSForm's vocabulary: pure data, no database, no Flask.

A YAML campaign file and an XLSForm workbook describe the same `Form` (`questionnaire.tree`, whose
classes this module re-exports). Every stage may import this module; `parse_form()` validates a
plain mapping and collects every problem before raising, `form_to_dict()` writes it back.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from minsheng.problems import InputError, Problem
from minsheng.text import unwritable_text
from questionnaire.logic import check_logic, compiled
from questionnaire.tree import (
    CHOICE_TYPES,
    TRUE_WORDS,
    Choice,
    Form,
    Group,
    Label,
    Question,
    choice_order,
)

# XLSForm base types minsheng supports, with the value each stores.
QUESTION_TYPES: dict[str, str] = {
    "select_one": "one choice name",
    "select_multiple": "a list of choice names",
    "rank": "choice names in order of preference",
    "text": "free text",
    "integer": "a whole number",
    "decimal": "a number",
    "range": "a number on a scale; NPS is `range` with parameters start=0 end=10 step=1",
    "date": "a date (YYYY-MM-DD)",
    "note": "nothing (a statement or section header shown to the respondent)",
    "calculate": "a value computed from other answers",
    "acknowledge": "OK when ticked",
    "start": "nothing asked: the response's own started_at records it",
    "end": "nothing asked: the response's own submitted_at records it",
    "today": "nothing asked: the date of the response's submitted_at",
}
METADATA_TYPES = frozenset({"start", "end", "today"})
INPUT_FREE_TYPES = frozenset({"note", "calculate"}) | METADATA_TYPES
# The `parameters` each type understands (XLSForm's parameters column, `key=value` pairs).
PARAMETERS: dict[str, frozenset[str]] = {
    "select_one": frozenset({"randomize"}),
    "select_multiple": frozenset({"randomize", "min_selections", "max_selections"}),
    "rank": frozenset({"randomize"}),
    "integer": frozenset({"min", "max"}),
    "decimal": frozenset({"min", "max"}),
    "range": frozenset({"start", "end", "step"}),
    "text": frozenset({"max_length"}),
}
NUMERIC_PARAMETERS = frozenset(
    {"min_selections", "max_selections", "min", "max", "start", "end", "step", "max_length"}
)
# Longest text kept for an answer (issue 11: a 10 MB answer was stored): a `text` question's own
# `max_length` parameter (at most MAX_TEXT_LENGTH), else the default; an "other, please specify"
# answer is a few words.
DEFAULT_TEXT_LENGTH = 2000
OTHER_TEXT_LENGTH = 200
MAX_TEXT_LENGTH = 20000
# The largest magnitude of a number answer without its own `min`/`max`: a quadrillion counts
# anything a resident measures, and the squares and sums of a campaign's answers stay finite.
MAX_NUMBER = 1e15
# Settings kept as they are and written back on export; they change nothing in minsheng.
PASSIVE_SETTINGS = frozenset(
    {"style", "name", "instance_name", "clean_text_values", "omit_instanceID", "add_none_option"}
)
# Groups inside groups: real forms nest two or three; each level costs the parser and every walk
# of the tree a few stack frames, so a hostile file can not reach the recursion limit.
MAX_GROUP_NESTING = 20
FALSE_WORDS = frozenset({"no", "false", "false()", "0", "n", ""})
LIST_SUFFIX_SEPARATOR = " "
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"

__all__ = [
    "Choice",
    "Form",
    "Group",
    "Label",
    "Question",
    "choice_order",
    "compiled",
    "form_to_dict",
    "language_code",
    "parse_form",
    "text_in",
    "text_limit",
]


def text_limit(question: Question, other: bool = False) -> int:
    """The most characters an answer to `question` may hold: its "other, please specify" text
    (`other=True`) has `OTHER_TEXT_LENGTH`, a text question its `max_length` or
    `DEFAULT_TEXT_LENGTH`."""
    if other:
        return OTHER_TEXT_LENGTH
    length = question.parameters.get("max_length", "")
    return int(length) if length.isdigit() and int(length) > 0 else DEFAULT_TEXT_LENGTH


_LANGUAGE_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)\)\s*$")


def language_code(key: str) -> str:
    """The code of an XLSForm language key: "English (en)" -> "en"; "zh" stays "zh"."""
    match = _LANGUAGE_CODE.search(key)
    return match.group(1) if match else key


def text_in(label: Mapping[str, str], language: str, fallback: str) -> str:
    """The label in `language` ("zh_CN" matches "zh" and "Chinese (zh)"), else in `fallback`,
    else any."""
    if not label:
        return ""
    by_code = {language_code(k).lower(): v for k, v in reversed(list(label.items()))}
    short = language.split("_")[0].split("-")[0]
    for key in (language, short, fallback, fallback.split("_")[0]):
        if key in label:
            return label[key]
        if language_code(key).lower() in by_code:
            return by_code[language_code(key).lower()]
    return next(iter(label.values()))


# A question's texts, one per language (`label: {zh: ..., en: ...}`; `label::en` in XLSForm),
# and the fields that hold one value whatever the language, in the order an XLSForm survey
# sheet writes their columns (`forms.xlsform`).
TRANSLATABLE_FIELDS = ("label", "hint", "constraint_message", "required_message")
PLAIN_FIELDS = (
    "required",
    "relevant",
    "constraint",
    "choice_filter",
    "appearance",
    "default",
    "calculation",
    "read_only",
    "parameters",
)
QUESTION_FIELDS = frozenset({"type", "name", *TRANSLATABLE_FIELDS, *PLAIN_FIELDS, "choices"})
GROUP_FIELDS = frozenset({"type", "name", "label", "hint", "relevant", "appearance", "questions"})
SETTINGS_FIELDS = (
    frozenset(
        {
            "form_title",
            "form_id",
            "version",
            "default_language",
            "allow_choice_duplicates",
            "min_completion_seconds",
        }
    )
    | PASSIVE_SETTINGS
)
#: A minimum completion time past an hour would flag every honest respondent.
MAX_MIN_COMPLETION_SECONDS = 3600


class _Parser:
    """Walks a plain mapping (from YAML or XLSForm) and collects every problem with its place."""

    def __init__(self, source: str, places: Mapping[str, str] | None = None) -> None:
        self.source = source
        self.places = places or {}
        self.problems: list[Problem] = []
        self.names: set[str] = set()
        self.inline_lists: dict[str, tuple[Choice, ...]] = {}
        self.allow_duplicate_choices = False
        self.group_nesting = 0

    def where(self, name: str, kind: str = "question") -> str:
        """`question `x`` or, for an imported sheet, `survey row 12, question `x``."""
        place = self.places.get(name)
        return f"{place}, {kind} `{name}`" if place else f"{kind} `{name}`"

    def flag(self, value: Any, where: str) -> bool:
        if value is None or isinstance(value, bool | int):
            return bool(value)
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text not in FALSE_WORDS:
            self.error(
                where,
                f"got {value!r}; expected yes or no (expressions are not supported here)",
            )
        return False

    def seconds(self, value: Any) -> float:
        """`min_completion_seconds`: a number of seconds in [0, 3600] (a numeric text from an
        XLSForm settings sheet too)."""
        try:
            seconds = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            seconds = math.nan
        if not 0 <= seconds <= MAX_MIN_COMPLETION_SECONDS:
            self.error(
                "settings.min_completion_seconds",
                f"got {value!r}; expected a number of seconds from 0 to "
                f"{MAX_MIN_COMPLETION_SECONDS} (0 turns the minimum off)",
            )
            return 0.0
        return seconds

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
        raw = _merge_language_keys(raw, lang)
        name = raw.get("name")
        type_text = str(raw.get("type") or "").strip()
        is_group = type_text in ("group", "begin group", "begin_group")
        kind = "group" if is_group else "question"
        here = self.where(name, kind) if isinstance(name, str) and name else where
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
        if is_group:
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
        children: list[Question | Group] = []
        self.group_nesting += 1
        if self.group_nesting > MAX_GROUP_NESTING:
            self.error(here, f"groups are nested more than {MAX_GROUP_NESTING} levels deep")
        else:
            children = self.children(raw.get("questions"), f"{here}.questions", lang)
            if not children:
                self.error(here, "a group needs at least one question in `questions`")
        self.group_nesting -= 1
        return Group(
            name=name,
            label=self.label(raw.get("label"), f"{here}: label", lang),
            relevant=_opt(raw.get("relevant")),
            appearance=_opt(raw.get("appearance")),
            children=tuple(children),
            hint=self.label(raw.get("hint"), f"{here}: hint", lang),
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
        params = self.parameters(raw.get("parameters"), base, here)
        calculation = _opt(raw.get("calculation"))
        if base == "calculate" and calculation is None:
            self.error(here, "type calculate needs a `calculation` (the expression to compute)")
        elif base != "calculate" and calculation is not None and base in QUESTION_TYPES:
            self.error(here, f"`calculation` is only for type calculate, not {base}")
        return Question(
            name=name,
            type=base,
            list_name=list_name,
            or_other=or_other,
            label=self.label(raw.get("label"), f"{here}: label", lang),
            hint=self.label(raw.get("hint"), f"{here}: hint", lang),
            required=self.flag(raw.get("required"), f"{here}: required"),
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
            read_only=self.flag(raw.get("read_only"), f"{here}: read_only"),
            parameters=params,
        )

    def parameters(self, raw: Any, base: str, here: str) -> dict[str, str]:
        if raw is None or raw == "":
            return {}
        if not isinstance(raw, Mapping):
            self.error(here, "`parameters` must be a mapping, e.g. {min_selections: 1}")
            return {}
        params = {str(k): _plain(v) for k, v in raw.items()}
        allowed = PARAMETERS.get(base, frozenset())
        for key, value in params.items():
            if key not in allowed:
                self.error(
                    f"{here}: parameters",
                    f"unknown parameter `{key}` for type {base}; expected "
                    f"{', '.join(sorted(allowed)) or 'none'}",
                )
            elif key in NUMERIC_PARAMETERS and not re.fullmatch(r"-?\d+(\.\d+)?", value):
                self.error(f"{here}: parameters", f"`{key}` must be a number, got {value!r}")
        length = params.get("max_length", "")
        numeric = re.fullmatch(r"-?\d+(\.\d+)?", length)
        if numeric and not (length.isdigit() and 1 <= int(length) <= MAX_TEXT_LENGTH):
            self.error(
                f"{here}: parameters",
                f"`max_length` must be a whole number from 1 to {MAX_TEXT_LENGTH}, got {length!r}",
            )
        if base == "range" and float(params.get("step", "1") or "1") <= 0:
            self.error(f"{here}: parameters", "`step` must be greater than 0")
        return params

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
            if cname in seen and not self.allow_duplicate_choices:
                self.error(
                    f"{where}[{i}]",
                    f"duplicate choice name {cname!r} (allowed only with the setting "
                    "allow_choice_duplicates: yes)",
                )
            seen.add(cname)
            extra = {str(k): _plain(v) for k, v in item.items() if k not in ("name", "label")}
            choices.append(
                Choice(
                    cname,
                    self.label(item.get("label"), f"{where}[{i}]", lang) or {lang: cname},
                    extra,
                )
            )
        return tuple(choices)


def parse_form(
    data: Any, source: str = "questionnaire", places: Mapping[str, str] | None = None
) -> Form:
    """Validate a plain mapping (`settings`, `choices`, `survey`) and return the `Form`.

    Every problem is collected with its place (`source: question `x`: ...`) before `InputError`
    is raised, so a form designer fixes a file in one pass. `places` maps a question name to where
    it was read (`survey row 12`), which then prefixes its problems. Expressions are parsed here:
    syntax errors (with the character position), references to unknown questions and cycles in
    the relevant/calculation dependencies are refused.
    """
    parser = _Parser(source, places)
    if not isinstance(data, Mapping):
        raise InputError(
            [Problem(source, "expected a mapping with `settings`, `choices`, `survey`")]
        )
    for key in data:
        if key not in ("settings", "choices", "survey"):
            parser.error("", f"unknown section `{key}`; expected settings, choices, survey")
    for path, problem in unwritable_text(data):
        parser.error(path, problem)
    settings = data.get("settings") or {}
    if not isinstance(settings, Mapping):
        parser.error("settings", f"expected a mapping of setting to value, got {settings!r}")
        settings = {}
    for key in settings:
        if key not in SETTINGS_FIELDS:
            parser.error(
                "settings",
                f"unknown setting `{key}`; expected one of {', '.join(sorted(SETTINGS_FIELDS))}",
            )
    lang = str(settings.get("default_language") or "zh")
    parser.allow_duplicate_choices = parser.flag(
        settings.get("allow_choice_duplicates"), "settings.allow_choice_duplicates"
    )
    minimum = settings.get("min_completion_seconds")
    if minimum is not None:
        settings = {**settings, "min_completion_seconds": parser.seconds(minimum)}
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
    check_logic(form, parser)
    if parser.problems:
        raise InputError(parser.problems)
    languages = sorted(
        {k for q in form.questions() for k in (*q.label, *q.hint)}
        | {k for g, _ in form.groups() for k in g.label}
        | {k for cs in lists.values() for c in cs for k in c.label}
        | {lang}
    )
    extra = {
        str(k): _plain(v)
        for k, v in settings.items()
        if k in SETTINGS_FIELDS - {"form_title", "form_id", "version", "default_language"}
    }
    return dataclasses.replace(form, languages=tuple(languages), settings=extra)


def form_to_dict(form: Form) -> dict[str, Any]:
    """The plain mapping `parse_form` reads back into an equal `Form` (YAML dump, storage)."""
    return {
        "settings": {
            "form_title": dict(form.title),
            "form_id": form.form_id,
            "version": form.version,
            "default_language": form.default_language,
            **form.settings,
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
        if node.hint:
            out["hint"] = dict(node.hint)
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
    for key in TRANSLATABLE_FIELDS:
        if getattr(node, key):
            out[key] = dict(getattr(node, key))
    for key in PLAIN_FIELDS:
        value = getattr(node, key)
        # Flags and parameters are written only when set; texts whenever present.
        if value is not None and value is not False and value != {}:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def _merge_language_keys(raw: Mapping[str, Any], lang: str) -> Mapping[str, Any]:
    """XLSForm's column spelling in YAML: `label::en: Hello` joins `label: {en: Hello}`."""
    if not any(isinstance(k, str) and "::" in k for k in raw):
        return raw
    out: dict[str, Any] = {}
    for key, value in raw.items():
        base, _, language = str(key).partition("::")
        if language and base in TRANSLATABLE_FIELDS:
            current = out.get(base)
            merged = dict(current) if isinstance(current, Mapping) else {}
            if isinstance(current, str):
                merged[lang] = current
            merged[language] = value
            out[base] = merged
        elif base in TRANSLATABLE_FIELDS and isinstance(out.get(base), Mapping):
            out[base] = {lang: value, **out[base]} if isinstance(value, str) else value
        else:
            out[str(key)] = value
    return out


def _valid_name(name: str) -> bool:
    return re.match(NAME_PATTERN, name) is not None


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _plain(value: Any) -> str:
    """A cell or YAML scalar as text; whole floats (spreadsheets store 3 as 3.0) lose the .0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
