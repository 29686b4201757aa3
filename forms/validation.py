"""Checking one set of answers against a questionnaire version: types, choices, ranges, required,
relevance, constraints, choice filters, and the calculations that are stored with the answers.

Input values are what a page or an API client sends (strings, numbers, lists); the result is the
normalised answers that are stored (ints, floats, choice names, ISO dates), or every problem found.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError, support

from minsheng.errors import InputError, Problem
from minsheng.text import unsafe_in
from questionnaire.expressions import Context, Value, boolean, evaluate, stored_value
from questionnaire.schema import (
    MAX_NUMBER,
    Choice,
    Form,
    Group,
    Question,
    compiled,
    text_in,
    text_limit,
)

Answers = dict[str, Any]

TRANSLATIONS = Path(__file__).parent / "translations"


class AnswerError(ValueError):
    """A refused answer: an English message id and its values, said in the respondent's language
    by `say()` (catalog `forms/translations`), so a Chinese page never shows English errors."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid % params)


@lru_cache(maxsize=8)
def _catalog(language: str) -> support.NullTranslations:
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return support.NullTranslations()
    return support.Translations.load(str(TRANSLATIONS), [locale])


def say(language: str, msgid: str, **params: object) -> str:
    """`msgid` translated into `language` (English when there is no catalog), values filled in."""
    return str(_catalog(language).gettext(msgid)) % params


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.split() if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if not _empty(v)]
    return [str(value)]


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")


def _number(question: Question, value: Any, kind: type[int | float]) -> int | float:
    expected = (
        "expected a whole number, got %(value)r"
        if kind is int
        else ("expected a number, got %(value)r")
    )
    text = str(value).strip()
    # float() would also take "nan", "inf" and "1e400"; answers are plain decimal numbers.
    if isinstance(value, bool) or not _NUMBER.fullmatch(text):
        raise AnswerError(expected, value=text)
    number: int | float = float(text)
    if kind is int:
        if not float(number).is_integer():
            raise AnswerError(expected, value=text)
        number = int(number)
    if not math.isfinite(number):
        raise AnswerError(expected, value=text)
    low, high = question.parameters.get("min"), question.parameters.get("max")
    if question.type == "range":
        low = question.parameters.get("start", low)
        high = question.parameters.get("end", high)
    low = low if low is not None else f"{-MAX_NUMBER:.0f}"
    high = high if high is not None else f"{MAX_NUMBER:.0f}"
    if number < float(low):
        raise AnswerError("must be at least %(n)s", n=low)
    if number > float(high):
        raise AnswerError("must be at most %(n)s", n=high)
    if question.type == "range":
        start, step = float(question.parameters.get("start", 0)), question.parameters.get("step")
        steps = (number - start) / float(step) if step else 0.0
        if step and abs(steps - round(steps)) > 1e-9:
            raise AnswerError(
                "must be %(start)s plus a multiple of %(step)s", start=f"{start:g}", step=step
            )
    return number


def _check_length(text: str, limit: int) -> None:
    if len(text) > limit:
        raise AnswerError("at most %(limit)s characters (got %(n)s)", limit=limit, n=len(text))


def normalise_value(form: Form, question: Question, value: Any) -> Any:
    """One answer in its stored form, or `AnswerError` (a `ValueError`) saying what is allowed.
    A value of the wrong kind (an object, NaN, an object for a text, a string for a multiple
    choice) is refused, never coerced; a text longer than `text_limit` is refused."""
    if isinstance(value, dict) or (isinstance(value, float) and not math.isfinite(value)):
        raise AnswerError("expected %(what)s, got %(value)r", what=question.type, value=value)
    if question.type == "text" and not isinstance(value, str):
        raise AnswerError("expected text, got %(value)r", value=value)
    if question.type in ("select_multiple", "rank") and not isinstance(value, list | tuple):
        # "a b" is not split into two choices: a client sending a string has the type wrong.
        raise AnswerError("expected a list of choice names, got %(value)r", value=value)
    names = [c.name for c in form.choices_for(question)]
    if question.type == "select_one":
        chosen = str(value)
        if chosen not in names and not (question.or_other and chosen == "other"):
            raise AnswerError(
                "%(value)r is not one of the choices (%(choices)s)",
                value=chosen,
                choices=", ".join(names),
            )
        return chosen
    if question.type in ("select_multiple", "rank"):
        chosen_list = _as_list(value)
        unknown = [c for c in chosen_list if c not in names and c != "other"]
        if unknown:
            raise AnswerError(
                "%(values)s not among the choices (%(choices)s)",
                values=", ".join(map(repr, unknown)),
                choices=", ".join(names),
            )
        if len(set(chosen_list)) != len(chosen_list):
            raise AnswerError("the same choice is given twice")
        low = question.parameters.get("min_selections")
        high = question.parameters.get("max_selections")
        if low and len(chosen_list) < int(low):
            raise AnswerError("choose at least %(n)s", n=low)
        if high and len(chosen_list) > int(high):
            raise AnswerError("choose at most %(n)s", n=high)
        return chosen_list
    if question.type == "integer":
        return _number(question, value, int)
    if question.type in ("decimal", "range"):
        number = _number(question, value, float)
        return int(number) if question.type == "range" and float(number).is_integer() else number
    if question.type == "date":
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise AnswerError(
                "expected a date written YYYY-MM-DD, got %(value)r", value=value
            ) from None
    if question.type == "text":
        text = str(value).strip()
        _check_length(text, text_limit(question))
        return text
    if question.type == "acknowledge":
        return "OK"
    raise AnswerError("type %(type)s takes no answer", type=question.type)


def validate_answers(
    form: Form, raw: Mapping[str, Any], language: str = "zh_CN", *, today: date | None = None
) -> Answers:
    """Normalised answers for `form`, or `InputError` with one problem per field (the field's
    `name` is the location, so pages show each message under its question).

    Questions are visited in dependency order (`Form.evaluation_order`). A question
    whose `relevant` (or an enclosing group's) is false is hidden: its answer is discarded and
    `required` does not apply. `constraint` runs with `.` bound to the answer; a choice excluded by
    `choice_filter` is refused; `calculate` results are stored with the answers. `today` is the
    date `today()` returns (the server's date by default).
    """
    problems: list[Problem] = []
    known = {q.name for q in form.questions()}
    unsafe: set[str] = set()
    for name, value in raw.items():
        # NUL and lone surrogates break every page that shows them later (issue 11): refused.
        bad = unsafe_in(name) or unsafe_in(value)
        if bad:
            unsafe.add(name)
            problems.append(Problem(name.encode("utf-8", "replace").decode(), bad))
        elif name not in known and not name.endswith("_other"):
            problems.append(Problem(name, say(language, "no such question in this questionnaire")))
    if unsafe:
        raw = {k: v for k, v in raw.items() if k not in unsafe}
    parents = form.enclosing_groups()
    answers: Answers = {}
    for question in form.evaluation_order:
        if not _relevant(question, parents[question.name], answers, today):
            continue
        problem = _check_question(form, question, raw, answers, language, today)
        if problem is not None:
            problems.append(problem)
    if problems:
        # Evaluation order is not reading order; pages list errors as the form shows them.
        position = {q.name: i for i, q in enumerate(form.questions())}
        problems.sort(key=lambda p: position.get(p.location.removesuffix("_other"), -1))
        raise InputError(problems)
    return answers


def text_problems(
    form: Form, answers: Mapping[str, Any], names: Collection[str], language: str = "zh_CN"
) -> list[Problem]:
    """What a draft must refuse even when only saved (the page's "back" and "save"): NUL, lone
    surrogates and text over its limit, which would break or swell every page that later shows
    the draft. The other checks wait for "next" and the submit."""
    questions = {q.name: q for q in form.questions()}
    problems = []
    for name in names:
        value = answers.get(name)
        bad = unsafe_in(value)
        if bad:
            problems.append(Problem(name, bad))
            continue
        question = questions.get(name)
        other = question is None
        question = question or questions.get(name.removesuffix("_other"))
        if question is None or not isinstance(value, str) or not (other or question.type == "text"):
            continue
        try:
            _check_length(value.strip(), text_limit(question, other=other))
        except AnswerError as exc:
            problems.append(Problem(name, say(language, exc.msgid, **exc.params)))
    return problems


def _relevant(
    question: Question, groups: tuple[Group, ...], answers: Answers, today: date | None
) -> bool:
    context = Context(answers, today=today)
    nodes: tuple[Question | Group, ...] = (*groups, question)
    return all(
        boolean(evaluate(compiled(node.relevant), context)) for node in nodes if node.relevant
    )


def _check_question(
    form: Form,
    question: Question,
    raw: Mapping[str, Any],
    answers: Answers,
    language: str,
    today: date | None,
) -> Problem | None:
    """Check one relevant question and add its answer to `answers`; return its problem if any."""
    if question.type == "calculate":
        result = evaluate(compiled(question.calculation or "''"), Context(answers, today=today))
        # NaN and infinities (an unanswered input, a division by zero) are stored as no value.
        if result != "" and not (isinstance(result, float) and not math.isfinite(result)):
            answers[question.name] = stored_value(result)
        return None
    if question.type not in _ANSWERED:
        return None
    value = raw.get(question.name)
    if question.read_only:
        # A read-only question shows its default; the respondent cannot change it.
        value = question.default
        if value is not None and question.type in ("select_multiple", "rank"):
            value = value.split()
    if _empty(value) or (question.has_choices and not _as_list(value)):
        if question.required:
            message = text_in(question.required_message, language, form.default_language)
            return Problem(question.name, message or say(language, "this question is required"))
        return None
    try:
        answer = normalise_value(form, question, value)
        _check_choice_filter(form, question, answer, answers, today)
    except AnswerError as exc:
        return Problem(question.name, say(language, exc.msgid, **exc.params))
    if question.constraint and not boolean(
        evaluate(compiled(question.constraint), Context(answers, current=answer, today=today))
    ):
        message = text_in(question.constraint_message, language, form.default_language)
        return Problem(question.name, message or say(language, "this answer is not allowed"))
    answers[question.name] = answer
    other_key = f"{question.name}_other"
    if question.or_other and "other" in _as_list(answer):
        other_value = raw.get(other_key)
        if other_value is not None and not isinstance(other_value, str):
            return Problem(
                other_key, say(language, "expected text, got %(value)r", value=other_value)
            )
        other = (other_value or "").strip()
        if not other:
            return Problem(other_key, say(language, "please specify 'other'"))
        try:
            _check_length(other, text_limit(question, other=True))
        except AnswerError as exc:
            return Problem(other_key, say(language, exc.msgid, **exc.params))
        answers[other_key] = other
    return None


_ANSWERED = frozenset(
    {"select_one", "select_multiple", "rank", "integer", "decimal", "range", "date", "text"}
    | {"acknowledge"}
)


def _check_choice_filter(
    form: Form, question: Question, answer: Any, answers: Answers, today: date | None
) -> None:
    if not question.choice_filter:
        return
    node = compiled(question.choice_filter)
    by_name: dict[str, list[Choice]] = {}
    for choice in form.choices_for(question):
        by_name.setdefault(choice.name, []).append(choice)
    chosen = answer if isinstance(answer, list) else [answer]
    for name in chosen:
        if name == "other":
            continue
        # With allow_choice_duplicates one name may appear in several rows; any that passes will do.
        if not any(
            boolean(evaluate(node, Context(answers, choice=_columns(c), today=today)))
            for c in by_name.get(name, [])
        ):
            raise AnswerError("%(value)r is not available given the earlier answers", value=name)


def _columns(choice: Choice) -> dict[str, str]:
    return {"name": choice.name, **choice.filters}


def choice_allowed(
    form: Form, question: Question, choice: Choice, answers: Mapping[str, Any]
) -> bool:
    """Whether `choice` passes the question's `choice_filter` for these answers (pages use it to
    list the options of a cascading select)."""
    if not question.choice_filter:
        return True
    value: Value = evaluate(
        compiled(question.choice_filter), Context(answers, choice=_columns(choice))
    )
    return boolean(value)
