"""The expression language: parsing, errors with positions, XPath evaluation, and the browser's
evaluator agreeing with the server's on the same JSON AST."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from questionnaire.expressions import (
    Context,
    ExpressionError,
    evaluate,
    parse_expression,
    references,
    to_json,
)

JS = Path(__file__).parents[2] / "forms" / "static" / "forms" / "expressions.js"

ANSWERS = {
    "age": 34,
    "height": 1.75,
    "name": "  Li   Wei ",
    "district": "wuhou",
    "problems": ["parking", "congestion"],
    "score": "9",
    "empty": "",
    "born": "1990-05-01",
    "email": "li.wei@example-mail.cn",
    "zh": "交通出行",
}
TODAY = date(2026, 3, 15)

# (expression, value of ".", choice columns, expected value)
CASES: list[tuple[str, object, dict[str, str] | None, object]] = [
    ("${age} > 18", None, None, True),
    ("${age} >= 34 and ${age} < 35", None, None, True),
    ("${age} = '34'", None, None, True),
    ("${score} = 9", None, None, True),
    ("${score} > 10", None, None, False),
    ("${district} = 'wuhou'", None, None, True),
    ("${district} != 'wuhou' or ${age} = 34", None, None, True),
    ("${missing} = ''", None, None, True),
    ("${empty} > 3", None, None, False),
    ("${empty} < 3", None, None, False),
    ("${empty} + 1", None, None, math.nan),
    ("not(${empty})", None, None, True),
    ("selected(${problems}, 'parking')", None, None, True),
    ("selected(${problems}, 'safety')", None, None, False),
    ("count-selected(${problems})", None, None, 2.0),
    ("count-selected(${empty})", None, None, 0.0),
    ("string-length(${zh})", None, None, 4.0),
    ("string-length(.)", "abc", None, 3.0),
    ("${age} + 1 * 2", None, None, 36.0),
    ("(${age} + 1) * 2", None, None, 70.0),
    ("7 div 2", None, None, 3.5),
    ("7 mod 3", None, None, 1.0),
    ("-7 mod 3", None, None, -1.0),
    ("1 div 0", None, None, math.inf),
    ("0 div 0", None, None, math.nan),
    ("5 - -2", None, None, 7.0),
    ("if(${age} > 60, 'senior', 'adult')", None, None, "adult"),
    ("if(${empty} = '', 1, 1 div 0)", None, None, 1.0),
    (". >= today()", "2026-03-15", None, True),
    (". < today()", "2026-03-16", None, False),
    ("${born} < today()", None, None, True),
    ("today()", None, None, "2026-03-15"),
    ("regex(${email}, '^[\\w-\\.]+@([\\w-]+\\.)+[\\w-]{2,}$')", None, None, True),
    ("regex(., '^1[3-9][0-9]{9}$')", "13800138000", None, True),
    ("regex(., '^1[3-9][0-9]{9}$')", "12345", None, False),
    ("concat(${district}, '-', ${age})", None, None, "wuhou-34"),
    ("concat('h=', ${height})", None, None, "h=1.75"),
    ("normalize-space(${name})", None, None, "Li Wei"),
    ("contains(${email}, '@')", None, None, True),
    ("starts-with(${district}, 'wu')", None, None, True),
    ("round(15 div 7, 2)", None, None, 2.14),
    ("round(2.5)", None, None, 3.0),
    ("round(-2.5)", None, None, -2.0),
    ("int(-3.7)", None, None, -3.0),
    ("number('12.5') + 1", None, None, 13.5),
    ("number('abc')", None, None, math.nan),
    ("string(3.0)", None, None, "3"),
    ("coalesce(${empty}, 'n/a')", None, None, "n/a"),
    ("boolean('0')", None, None, True),
    ("true() and not(false())", None, None, True),
    ("${district} = cf", None, {"cf": "wuhou"}, True),
    ("${district} = cf", None, {"cf": "jinjiang"}, False),
    ("cf = ''", None, {}, True),
    ("区 = ${district}", None, {"区": "wuhou"}, True),
    ("\"double quoted\" = 'double quoted'", None, None, True),
    ("${age}>30and${age}<40", None, None, True),
]


def run(expression, current=None, choice=None):
    return evaluate(
        parse_expression(expression), Context(ANSWERS, current=current, choice=choice, today=TODAY)
    )


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b) or a == b
    return a == b and type(a) is type(b)


@pytest.mark.parametrize(("expression", "current", "choice", "expected"), CASES)
def test_expression_evaluates_with_xpath_rules(expression, current, choice, expected):
    assert same(run(expression, current, choice), expected)


def test_references_lists_the_questions_an_expression_reads():
    node = parse_expression("if(selected(${a}, 'x'), ${b} + 1, string-length(.)) > ${a}")
    assert references(node) == {"a", "b"}


@pytest.mark.parametrize(
    ("expression", "position", "fragment"),
    [
        ("${a} > ", 7, "ends too early"),
        ("(${a} + 1", 9, "expected `)`"),
        ("${a} = 'open", 7, "never closed"),
        ("foo(${a})", 0, "unknown function foo()"),
        ("selected(${a})", 0, "takes 2 argument(s), got 1"),
        ("${a} ${b}", 5, "after a complete expression"),
        ("${a} = ‘other’", 7, "unexpected character"),
        ("${current -> ${x}", 0, "not a question reference"),
        ("${a} # 2", 5, "unexpected character '#'"),
        ("", 0, "empty"),
    ],
)
def test_malformed_expression_names_the_character_position(expression, position, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(expression)
    assert caught.value.position == position
    assert fragment in caught.value.message
    assert f"at character {position + 1}" in str(caught.value)


def test_if_evaluates_only_the_branch_it_returns():
    # The untaken branch would divide by zero; XPath still gives the taken one.
    assert run("if(true(), 'ok', 1 div 0)") == "ok"


def test_json_ast_names_kind_operator_and_arguments():
    tree = to_json(parse_expression("${a} + 1"))
    assert tree == {
        "k": "bin",
        "p": 5,
        "o": "+",
        "a": [{"k": "ref", "p": 0, "v": "a"}, {"k": "lit", "p": 7, "v": 1.0}],
    }


def _js_value(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return {"special": str(value)}
    return value


def test_browser_evaluator_agrees_with_the_server_on_every_case(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the browser evaluator parity is checked where it is")
    cases = [
        {
            "ast": to_json(parse_expression(expression)),
            "current": current,
            "choice": choice,
        }
        for expression, current, choice, _ in CASES
    ]
    script = tmp_path / "run.js"
    script.write_text(
        f"const E = require({json.dumps(str(JS))});\n"
        "const data = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "const out = data.cases.map(c => {\n"
        "  const v = E.evaluate(c.ast, {answers: data.answers, current: c.current,\n"
        "                               choice: c.choice, today: data.today});\n"
        "  return (typeof v === 'number' && !isFinite(v)) ? {special: String(v)} : v;\n"
        "});\n"
        "process.stdout.write(JSON.stringify(out));\n",
        encoding="utf-8",
    )
    payload = json.dumps({"cases": cases, "answers": ANSWERS, "today": TODAY.isoformat()})
    result = subprocess.run(
        [node, str(script)], input=payload, capture_output=True, text=True, check=True, timeout=30
    )
    from_js = json.loads(result.stdout)
    special = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
    for (expression, current, choice, _), js in zip(CASES, from_js, strict=True):
        py = _js_value(run(expression, current, choice))
        if isinstance(py, dict):
            py = {"special": special[py["special"]]}
        if isinstance(py, float) and isinstance(js, int | float):
            assert js == pytest.approx(py), expression
        else:
            assert js == py, expression
