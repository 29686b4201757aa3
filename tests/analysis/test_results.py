"""Result objects serialise to plain JSON values."""

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.results import Result, plain


@dataclass(frozen=True)
class Inner(Result):
    value: float


@dataclass(frozen=True)
class Outer(Result):
    count: object
    share: object
    missing: object
    cells: object
    inner: Inner
    by_key: dict[object, object]


def test_numpy_scalars_nan_and_nested_results_become_plain_json():
    result = Outer(
        count=np.int64(3),
        share=np.float64("nan"),
        missing=pd.NA,
        cells=np.array([[1.5, np.inf]]),
        inner=Inner(np.float32(0.5)),
        by_key={np.int64(2): (np.bool_(True), None)},
    )
    out = result.to_dict()
    assert out == {
        "count": 3,
        "share": None,
        "missing": None,
        "cells": [[1.5, None]],
        "inner": {"value": 0.5},
        "by_key": {"2": [True, None]},
    }
    assert type(out["count"]) is int
    json.dumps(out, allow_nan=False)


def test_other_objects_are_written_as_text():
    assert plain(pd.Timestamp("2026-01-02")) == "2026-01-02 00:00:00"
