"""Fuzzing the expression language: any text is either a tree whose evaluation gives a value for
any answers, or an `ExpressionError`; nothing else, and never a RecursionError (issue 11)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minsheng.errors import InputError
from questionnaire.expressions import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_NESTING,
    Context,
    ExpressionError,
    evaluate,
    parse_expression,
    references,
    to_json,
)
from questionnaire.schema import parse_form

OPERATORS = ["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]
# Whole operands, some of them hostile: a broken regex() pattern, a huge number of digits.
ATOMS = st.sampled_from(
    [
        "${a}",
        "${b}",
        "${m}",
        ".",
        "'x'",
        "'2026-01-01'",
        '"9"',
        "1",
        "0",
        "3.5",
        ".5",
        "name",
        "today()",
        "true()",
        "false()",
        "'[a-'",
        "'(a)+$'",
        "'\\w-.'",
        "1e5",
        "400",
        "'NaN'",
    ]
)
# Pieces of the language in any order, so the tokenizer and the parser meet broken text too.
PIECES = st.sampled_from(
    [*OPERATORS, *FUNCTIONS, "(", ")", ",", "${a}", "${", "}", "'", '"', ".", "1", " ", "-"]
)
ANSWER = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=4),
    st.sampled_from(["2026-03-15", "1e308", "-0", "  7 ", "NaN"]),
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.lists(inner, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        inner.map(lambda e: f"-{e}"),
    )


GRAMMATICAL = st.recursive(ATOMS, _compound, max_leaves=40)
EXPRESSIONS = st.one_of(GRAMMATICAL, st.lists(PIECES, max_size=40).map(" ".join), st.text())


def _parsed_or_refused(text: str):
    try:
        return parse_expression(text)
    except ExpressionError as exc:
        assert exc.message and 0 <= exc.position <= max(len(text), MAX_EXPRESSION_LENGTH)
        return None


@given(
    text=EXPRESSIONS,
    answers=st.dictionaries(st.sampled_from(["a", "b", "m"]), ANSWER),
    current=ANSWER,
    choice=st.dictionaries(st.just("name"), st.text(max_size=5)),
)
@example(text="round(${a}, 400)", answers={"a": 1e300}, current=None, choice={})
@example(text="round(1, 'x')", answers={}, current=None, choice={})
@example(text="regex(${a}, ${b})", answers={"a": "x", "b": "(" * 5000}, current=None, choice={})
@example(text="regex(., 'a{99999999999}')", answers={}, current="a", choice={})
def test_any_text_is_a_tree_that_evaluates_to_a_value_or_an_expression_error(
    text, answers, current, choice
):
    node = _parsed_or_refused(text)
    if node is None:
        return
    value = evaluate(node, Context(answers=answers, current=current, choice=choice))
    assert isinstance(value, str | float | bool)
    assert references(node) <= {"a", "b", "m"}
    json.dumps(to_json(node))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(" * 10_000 + "1" + ")" * 10_000, "at most 10,000 are allowed"),
        ("1" + " + 1" * 100_000, "at most 10,000 are allowed"),
        ("not(" * 10_000 + "true()" + ")" * 10_000, "at most 10,000 are allowed"),
        ("(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1), "nested more than 32 levels"),
        ("-" * (MAX_NESTING + 1) + "1", "nested more than 32 levels"),
        ("1" + "+1" * 4_000, f"more than {MAX_DEPTH} operations are nested or chained"),
        (" or ".join(["${a} = 1"] * 300), f"more than {MAX_DEPTH} operations"),
    ],
)
def test_deep_nesting_and_long_chains_are_refused_with_a_message(text, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert fragment in caught.value.message


def test_the_deepest_accepted_expression_evaluates_inside_a_deep_stack():
    # As deep as the limits allow, evaluated 300 frames down (a request, a page render).
    nested = "(" * (MAX_NESTING - 1) + "1" + ")" * (MAX_NESTING - 1)
    text = nested + " + 1" * (MAX_DEPTH - 1)
    node = parse_expression(text)

    def deep(level: int) -> object:
        return deep(level - 1) if level else evaluate(node, Context(answers={}))

    assert deep(300) == float(MAX_DEPTH)


@pytest.mark.parametrize(
    "expression",
    ["(" * 10_000 + "${age} > 1" + ")" * 10_000, "${age}" + " + 1" * 100_000],
)
def test_a_questionnaire_with_a_hostile_expression_is_refused_at_load_naming_the_question(
    expression,
):
    data = {
        "survey": [
            {"type": "integer", "name": "age"},
            {"type": "text", "name": "why", "relevant": expression},
        ]
    }
    with pytest.raises(InputError) as caught:
        parse_form(data, "f.yaml")
    (problem,) = caught.value.problems
    assert problem.location == "f.yaml: question `why`: relevant"
    assert "at most 10,000 are allowed" in problem.message
    assert len(problem.message) < 400, "the message quotes the expression cut short"


def test_a_regex_pattern_nested_too_deeply_is_refused_at_load():
    pattern = "(" * 4_000 + ")" * 4_000
    data = {"survey": [{"type": "text", "name": "t", "constraint": f"regex(., '{pattern}')"}]}
    with pytest.raises(InputError) as caught:
        parse_form(data, "f.yaml")
    assert "groups nested too deeply" in str(caught.value)


def test_round_with_extreme_digits_gives_a_number_not_an_error():
    context = Context(answers={"a": 1e300})
    assert evaluate(parse_expression("round(${a}, 400)"), context) == 1e300
    assert evaluate(parse_expression("round(123.456, -400)"), context) == 0.0
    assert math.isnan(evaluate(parse_expression("round(1, 'x')"), context))  # type: ignore[arg-type]
