"""Checking one set of answers against a questionnaire version: types, choices, ranges, required.

Input values are what a page or an API client sends (strings, numbers, lists); the result is the
normalised answers that are stored (ints, floats, choice names, ISO dates), or every problem found.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from forms.schema import Form, Question, text_in
from minsheng.errors import InputError, Problem

Answers = dict[str, Any]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.split() if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if not _empty(v)]
    return [str(value)]


def _number(question: Question, value: Any, kind: type[int | float]) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected a whole number")
        number: int | float = (
            int(str(value).strip()) if not isinstance(value, int | float) else int(value)
        )
    else:
        number = float(str(value).strip())
    low, high = question.parameters.get("min"), question.parameters.get("max")
    if question.type == "range":
        low = question.parameters.get("start", low)
        high = question.parameters.get("end", high)
    if low is not None and number < float(low):
        raise ValueError(f"must be at least {low}")
    if high is not None and number > float(high):
        raise ValueError(f"must be at most {high}")
    return number


def normalise_value(form: Form, question: Question, value: Any) -> Any:
    """One answer in its stored form, or `ValueError` saying what is allowed."""
    names = [c.name for c in form.choices_for(question)]
    if question.type == "select_one":
        chosen = str(value)
        if chosen not in names and not (question.or_other and chosen == "other"):
            raise ValueError(f"{chosen!r} is not one of the choices ({', '.join(names)})")
        return chosen
    if question.type in ("select_multiple", "rank"):
        chosen_list = _as_list(value)
        unknown = [c for c in chosen_list if c not in names and c != "other"]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} not among the choices ({', '.join(names)})"
            )
        if len(set(chosen_list)) != len(chosen_list):
            raise ValueError("the same choice is given twice")
        low = question.parameters.get("min_selections")
        high = question.parameters.get("max_selections")
        if low and len(chosen_list) < int(low):
            raise ValueError(f"choose at least {low}")
        if high and len(chosen_list) > int(high):
            raise ValueError(f"choose at most {high}")
        return chosen_list
    if question.type == "integer":
        return _number(question, value, int)
    if question.type in ("decimal", "range"):
        number = _number(question, value, float)
        return int(number) if question.type == "range" and float(number).is_integer() else number
    if question.type == "date":
        return date.fromisoformat(str(value)).isoformat()
    if question.type == "text":
        text = str(value).strip()
        limit = question.parameters.get("max_length")
        if limit and len(text) > int(limit):
            raise ValueError(f"at most {limit} characters (got {len(text)})")
        return text
    if question.type == "acknowledge":
        return "OK"
    raise ValueError(f"type {question.type} takes no answer")


def validate_answers(form: Form, raw: Mapping[str, Any], language: str = "zh_CN") -> Answers:
    """Normalised answers for `form`, or `InputError` with one problem per field (the field's
    `name` is the location, so pages show each message under its question)."""
    problems: list[Problem] = []
    answers: Answers = {}
    known = {q.name for q in form.questions()}
    for name in raw:
        if name not in known and not name.endswith("_other"):
            problems.append(Problem(name, "no such question in this questionnaire"))
    for question in form.questions():
        if question.type in ("note", "calculate"):
            continue
        value = raw.get(question.name)
        if _empty(value) or (question.has_choices and not _as_list(value)):
            if question.required:
                message = text_in(question.required_message, language, form.default_language)
                problems.append(Problem(question.name, message or "this question is required"))
            continue
        try:
            answers[question.name] = normalise_value(form, question, value)
        except ValueError as exc:
            problems.append(Problem(question.name, str(exc)))
            continue
        other_key = f"{question.name}_other"
        if question.or_other and "other" in _as_list(answers[question.name]):
            other = str(raw.get(other_key) or "").strip()
            if not other:
                problems.append(Problem(other_key, "please specify 'other'"))
            else:
                answers[other_key] = other
    if problems:
        raise InputError(problems)
    return answers
