"""What a `Form` derives from its structure (dependency graph, evaluation order, logic for the
browser) is computed once per form and belongs to that form alone."""

from __future__ import annotations

import dataclasses
import itertools

from questionnaire.schema import Question, parse_form


def ordered_form(*names_reading_next: str):
    """A form whose questions each read the next one, so the evaluation order is reversed."""
    survey = [
        {"type": "integer", "name": name, "relevant": f"${{{after}}} > 0"}
        for name, after in itertools.pairwise(names_reading_next)
    ]
    survey.append({"type": "integer", "name": names_reading_next[-1]})
    return parse_form({"settings": {"form_id": "f"}, "survey": survey})


def test_derived_logic_is_computed_once_per_form():
    form = ordered_form("a", "b", "c")
    assert form.evaluation_order is form.evaluation_order
    assert form.logic_json is form.logic_json
    assert form.dependencies is form.dependencies
    assert [q.name for q in form.evaluation_order] == ["c", "b", "a"]


def test_two_questionnaires_never_share_derived_logic():
    # Same form_id and version: only the forms themselves tell them apart.
    first = ordered_form("a", "b", "c")
    second = ordered_form("x", "y")
    assert [q.name for q in first.evaluation_order] == ["c", "b", "a"]
    assert [q.name for q in second.evaluation_order] == ["y", "x"]
    assert first.logic_json["order"] == ["c", "b", "a"]
    assert second.logic_json["order"] == ["y", "x"]


def test_a_changed_copy_of_a_form_derives_from_its_own_tree():
    form = ordered_form("a", "b")
    assert [q.name for q in form.evaluation_order] == ["b", "a"]
    extra = Question(name="z", type="integer", relevant="${a} > 0")
    grown = dataclasses.replace(form, children=(*form.children, extra))
    assert [q.name for q in grown.evaluation_order] == ["b", "a", "z"]
    assert grown.dependencies["z"] == {"a"}
    assert "z" not in form.dependencies
    assert grown == grown and grown != form
