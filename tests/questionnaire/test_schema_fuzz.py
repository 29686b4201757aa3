"""Fuzzing the questionnaire parser: any plain mapping is either a `Form` that round-trips and
whose logic can be walked, or an `InputError` whose every problem names its place (issue 11)."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from minsheng.errors import InputError
from minsheng.text import unwritable_text
from questionnaire.schema import form_to_dict, parse_form
from tests.mutations import EXAMPLE_CAMPAIGN, PLAIN, mutated

QUESTIONNAIRE = EXAMPLE_CAMPAIGN["questionnaire"]


@given(data=st.one_of(mutated(QUESTIONNAIRE), PLAIN))
@example(data={"settings": True, "survey": [{"type": "text", "name": "t"}]})
@example(data={"survey": [{"type": "text", "name": "t", "label": "\x1b", "hint": "\ud800"}]})
def test_any_mapping_is_a_form_or_an_input_error_naming_each_place(data):
    try:
        form = parse_form(data, "f.yaml")
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.location.startswith("f.yaml"), problem
            assert problem.message, problem
        return
    assert parse_form(form_to_dict(form), "again") == form
    assert unwritable_text(form_to_dict(form)) == []
    assert len(form.evaluation_order) == len(list(form.questions()))
    json.dumps(form.logic_json)


def test_groups_nested_ten_thousand_deep_are_refused_not_a_recursion_error():
    survey: dict = {"type": "text", "name": "leaf"}
    for level in range(10_000):
        survey = {"type": "group", "name": f"g{level}", "questions": [survey]}
    try:
        parse_form({"survey": [survey]}, "f.yaml")
    except InputError as exc:
        assert "groups are nested more than 20 levels deep" in str(exc)
    else:
        raise AssertionError("a 10,000-deep group nesting was accepted")


def test_a_chain_of_thousands_of_questions_each_reading_the_next_loads_and_orders():
    count = 2_000
    survey = [
        {"type": "calculate", "name": f"q{i}", "calculation": f"${{q{i + 1}}} + 1"}
        for i in range(count - 1)
    ] + [{"type": "integer", "name": f"q{count - 1}"}]
    form = parse_form({"survey": survey}, "f.yaml")
    order = [q.name for q in form.evaluation_order]
    assert order[0] == f"q{count - 1}" and order[-1] == "q0"


def test_a_cycle_through_thousands_of_questions_is_refused_naming_it():
    count = 2_000
    survey = [
        {"type": "calculate", "name": f"q{i}", "calculation": f"${{q{(i + 1) % count}}} + 1"}
        for i in range(count)
    ]
    try:
        parse_form({"survey": survey}, "f.yaml")
    except InputError as exc:
        assert "dependencies form a cycle: q0 -> q1 -> q2" in str(exc)
    else:
        raise AssertionError("a cycle was accepted")
