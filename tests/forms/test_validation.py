"""Checking answers with the form's logic: relevance hides and discards, required applies to
relevant questions only, constraints with their messages, choice filters, stored calculations."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from forms.validation import choice_allowed, validate_answers
from minsheng.errors import InputError
from questionnaire.schema import parse_form

FORM_CHOICES = {
    "district": [{"name": "wuhou", "label": "武侯"}, {"name": "jinjiang", "label": "锦江"}],
    "street": [
        {"name": "jiangxi", "label": "浆洗街", "district": "wuhou"},
        {"name": "chunxi", "label": "春熙路", "district": "jinjiang"},
    ],
}
FORM = parse_form(
    {
        "settings": {"form_id": "city", "default_language": "zh"},
        "choices": {
            **FORM_CHOICES,
            "yn": [{"name": "yes", "label": "是"}, {"name": "no", "label": "否"}],
            "mode": [{"name": "bus", "label": "公交"}, {"name": "metro", "label": "地铁"}],
        },
        "survey": [
            {"type": "select_one district", "name": "district", "required": True},
            {
                "type": "select_one street",
                "name": "street",
                "choice_filter": "district=${district}",
            },
            {"type": "select_one yn", "name": "drives", "required": True},
            {
                "type": "group",
                "name": "car",
                "relevant": "${drives} = 'yes'",
                "questions": [
                    {
                        "type": "integer",
                        "name": "cars",
                        "required": True,
                        "parameters": {"min": 1, "max": 9},
                    },
                    {
                        "type": "text",
                        "name": "plate",
                        "constraint": "regex(., '^川[A-Z]')",
                        "constraint_message": {"zh": "请输入四川车牌", "en": "A Sichuan plate"},
                    },
                ],
            },
            {"type": "integer", "name": "adults", "required": True},
            {
                "type": "integer",
                "name": "children",
                "constraint": ". <= ${adults} * 4",
                "required_message": {"en": "How many children?"},
            },
            {"type": "calculate", "name": "household", "calculation": "${adults} + ${children}"},
            {"type": "text", "name": "why_big", "relevant": "${household} > 5", "required": True},
            {"type": "date", "name": "moved", "constraint": ". <= today()"},
            {"type": "range", "name": "nps", "parameters": {"start": 0, "end": 10, "step": 1}},
            {
                "type": "select_multiple mode",
                "name": "modes",
                "constraint": "not(selected(., 'bus') and selected(., 'metro'))",
            },
        ],
    },
    "city.yaml",
)
BASE = {"district": "wuhou", "drives": "no", "adults": "2"}
TODAY = date(2026, 3, 15)


def check(**answers):
    return validate_answers(FORM, {**BASE, **answers}, "zh_CN", today=TODAY)


def problems(language="en", **answers):
    with pytest.raises(InputError) as caught:
        validate_answers(FORM, {**BASE, **answers}, language, today=TODAY)
    return caught.value.by_location()


def test_hidden_group_answers_are_discarded_and_not_required():
    stored = check(cars="3", plate="not a plate")
    assert "cars" not in stored and "plate" not in stored


def test_required_applies_once_the_group_is_relevant():
    assert problems(drives="yes") == {"cars": ["this question is required"]}


def test_constraint_message_in_the_respondents_language():
    assert problems("zh_CN", drives="yes", cars="1", plate="京A123") == {
        "plate": ["请输入四川车牌"]
    }
    found = problems("en", drives="yes", cars="1", plate="京A123")
    assert found == {"plate": ["A Sichuan plate"]}


def test_constraint_reads_other_answers_and_has_a_default_message():
    assert problems(children="9") == {"children": ["this answer is not allowed"]}


def test_calculation_is_stored_and_drives_relevance():
    stored = check(children="1")
    assert stored["household"] == 3
    assert "why_big" not in stored
    assert problems(adults="3", children="3") == {"why_big": ["this question is required"]}
    assert check(adults="3", children="3", why_big="三代同堂")["household"] == 6


def test_choice_excluded_by_the_filter_is_refused():
    assert check(street="jiangxi")["street"] == "jiangxi"
    assert problems(street="chunxi") == {
        "street": ["'chunxi' is not available given the earlier answers"]
    }


def test_choice_allowed_lists_the_options_of_a_cascading_select():
    street = FORM.question("street")
    names = [
        c.name
        for c in FORM.choices_for(street)
        if choice_allowed(FORM, street, c, {"district": "jinjiang"})
    ]
    assert names == ["chunxi"]


def test_today_in_a_constraint_uses_the_given_date():
    assert check(moved="2026-03-15")["moved"] == "2026-03-15"
    assert problems(moved="2026-03-16") == {"moved": ["this answer is not allowed"]}


def test_nps_range_accepts_whole_steps_from_0_to_10():
    assert check(nps="0")["nps"] == 0
    assert check(nps="10")["nps"] == 10
    assert problems(nps="11") == {"nps": ["must be at most 10"]}
    assert problems(nps="7.5") == {"nps": ["must be 0 plus a multiple of 1"]}


def test_multiple_choice_constraint_with_selected():
    assert check(modes=["bus"])["modes"] == ["bus"]
    assert problems(modes=["bus", "metro"]) == {"modes": ["this answer is not allowed"]}


def test_every_problem_is_reported_at_once():
    found = problems(district="", drives="yes", cars="0", children="99")
    assert set(found) == {"district", "cars", "children"}


JS = Path(__file__).parents[2] / "forms" / "static" / "forms" / "expressions.js"
ANSWER_SETS = [
    {"children": "1"},
    {"drives": "yes", "cars": "2", "plate": "川A12345", "street": "jiangxi"},
    {"adults": "3", "children": "3", "why_big": "三代同堂", "district": "jinjiang"},
    {"drives": "no", "cars": "3", "plate": "hidden", "modes": ["metro"], "nps": "9"},
]


def test_browser_state_shows_the_questions_the_server_keeps(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the browser evaluator parity is checked where it is")
    script = tmp_path / "state.js"
    script.write_text(
        f"const E = require({json.dumps(str(JS))});\n"
        "const d = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "process.stdout.write(JSON.stringify(d.sets.map(s => E.state(d.logic, s, d.today))));\n",
        encoding="utf-8",
    )
    sets = [{**BASE, **s} for s in ANSWER_SETS]
    payload = {"logic": FORM.logic_json, "sets": sets, "today": TODAY.isoformat()}
    result = subprocess.run(
        [node, str(script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    for raw, browser in zip(sets, json.loads(result.stdout), strict=True):
        stored = validate_answers(FORM, raw, today=TODAY)
        assert set(browser["answers"]) == set(stored), raw
        assert browser["answers"].get("household") == stored.get("household")
        assert browser["groups"]["car"] == (raw["drives"] == "yes")
        allowed = {"wuhou": ["jiangxi"], "jinjiang": ["chunxi"]}[raw["district"]]
        assert browser["choices"]["street"] == allowed


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"adults": "two"}, "expected a whole number, got 'two'"),
        ({"adults": "2.5"}, "expected a whole number, got '2.5'"),
        ({"adults": "nan"}, "expected a whole number, got 'nan'"),
        ({"nps": "inf"}, "expected a number, got 'inf'"),
        ({"moved": "15/03/2026"}, "expected a date written YYYY-MM-DD, got '15/03/2026'"),
    ],
)
def test_badly_typed_answers_say_what_is_expected(answers, message):
    location = next(iter(answers))
    assert problems(**answers)[location] == [message]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"adults": "two"}, "请填写整数（收到 'two'）"),
        ({"moved": "15/03/2026"}, "请按“年-月-日”（YYYY-MM-DD）填写日期（收到 '15/03/2026'）"),
        ({"drives": "yes"}, "此题为必答题"),
    ],
)
def test_problems_are_said_in_the_respondents_language(answers, message):
    location = "cars" if "drives" in answers else next(iter(answers))
    assert problems("zh_CN", **answers)[location] == [message]


def test_a_language_without_a_catalog_gets_english():
    assert problems("fr", adults="two")["adults"] == ["expected a whole number, got 'two'"]


def test_problems_are_listed_in_the_order_the_form_shows_them():
    # `street` reads `district`, which comes later, so it is checked after `district`.
    form = parse_form(
        {
            "choices": FORM_CHOICES,
            "survey": [
                {
                    "type": "select_one street",
                    "name": "street",
                    "choice_filter": "district=${district}",
                },
                {
                    "type": "select_one district",
                    "name": "district",
                    "constraint": ". != 'jinjiang'",
                },
            ],
        }
    )
    with pytest.raises(InputError) as caught:
        validate_answers(form, {"street": "chunxi", "district": "jinjiang"})
    assert [p.location for p in caught.value.problems] == ["street", "district"]
