"""Raking and post-stratification against a row-level IPF loop and closed forms."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.errors import MarginError, UnknownOptionError, UnknownVariableError
from analysis.weighting import (
    kish_design_effect,
    kish_effective_n,
    poststratified_weights,
    raked_weights,
    weight_summary,
)
from minsheng.problems import InputError, Problem


def sample(n=3000, seed=7):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "district": rng.choice(["东城", "西城", "朝阳", "海淀"], n, p=[0.1, 0.2, 0.3, 0.4]),
            "age_group": rng.choice(["18-34", "35-59", "60+"], n, p=[0.5, 0.35, 0.15]),
            "sex": rng.choice(["f", "m"], n),
            "design_weight": rng.uniform(0.5, 2.0, n),
        }
    )


DISTRICT = {"东城": 700_000, "西城": 1_100_000, "朝阳": 3_400_000, "海淀": 3_100_000}
AGE = {"18-34": 2_500_000, "35-59": 3_800_000, "60+": 2_000_000}
SEX = {"f": 4_200_000, "m": 4_100_000}


def row_level_ipf(frame, margins, base, sweeps=500):
    """Independent raking: adjust every row's weight margin by margin with pandas groupby."""
    w = pd.Series(base, index=frame.index, dtype=float)
    for _ in range(sweeps):
        previous = w
        for variable, targets in margins.items():
            achieved = w.groupby(frame[variable]).transform("sum")
            w = w * frame[variable].map(targets).astype(float) / achieved
        if np.max(np.abs(w / previous - 1)) < 1e-13:
            break
    return w.to_numpy()


def test_raking_matches_row_level_iterative_proportional_fitting():
    frame = sample()
    margins = {"district": DISTRICT, "age_group": AGE, "sex": SEX}
    result = raked_weights(frame, margins)
    expected = row_level_ipf(frame, margins, np.ones(len(frame)))
    np.testing.assert_allclose(result.weights.to_numpy(), expected, rtol=1e-6)
    assert result.report.converged
    assert result.report.n_cells == 24
    for variable, targets in margins.items():
        achieved = result.weights.groupby(frame[variable]).sum()
        for category, target in targets.items():
            assert achieved[category] == pytest.approx(target, rel=1e-8)


def test_raking_from_design_weights_matches_row_level_loop():
    frame = sample(seed=11)
    margins = {"district": DISTRICT, "age_group": AGE}
    base = frame["design_weight"].to_numpy()
    result = raked_weights(frame, margins, base_weights=base)
    np.testing.assert_allclose(
        result.weights.to_numpy(), row_level_ipf(frame, margins, base), rtol=1e-6
    )
    assert result.weights.index.equals(frame.index)


def test_poststratification_weights_each_cell_up_to_its_population():
    frame = sample(seed=3)
    population = {
        (d, a): 1000.0 * (i + 1) * (j + 2)
        for i, d in enumerate(DISTRICT)
        for j, a in enumerate(AGE)
    }
    result = poststratified_weights(frame, ["district", "age_group"], population)
    cell_n = frame.groupby(["district", "age_group"])["sex"].transform("size")
    keys = list(zip(frame["district"], frame["age_group"], strict=True))
    expected = np.array([population[k] for k in keys]) / cell_n.to_numpy()
    np.testing.assert_allclose(result.weights.to_numpy(), expected, rtol=1e-12)
    assert result.report.iterations == 1
    assert result.report.method == "post-stratification"


def test_joint_margin_and_one_way_margin_rake_together():
    frame = sample(seed=5)
    joint = {(d, a): DISTRICT[d] * AGE[a] / 8_300_000 for d in DISTRICT for a in AGE}
    result = raked_weights(frame, {("district", "age_group"): joint, "sex": SEX})
    frame = frame.assign(cell=frame["district"] + "|" + frame["age_group"])
    expected = row_level_ipf(
        frame,
        {"cell": {f"{d}|{a}": v for (d, a), v in joint.items()}, "sex": SEX},
        np.ones(len(frame)),
    )
    np.testing.assert_allclose(result.weights.to_numpy(), expected, rtol=1e-6)


def test_trimmed_raking_keeps_weights_within_bounds_and_still_fits_margins():
    frame = sample(seed=9)
    margins = {"district": DISTRICT, "age_group": AGE}
    untrimmed = raked_weights(frame, margins).weights
    mean = untrimmed.mean()
    assert untrimmed.max() / mean > 2.0
    assert untrimmed.min() / mean < 0.4
    result = raked_weights(frame, margins, bounds=(0.4, 2.0))
    ratio = result.weights / mean
    assert ratio.max() <= 2.0 + 1e-9
    assert ratio.min() >= 0.4 - 1e-9
    assert result.report.converged
    assert result.report.cells_at_bounds > 0
    achieved = result.weights.groupby(frame["district"]).sum()
    for category, target in DISTRICT.items():
        assert achieved[category] == pytest.approx(target, rel=1e-8)


def test_bounds_too_tight_to_fit_are_reported_as_not_converged():
    frame = sample(seed=9)
    result = raked_weights(
        frame, {"district": DISTRICT, "age_group": AGE}, bounds=(0.99, 1.01), max_iterations=50
    )
    assert not result.report.converged
    assert result.report.iterations == 50
    assert result.report.max_margin_error > result.report.tolerance


def test_report_is_plain_json_with_kish_summary():
    frame = sample()
    result = raked_weights(frame, {"district": DISTRICT})
    report = result.to_dict()
    json.dumps(report, allow_nan=False)
    w = result.weights.to_numpy()
    assert report["weights"]["effective_n"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert set(report["margin_errors"]) == {"district"}


def test_sample_category_without_target_names_margin_and_category():
    frame = sample()
    with pytest.raises(MarginError) as raised:
        raked_weights(frame, {"district": {k: v for k, v in DISTRICT.items() if k != "朝阳"}})
    (problem,) = raised.value.problems
    assert problem.location == "margin `district`"
    assert "'朝阳'" in problem.message
    assert "no population target" in problem.message
    # One error type across the stages: pages and the API answer it 422, the CLI exits 2.
    assert isinstance(raised.value, InputError) and isinstance(problem, Problem)
    assert raised.value.to_json() == {
        "errors": [{"location": "margin `district`", "message": problem.message}]
    }


def test_target_without_respondents_and_unequal_totals_are_reported_together():
    frame = sample()
    district = {**DISTRICT, "丰台": 2_000_000}
    with pytest.raises(MarginError) as raised:
        raked_weights(frame, {"district": district, "age_group": AGE})
    messages = [f"{p.location}: {p.message}" for p in raised.value.problems]
    assert any("'丰台'" in m and "no respondents" in m for m in messages)
    assert any(
        "same population total" in m and "`age_group` sums to 8.3e+06" in m for m in messages
    )


def test_unknown_margin_variable_is_named():
    with pytest.raises(UnknownVariableError, match="`district_name`"):
        raked_weights(sample(), {"district_name": DISTRICT})


def test_missing_values_in_a_margin_variable_are_refused():
    frame = sample()
    frame.loc[[3, 8], "age_group"] = None
    with pytest.raises(MarginError, match="2 rows have no value"):
        raked_weights(frame, {"age_group": AGE})


def test_negative_target_and_bad_bounds_are_refused():
    frame = sample()
    with pytest.raises(MarginError, match="must be >= 0"):
        raked_weights(frame, {"sex": {"f": -1.0, "m": 1.0}})
    with pytest.raises(UnknownOptionError, match="bounds"):
        raked_weights(frame, {"sex": SEX}, bounds=(1.5, 3.0))


def test_kish_effective_n_and_design_effect():
    w = np.array([1.0, 2.0, 2.0, 5.0])
    assert kish_effective_n(w) == pytest.approx(100 / 34)
    assert kish_design_effect(w) == pytest.approx(4 * 34 / 100)
    summary = weight_summary(w)
    assert summary.design_effect == pytest.approx(1 + (w.std() / w.mean()) ** 2)
    assert kish_effective_n(np.array([])) == 0.0
    assert weight_summary(np.array([])).design_effect is None
