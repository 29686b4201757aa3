"""Hypothesis strategies for hostile input: any plain value a YAML or JSON file can hold, and a
valid document with one part replaced by such a value (which reaches far deeper into a parser
than random values alone)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

# The demo campaign file: the valid document most mutations start from.
EXAMPLE_FILE = Path(__file__).parents[1] / "examples" / "transport.yaml"
EXAMPLE_CAMPAIGN = yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8"))

# Text that has broken parsers before: NUL, a lone surrogate, a control character, U+FFFD, an
# expression, markup, a formula.
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800",
        "\x0b",
        "�",
        "${x}",
        "${",
        "select_one",
        "begin group",
        "=1+1",
        "<b>",
        "NaN",
        "yes",
        "no",
        "1",
        "-1",
        "1e309",
        "2026-02-30",
        "a" * 300,
        "交通",
        "text",
        "group",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    NASTY_TEXT,
)
PLAIN = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(NASTY_TEXT, st.text(max_size=10), st.integers()), inner, max_size=4
        ),
    ),
    max_leaves=20,
)


def _containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every list item and mapping value inside `value`."""
    paths = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _containers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _containers(item, (*path, index))
    return paths


@st.composite
def mutated(draw: Callable[..., Any], base: Any, replacements: Any = PLAIN) -> Any:
    """`base` with one to three parts (anywhere: a field, a list item, the whole) replaced,
    deleted or given an unknown sibling."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _containers(value)
        path = draw(st.sampled_from(paths))
        if not path:
            value = draw(replacements)
            continue
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(replacements)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.one_of(NASTY_TEXT, st.text(max_size=8)))] = draw(replacements)
        else:
            parent.append(draw(replacements))
    return value
