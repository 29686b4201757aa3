"""Design-based estimates and Rao-Scott tests against stored values from samplics and svy
(produced by reference/make_design_reference.py on reference/design_sample.csv)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.crosstabs import crosstab
from analysis.design import SamplingDesign, design_mean, design_proportion, design_total

REFERENCE = Path(__file__).parent / "reference"
EXPECTED = json.loads((REFERENCE / "design_reference.json").read_text())


@pytest.fixture(scope="module")
def sample():
    frame = pd.read_csv(REFERENCE / "design_sample.csv")
    # The file stores 1 - f (samplics' fpc factor); the design takes the sampling fraction f.
    return frame.assign(
        fraction=1 - frame["fpc"],
        top2=(frame["satisfaction"] >= 4).where(frame["satisfaction"].notna()),
    )


DESIGN = SamplingDesign(weights="weight", strata="stratum", clusters="community", fpc="fraction")


def test_mean_and_total_match_samplics(sample):
    mean = design_mean(sample, "satisfaction", DESIGN)
    assert mean.estimate == pytest.approx(EXPECTED["mean"]["estimate"], rel=1e-9)
    assert mean.se == pytest.approx(EXPECTED["mean"]["se"], rel=1e-9)
    total = design_total(sample, "satisfaction", DESIGN)
    assert total.estimate == pytest.approx(EXPECTED["total"]["estimate"], rel=1e-9)
    assert total.se == pytest.approx(EXPECTED["total"]["se"], rel=1e-9)


def test_top_two_box_share_and_logit_interval_match_samplics(sample):
    share = design_proportion(sample, "top2", True, DESIGN)
    expected = EXPECTED["top2_share"]
    assert share.estimate == pytest.approx(expected["estimate"], rel=1e-9)
    assert share.se == pytest.approx(expected["se"], rel=1e-9)
    assert share.ci_low == pytest.approx(expected["ci_low"], rel=1e-9)
    assert share.ci_high == pytest.approx(expected["ci_high"], rel=1e-9)


@pytest.mark.parametrize("age_group", ["18-34", "35-59", "60+"])
def test_domain_means_match_samplics(sample, age_group):
    result = design_mean(sample, "satisfaction", DESIGN, domain=sample["age_group"] == age_group)
    expected = EXPECTED["mean_by_age_group"][age_group]
    assert result.estimate == pytest.approx(expected["estimate"], rel=1e-9)
    assert result.se == pytest.approx(expected["se"], rel=1e-9)


@pytest.mark.parametrize(
    ("key", "fpc"),
    [
        ("rao_scott_satisfaction_by_age", None),
        ("rao_scott_satisfaction_by_age_with_fpc", "fraction"),
    ],
)
def test_rao_scott_second_order_test_matches_svy(sample, key, fpc):
    answered = sample.dropna(subset=["satisfaction"])
    design = SamplingDesign(weights="weight", strata="stratum", clusters="community", fpc=fpc)
    result = crosstab(answered, "satisfaction", "age_group", design=design)
    expected = EXPECTED[key]
    assert result.test.method == "rao-scott-f"
    assert result.test.statistic == pytest.approx(expected["f"], rel=1e-9)
    assert result.test.df == pytest.approx(expected["df_num"], rel=1e-9)
    assert result.test.df_denominator == pytest.approx(expected["df_den"], rel=1e-9)
    assert result.test.p_value == pytest.approx(expected["p_value"], rel=1e-7)
