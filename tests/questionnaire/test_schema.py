"""The questionnaire definition: every question type, parameters, matrices, and the logic checks
that run when a form is loaded (unknown references, cycles, positions)."""

from __future__ import annotations

import pytest

from minsheng.errors import InputError
from questionnaire.schema import choice_order, form_to_dict, parse_form, text_in

LIKERT = [{"name": str(i), "label": {"zh": f"{i}分", "en": str(i)}} for i in range(1, 6)]


def form_data(*survey, choices=None, settings=None):
    return {
        "settings": {"form_id": "f", "default_language": "zh", **(settings or {})},
        "choices": {"likert": LIKERT, "yn": [{"name": "yes"}, {"name": "no"}], **(choices or {})},
        "survey": list(survey),
    }


def problems(data):
    with pytest.raises(InputError) as caught:
        parse_form(data, "f.yaml")
    return [str(p) for p in caught.value.problems]


EVERY_TYPE = form_data(
    {"type": "note", "name": "intro", "label": "您好"},
    {"type": "select_one yn", "name": "single", "label": "是否"},
    {
        "type": "select_multiple likert",
        "name": "multi",
        "parameters": {"min_selections": 1, "max_selections": 2},
    },
    {"type": "select_one likert", "name": "dropdown", "appearance": "minimal"},
    {"type": "select_one likert", "name": "rating", "appearance": "likert"},
    {"type": "range", "name": "nps", "parameters": {"start": 0, "end": 10, "step": 1}},
    {
        "type": "group",
        "name": "grid",
        "appearance": "table-list",
        "questions": [
            {"type": "select_one likert", "name": "row_bus"},
            {"type": "select_one likert", "name": "row_metro"},
        ],
    },
    {"type": "rank likert", "name": "ranking"},
    {"type": "integer", "name": "age", "parameters": {"min": 0, "max": 120}},
    {"type": "decimal", "name": "km"},
    {"type": "text", "name": "short"},
    {"type": "text", "name": "long", "appearance": "multiline", "parameters": {"max_length": 500}},
    {"type": "date", "name": "when"},
    {"type": "select_one yn or_other", "name": "other_q"},
    {"type": "acknowledge", "name": "consent"},
    {"type": "calculate", "name": "twice", "calculation": "${age} * 2"},
    {"type": "start", "name": "started"},
)


def test_every_question_type_parses_and_round_trips_through_the_plain_mapping():
    form = parse_form(EVERY_TYPE, "f.yaml")
    assert [q.type for q in form.questions()][:6] == [
        "note",
        "select_one",
        "select_multiple",
        "select_one",
        "select_one",
        "range",
    ]
    assert form.question("nps").parameters == {"start": "0", "end": "10", "step": "1"}
    assert form.question("other_q").or_other
    assert parse_form(form_to_dict(form), "again") == form


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        (
            {"type": "text", "name": "t", "parameters": {"colour": "red"}},
            "unknown parameter `colour` for type text; expected max_length",
        ),
        (
            {"type": "integer", "name": "n", "parameters": {"min": "ten"}},
            "`min` must be a number, got 'ten'",
        ),
        (
            {"type": "range", "name": "r", "parameters": {"step": 0}},
            "`step` must be greater than 0",
        ),
        ({"type": "calculate", "name": "c"}, "type calculate needs a `calculation`"),
        ({"type": "integer", "name": "n", "calculation": "1"}, "`calculation` is only for type"),
        (
            {"type": "text", "name": "t", "required": "${x} = 1"},
            "required: got '${x} = 1'; expected yes or no",
        ),
    ],
)
def test_bad_parameters_and_fields_are_refused_naming_the_question(question, fragment):
    found = problems(form_data(question))
    assert any(f"question `{question['name']}`" in p and fragment in p for p in found), found


def test_unknown_reference_names_question_field_and_position():
    found = problems(
        form_data(
            {"type": "integer", "name": "age"},
            {"type": "text", "name": "why", "relevant": "${age} > 60 and ${agee} < 90"},
        )
    )
    assert found == [
        "f.yaml: question `why`: relevant: `${agee}` at character 17 of "
        "'${age} > 60 and ${agee} < 90' refers to no question"
    ]


def test_syntax_error_names_question_field_and_position():
    found = problems(form_data({"type": "integer", "name": "n", "constraint": ". > 3 and"}))
    assert found == [
        "f.yaml: question `n`: constraint: the expression ends too early at character 10 of "
        "'. > 3 and'"
    ]


def test_relevance_and_calculation_cycles_are_refused():
    found = problems(
        form_data(
            {"type": "integer", "name": "a", "relevant": "${c} > 1"},
            {"type": "calculate", "name": "b", "calculation": "${a} + 1"},
            {"type": "calculate", "name": "c", "calculation": "${b} * 2"},
        )
    )
    assert found == [
        "f.yaml: survey: relevant/calculation/choice_filter dependencies form a cycle: "
        "a -> c -> b -> a; no order of questions can satisfy it"
    ]


def test_a_question_relevant_on_itself_is_a_cycle():
    found = problems(form_data({"type": "integer", "name": "a", "relevant": "${a} > 1"}))
    assert "a -> a" in found[0]


def test_constraint_may_read_later_questions_without_a_cycle():
    form = parse_form(
        form_data(
            {"type": "integer", "name": "low", "constraint": ". < ${high}"},
            {"type": "integer", "name": "high", "constraint": ". > ${low}"},
        )
    )
    assert [q.name for q in form.evaluation_order] == ["low", "high"]


def test_evaluation_order_puts_what_an_expression_reads_first():
    form = parse_form(
        form_data(
            {"type": "text", "name": "late", "relevant": "${total} > 3"},
            {"type": "calculate", "name": "total", "calculation": "${n} + 1"},
            {"type": "integer", "name": "n"},
        )
    )
    assert [q.name for q in form.evaluation_order] == ["n", "total", "late"]


def test_dot_and_bare_words_are_refused_where_they_mean_nothing():
    found = problems(
        form_data(
            {"type": "select_one yn", "name": "a", "relevant": ". = 'yes'"},
            {"type": "select_one yn", "name": "b", "relevant": "${a} = yes"},
            {"type": "select_one yn", "name": "c", "choice_filter": "region = ${a}"},
        )
    )
    assert any("question `a`: relevant: `.` (this question's answer)" in p for p in found)
    assert any("question `b`: relevant: bare word `yes` at character 8" in p for p in found)
    assert any(
        "question `c`: choice_filter: `region` at character 1" in p
        and "not a column of choice list 'yn'" in p
        for p in found
    )


def test_references_in_labels_must_name_questions():
    found = problems(form_data({"type": "note", "name": "n", "label": "您选了 ${mode}"}))
    assert found == ["f.yaml: question `n`: label: `${mode}` in the text refers to no question"]


def test_invalid_regex_pattern_is_refused_at_load():
    found = problems(form_data({"type": "text", "name": "t", "constraint": "regex(., '[a-')"}))
    assert "the pattern of regex() at character 1" in found[0]


def test_matrix_rows_must_share_one_choice_list():
    found = problems(
        form_data(
            {
                "type": "group",
                "name": "grid",
                "appearance": "table-list",
                "questions": [
                    {"type": "select_one likert", "name": "r1"},
                    {"type": "select_one yn", "name": "r2"},
                    {"type": "integer", "name": "r3"},
                ],
            }
        )
    )
    assert any(
        "group `grid`: the rows of a matrix share one choice list; found likert, yn" in p
        for p in found
    )
    assert any("question `r3`: a matrix row must be a choice question" in p for p in found)


def test_duplicate_choice_names_need_the_allow_setting():
    towns = {"town": [{"name": "king", "cf": "wa"}, {"name": "king", "cf": "tx"}]}
    survey = {"type": "select_one town", "name": "town"}
    assert any(
        "duplicate choice name 'king'" in p for p in problems(form_data(survey, choices=towns))
    )
    form = parse_form(form_data(survey, choices=towns, settings={"allow_choice_duplicates": "yes"}))
    assert len(form.choices["town"]) == 2


def test_randomized_choice_order_is_reproducible_per_respondent():
    form = parse_form(
        form_data(
            {"type": "select_one likert", "name": "r", "parameters": {"randomize": "true"}},
            {"type": "select_one likert", "name": "fixed"},
        )
    )
    question = form.question("r")
    first = [c.name for c in form.ordered_choices(question, "submission-1")]
    assert first == [c.name for c in choice_order(question, "submission-1", form.choices["likert"])]
    orders = {tuple(c.name for c in form.ordered_choices(question, f"s{i}")) for i in range(30)}
    assert len(orders) > 5
    assert all(sorted(o) == ["1", "2", "3", "4", "5"] for o in orders)
    fixed = form.question("fixed")
    assert [c.name for c in form.ordered_choices(fixed, "s1")] == ["1", "2", "3", "4", "5"]


def test_text_in_matches_language_codes_written_as_xlsform_names():
    label = {"English (en)": "Hello", "Chinese (zh)": "你好"}
    assert text_in(label, "zh_CN", "en") == "你好"
    assert text_in(label, "en", "zh") == "Hello"
    assert text_in(label, "fr", "English (en)") == "Hello"
    assert text_in({"zh": "你好"}, "en", "de") == "你好"


def test_yaml_may_spell_languages_as_xlsform_columns():
    form = parse_form(
        form_data(
            {
                "type": "text",
                "name": "t",
                "label": "您好",
                "label::en": "Hello",
                "hint::en": "Say hi",
            }
        )
    )
    question = form.question("t")
    assert question.label == {"zh": "您好", "en": "Hello"}
    assert question.hint == {"en": "Say hi"}


def test_groups_carry_a_hint_in_every_language():
    data = form_data(
        {
            "type": "group",
            "name": "g",
            "label": "出行",
            "hint": {"zh": "请根据最近一周回答", "en": "Think of the last week"},
            "questions": [{"type": "integer", "name": "trips"}],
        }
    )
    form = parse_form(data)
    group = form.pages()[0][0]
    assert group is not None and group.hint["en"] == "Think of the last week"
    assert parse_form(form_to_dict(form)) == form
