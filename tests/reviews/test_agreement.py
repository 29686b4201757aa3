"""ICC(2,1) and Krippendorff's alpha against the worked examples of the papers that define them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.errors import UnknownOptionError
from reviews.agreement import icc_2_1, krippendorff_alpha

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges. Table 3 gives the mean
# squares (BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02) and Table 4 ICC(2,1) = .29; the paper
# prints two decimals, so that is the tolerance.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: four observers,
# twelve units, missing values; published alphas nominal .743, ordinal .815, interval .849.
nan = math.nan
KRIPPENDORFF_C = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
).T  # units x observers


def test_icc_2_1_of_shrout_and_fleiss_table_2():
    result = icc_2_1(SHROUT_FLEISS)
    assert result.estimate == pytest.approx(0.29, abs=0.005)
    assert result.bms == pytest.approx(11.24, abs=0.005)
    assert result.wms == pytest.approx(6.26, abs=0.005)
    assert result.jms == pytest.approx(32.49, abs=0.005)
    assert result.ems == pytest.approx(1.02, abs=0.005)
    assert (result.n_targets, result.n_judges) == (6, 4)


def test_icc_interval_contains_the_estimate_and_narrows_with_more_targets():
    small = icc_2_1(SHROUT_FLEISS)
    large = icc_2_1(SHROUT_FLEISS * 5)
    assert small.ci_low < small.estimate < small.ci_high
    assert large.ci_low < large.estimate < large.ci_high
    assert large.ci_high - large.ci_low < small.ci_high - small.ci_low


def test_icc_drops_targets_with_a_missing_judge():
    with_gap = [*SHROUT_FLEISS, [5, nan, 3, 4]]
    assert icc_2_1(with_gap).estimate == pytest.approx(icc_2_1(SHROUT_FLEISS).estimate, abs=1e-12)
    assert icc_2_1(with_gap).n_targets == 6


def test_icc_with_one_judge_is_undefined_with_a_note():
    result = icc_2_1([[1], [2], [3]])
    assert result.estimate is None
    assert "2 judges" in result.note


def test_perfect_agreement_gives_icc_one():
    assert icc_2_1([[1, 1], [3, 3], [5, 5]]).estimate == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("metric", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_alpha_of_the_2011_worked_example(metric, published):
    result = krippendorff_alpha(KRIPPENDORFF_C, metric)
    assert result.estimate == pytest.approx(published, abs=0.0005)
    # Unit 12 has a single value and is not pairable; 40 pairable values remain.
    assert (result.n_units, result.n_pairable) == (11, 40)


def test_alpha_without_variation_is_undefined():
    result = krippendorff_alpha([[3, 3], [3, 3]])
    assert result.estimate is None
    assert "same" in result.note


def test_unknown_alpha_metric_names_the_allowed_ones():
    with pytest.raises(UnknownOptionError, match="nominal, ordinal, interval, ratio"):
        krippendorff_alpha(KRIPPENDORFF_C, "cardinal")


@pytest.mark.parametrize("metric", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alpha_matches_the_independent_krippendorff_package_to_1e_6(metric, seed):
    """Every level of measurement against Castro's `krippendorff` package, on the published
    example and on random 1-5 rubric scores with gaps."""
    import krippendorff

    rng = np.random.default_rng(seed)
    scores = rng.integers(1, 6, size=(40, 5)).astype(float)
    scores[rng.random(scores.shape) < 0.3] = np.nan
    for table in (KRIPPENDORFF_C, scores):
        ours = krippendorff_alpha(table, metric).estimate
        # The package takes coders x units.
        theirs = krippendorff.alpha(reliability_data=table.T, level_of_measurement=metric)
        assert ours == pytest.approx(theirs, abs=1e-6)
