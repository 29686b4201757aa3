"""The XLSForm expression language (the XPath subset forms use) for `relevant`, `constraint`,
`choice_filter` and `calculation`: tokenizer, recursive-descent parser to an AST, evaluation.

Nothing here calls `eval`. `to_json()` gives the AST to `forms/static/forms/expressions.js`, which
evaluates it in the browser with the same rules; the server's evaluation is authoritative.

Value rules (XPath 1.0, as ODK Collect applies them): an unanswered question is the empty string;
a multiple choice answer is its choice names joined by spaces; `=` and `!=` compare as numbers when
either side is a number, else as text; `<`, `<=`, `>`, `>=` compare as numbers, except that two
ISO dates (`YYYY-MM-DD`, e.g. `today()`) compare as dates; arithmetic on text that is not a number
gives NaN, and every comparison with NaN is false.

Size limits (`MAX_EXPRESSION_LENGTH`, `MAX_NESTING`, `MAX_DEPTH`) keep every walk of an accepted
tree (parsing, checking, evaluation here and in the browser) far from the recursion limit: a
10,000-deep nesting or a 100,000-long chain is refused at load with a message, never a
RecursionError (issue 11).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

Value = str | float | bool

# The longest expression in a real XLSForm is a few hundred characters; a form designer who needs
# more writes a `calculate` question and refers to it.
MAX_EXPRESSION_LENGTH = 10_000
# Parentheses, function calls and minus signs inside each other: each costs the recursive-descent
# parser about ten stack frames.
MAX_NESTING = 32
# The height of the tree: a chain `a or b or c ...` is one level per operator. Evaluation costs
# two frames per operator and three per call (at most MAX_NESTING of them), so 200 levels stay
# well below Python's limit of 1,000 frames even inside a request.
MAX_DEPTH = 200


class ExpressionError(ValueError):
    """A malformed expression; `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__(f"at character {position + 1}: {message}")


@dataclass(frozen=True)
class Node:
    """One AST node: `kind` is lit, ref (`${q}`), cur (`.`), name (a bare name), neg, bin, call."""

    kind: str
    position: int
    value: Value = ""
    op: str = ""
    args: tuple[Node, ...] = field(default_factory=tuple)
    # Levels of nodes from here to the deepest leaf, 1 for a leaf (checked against MAX_DEPTH).
    height: int = field(default=1, compare=False, repr=False)


# Function name -> (minimum, maximum) number of arguments; -1 means any number.
FUNCTIONS: dict[str, tuple[int, int]] = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "string-length": (1, 1),
    "if": (3, 3),
    "today": (0, 0),
    "regex": (2, 2),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "concat": (1, -1),
    "normalize-space": (1, 1),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "number": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
    "string": (1, 1),
    "boolean": (1, 1),
    "coalesce": (2, 2),
}
_BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("or",),
    ("and",),
    ("=", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "div", "mod"),
)
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<ref>\$\{(?P<refname>[^}]*)\})
    |(?P<number>\d+(?:\.\d*)?|\.\d+)
    |(?P<string>'[^']*'|"[^"]*")
    |(?P<op><=|>=|!=|[=<>+\-*(),])
    |(?P<dot>\.(?![\w]))
    |(?P<word>[^\W\d][\w.\-:]*)
    """,
    re.VERBOSE,
)
_REF_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"":
                raise ExpressionError(f"text starting with {text[pos]} is never closed", pos)
            if text.startswith("${", pos):
                raise ExpressionError("`${` without a closing `}`", pos)
            raise ExpressionError(f"unexpected character {text[pos]!r}", pos)
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        if kind == "ref":
            name = match.group("refname")
            if not _REF_NAME.match(name):
                raise ExpressionError(f"{match.group(0)!r} is not a question reference", pos)
            tokens.append(_Token("ref", name, pos))
        elif kind != "space":
            tokens.append(_Token(kind, match.group(0), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.nesting = 0

    def enter(self, token: _Token) -> None:
        """One level deeper into parentheses, a call's arguments or a minus sign."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExpressionError(
                f"parentheses, function calls and minus signs are nested more than "
                f"{MAX_NESTING} levels deep; compute a part in a calculate question",
                token.position,
            )

    def node(self, kind: str, token: _Token, **fields: Any) -> Node:
        args: tuple[Node, ...] = fields.get("args", ())
        height = 1 + max((arg.height for arg in args), default=0)
        if height > MAX_DEPTH:
            raise ExpressionError(
                f"more than {MAX_DEPTH} operations are nested or chained here (each `and`, "
                "`or`, `+` ... in a row counts one); compute a part in a calculate question",
                token.position,
            )
        return Node(kind, token.position, height=height, **fields)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_op(self, token: _Token, ops: tuple[str, ...]) -> bool:
        # `and`, `or`, `div`, `mod` are words in the token stream but operators in this position.
        return (token.kind == "op" or token.kind == "word") and token.text in ops

    def expression(self, level: int = 0) -> Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.expression(level + 1)
        while self.is_op(self.peek(), _BINARY_LEVELS[level]):
            op = self.take()
            right = self.expression(level + 1)
            left = self.node("bin", op, op=op.text, args=(left, right))
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.take()
            self.enter(token)
            inner = self.unary()
            self.nesting -= 1
            return self.node("neg", token, args=(inner,))
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Node("lit", token.position, value=float(token.text))
        if token.kind == "string":
            return Node("lit", token.position, value=token.text[1:-1])
        if token.kind == "ref":
            return Node("ref", token.position, value=token.text)
        if token.kind == "dot":
            return Node("cur", token.position)
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            inner = self.expression()
            self.expect(")", "`)` to close the `(`", token.position)
            self.nesting -= 1
            return inner
        if token.kind == "word":
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call(token)
            return Node("name", token.position, value=token.text)
        if token.kind == "end":
            raise ExpressionError("the expression ends too early", token.position)
        raise ExpressionError(f"unexpected {token.text!r}", token.position)

    def call(self, name: _Token) -> Node:
        if name.text not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {name.text}(); supported: {', '.join(sorted(FUNCTIONS))}",
                name.position,
            )
        self.enter(self.take())
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.expression())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                args.append(self.expression())
        self.expect(")", f"`)` to close {name.text}(", name.position)
        self.nesting -= 1
        low, high = FUNCTIONS[name.text]
        if len(args) < low or (high >= 0 and len(args) > high):
            wanted = str(low) if low == high else f"{low} to {high}" if high >= 0 else f"{low}+"
            raise ExpressionError(
                f"{name.text}() takes {wanted} argument(s), got {len(args)}", name.position
            )
        return self.node("call", name, value=name.text, args=tuple(args))

    def expect(self, text: str, what: str, opened_at: int) -> None:
        token = self.peek()
        if token.kind == "op" and token.text == text:
            self.take()
            return
        found = "the end" if token.kind == "end" else repr(token.text)
        raise ExpressionError(
            f"expected {what} (opened at character {opened_at + 1}), found {found}",
            token.position,
        )


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Node:
    """The AST of `text`, or `ExpressionError` with the character position of the problem
    (also for an expression over the size limits: see the module docstring)."""
    if not text.strip():
        raise ExpressionError("the expression is empty", 0)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text):,} characters long; at most "
            f"{MAX_EXPRESSION_LENGTH:,} are allowed (compute parts in calculate questions)",
            MAX_EXPRESSION_LENGTH,
        )
    parser = _Parser(text)
    node = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        raise ExpressionError(
            f"unexpected {token.text!r} after a complete expression", token.position
        )
    return node


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents first."""
    yield node
    for arg in node.args:
        yield from walk(arg)


def references(node: Node) -> set[str]:
    """The question names the expression reads through `${name}`."""
    return {str(n.value) for n in walk(node) if n.kind == "ref"}


def to_json(node: Node) -> dict[str, Any]:
    """The AST as plain JSON for the browser: `{"k": kind, "p": position, ...}`; `v` holds a
    literal, a reference or a function name, `o` an operator, `a` the arguments."""
    out: dict[str, Any] = {"k": node.kind, "p": node.position}
    if node.kind in ("lit", "ref", "name", "call"):
        out["v"] = node.value
    if node.op:
        out["o"] = node.op
    if node.args:
        out["a"] = [to_json(arg) for arg in node.args]
    return out


@dataclass(frozen=True)
class Context:
    """What an expression sees: the answers so far, the value of `.`, the choice whose extra
    columns bare names read (choice_filter), and the date `today()` returns."""

    answers: Mapping[str, Any]
    current: Any = None
    choice: Mapping[str, str] | None = None
    today: date | None = None


def value_of(answer: Any) -> Value:
    """A stored answer as an expression value: lists join with spaces, numbers become floats."""
    if answer is None:
        return ""
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int | float):
        return float(answer)
    if isinstance(answer, list | tuple):
        return " ".join(str(v) for v in answer)
    return str(answer)


def number(value: Value) -> float:
    """XPath `number()`: text that is not a number gives NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = value.strip()
    if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", text):
        return math.nan
    return float(text)


def boolean(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return value != ""


def string(value: Value) -> str:
    """XPath `string()`: whole numbers print without a decimal point, NaN as "NaN"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def evaluate(node: Node, context: Context) -> Value:
    """The value of the expression for these answers (see the module docstring for the rules)."""
    kind = node.kind
    if kind == "lit":
        return node.value
    if kind == "ref":
        return value_of(context.answers.get(str(node.value)))
    if kind == "cur":
        return value_of(context.current)
    if kind == "name":
        return (context.choice or {}).get(str(node.value), "")
    if kind == "neg":
        return -number(evaluate(node.args[0], context))
    if kind == "bin":
        return _binary(node, context)
    thunks: list[Thunk] = [_thunk(arg, context) for arg in node.args]
    return _CALLS[str(node.value)](thunks, context)


def _thunk(node: Node, context: Context) -> Thunk:
    # Arguments are evaluated lazily, so if() only evaluates the branch it returns.
    return lambda: evaluate(node, context)


def _binary(node: Node, context: Context) -> Value:
    op = node.op
    left = evaluate(node.args[0], context)
    if op == "or":
        return boolean(left) or boolean(evaluate(node.args[1], context))
    if op == "and":
        return boolean(left) and boolean(evaluate(node.args[1], context))
    right = evaluate(node.args[1], context)
    if op in ("=", "!="):
        return _equal(left, right) == (op == "=")
    if op in ("<", "<=", ">", ">="):
        return _compare(op, left, right)
    a, b = number(left), number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
        return a / b
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return math.nan
    return math.fmod(a, b)


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return boolean(left) == boolean(right)
    if isinstance(left, float) or isinstance(right, float):
        return number(left) == number(right)
    return left == right


def _compare(op: str, left: Value, right: Value) -> bool:
    if (
        isinstance(left, str)
        and isinstance(right, str)
        and _ISO_DATE.match(left)
        and _ISO_DATE.match(right)
    ):
        a: Any = left
        b: Any = right
    else:
        a, b = number(left), number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


Thunk = Callable[[], Value]


def _round(args: Sequence[Thunk], _context: Context) -> Value:
    # XPath rounds halves up (towards +infinity); ODK adds the optional number of digits.
    x = number(args[0]())
    digits = number(args[1]()) if len(args) > 1 else 0.0
    if math.isnan(digits):
        return math.nan
    if math.isnan(x) or math.isinf(x):
        return x
    # A float holds about 17 significant digits and 10**±308 at most: more digits change
    # nothing, and the clamp keeps `10.0 ** digits` finite and non-zero.
    scale = 10.0 ** max(-300, min(300, int(max(-300.0, min(300.0, digits)))))
    scaled = x * scale
    if math.isinf(scaled):
        return x
    return math.floor(scaled + 0.5) / scale


def _int(args: Sequence[Thunk], _context: Context) -> Value:
    x = number(args[0]())
    return x if math.isnan(x) or math.isinf(x) else float(math.trunc(x))


def _today(_args: Sequence[Thunk], context: Context) -> Value:
    return (context.today or date.today()).isoformat()


_CLASS_ESCAPE_DASH = re.compile(r"(\\[wdsWDS])-|(?<!\\)-(?=\\[wdsWDS])")


def portable_pattern(pattern: str) -> str:
    r"""A `regex()` pattern as Python reads it the way ODK's Java and the browser do: a `-` next
    to a class escape such as `[\w-.]` is a literal dash (Python would call it a bad range)."""
    return _CLASS_ESCAPE_DASH.sub(lambda m: (m.group(1) or "") + "\\-", pattern)


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` can not be a `regex()` pattern, or None (checked at load for literals)."""
    try:
        re.compile(portable_pattern(pattern))
    except re.error as exc:
        return str(exc)
    except (RecursionError, OverflowError):
        # Python's own regex parser recurses per group and refuses huge repetition counts.
        return "groups nested too deeply or a repetition count too large"
    return None


def _regex(args: Sequence[Thunk], _context: Context) -> Value:
    try:
        return re.search(portable_pattern(string(args[1]())), string(args[0]())) is not None
    except (re.error, RecursionError, OverflowError):
        return False


_CALLS: dict[str, Callable[[Sequence[Thunk], Context], Value]] = {
    "selected": lambda a, c: string(a[1]()).strip() in string(a[0]()).split(),
    "count-selected": lambda a, c: float(len(string(a[0]()).split())),
    "string-length": lambda a, c: float(len(string(a[0]()))),
    "if": lambda a, c: a[1]() if boolean(a[0]()) else a[2](),
    "today": _today,
    "regex": _regex,
    "not": lambda a, c: not boolean(a[0]()),
    "true": lambda a, c: True,
    "false": lambda a, c: False,
    "concat": lambda a, c: "".join(string(t()) for t in a),
    "normalize-space": lambda a, c: " ".join(string(a[0]()).split()),
    "contains": lambda a, c: string(a[1]()) in string(a[0]()),
    "starts-with": lambda a, c: string(a[0]()).startswith(string(a[1]())),
    "number": lambda a, c: number(a[0]()),
    "int": _int,
    "round": _round,
    "string": lambda a, c: string(a[0]()),
    "boolean": lambda a, c: boolean(a[0]()),
    "coalesce": lambda a, c: (lambda x: x if string(x) != "" else a[1]())(a[0]()),
}


def stored_value(value: Value) -> str | int | float | bool:
    """A calculation's result as it is stored with the answers (whole numbers as int)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
