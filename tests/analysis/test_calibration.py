"""Calibration-aware standard errors and the design-based options against R `survey` on its
documented `api` example (apiclus1, a one-stage sample of 15 school districts): raked,
post-stratified and linearly calibrated weights, design effects with and without replacement,
and svyciprop's interval methods. Values from reference/make_calibration_reference.R."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import calibration_of_margins, linear_calibrated_weights
from analysis.categories import category_codes
from analysis.design import (
    Calibration,
    SamplingDesign,
    design_mean,
    design_proportion,
    design_shares,
    design_total,
)
from analysis.errors import MarginError, UnknownOptionError
from analysis.variance import prepare_design
from analysis.weighting import poststratified_weights, raked_weights

REFERENCE = Path(__file__).parent / "reference"
R = json.loads((REFERENCE / "calibration_reference.json").read_text())
TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}
SCHOOL_WIDE = {"No": 1072.0, "Yes": 5122.0}


@pytest.fixture(scope="module")
def api():
    frame = pd.read_csv(REFERENCE / "api_clus1.csv")
    return frame.assign(
        comp_yes=(frame["comp.imp"] == "Yes").astype(float),
        stype=frame["stype"].astype("category"),
        sch_wide=frame["sch.wide"].astype("category"),
    )


def _calibrated(api, how):
    """The frame with a ``w`` column calibrated as R's design ``how`` and that design."""
    if how == "srs_weights":
        return api.assign(w=api["pw"]), SamplingDesign(weights="w", clusters="dnum", fpc="fpc")
    if how == "raked":
        margins = {"stype": TYPES, "sch_wide": SCHOOL_WIDE}
        w = raked_weights(api, margins, api["pw"]).weights
    elif how == "poststratified":
        margins = {"stype": TYPES}
        w = poststratified_weights(api, "stype", TYPES, api["pw"]).weights
    else:
        margins = {"stype": TYPES}
        w = linear_calibrated_weights(api, margins, {"enroll": 3811472.0}, api["pw"])
    covariates = ("enroll",) if how == "linear" else ()
    calibration = Calibration(base_weights="pw", margins=tuple(margins), covariates=covariates)
    design = SamplingDesign(weights="w", clusters="dnum", fpc="fpc", calibration=calibration)
    return api.assign(w=np.asarray(w)), design


DESIGNS = ["srs_weights", "raked", "poststratified", "linear"]


@pytest.mark.parametrize("how", DESIGNS)
def test_calibrated_weights_match_r_survey(api, how):
    frame, _ = _calibrated(api, how)
    assert frame["w"].to_numpy()[:5] == pytest.approx(R[how]["weights_head"], rel=1e-9)


@pytest.mark.parametrize("how", DESIGNS)
def test_mean_total_and_share_standard_errors_match_r_survey(api, how):
    frame, design = _calibrated(api, how)
    expected = R[how]
    mean = design_mean(frame, "api00", design)
    assert mean.estimate == pytest.approx(expected["mean_api00"]["estimate"], rel=1e-9)
    assert mean.se == pytest.approx(expected["mean_api00"]["se"], rel=1e-7)
    assert mean.design_effect == pytest.approx(expected["mean_api00"]["deff"], rel=1e-7)
    assert mean.effective_n == pytest.approx(len(frame) / expected["mean_api00"]["deff"], rel=1e-7)
    assert mean.df == expected["degf"]
    assert mean.calibrated is (how != "srs_weights")
    replace = design_mean(frame, "api00", design, deff="with-replacement")
    assert replace.design_effect == pytest.approx(expected["mean_api00"]["deff_replace"], rel=1e-7)
    total = design_total(frame, "enroll", design)
    assert total.estimate == pytest.approx(expected["total_enroll"]["estimate"], rel=1e-9)
    # Linear calibration fixes the enrolment total itself: both SEs are rounding noise there.
    assert total.se == pytest.approx(expected["total_enroll"]["se"], rel=1e-7, abs=1e-6)
    assert total.design_effect == pytest.approx(
        expected["total_enroll"]["deff"], rel=1e-7, abs=1e-12
    )
    share = design_proportion(frame, "comp_yes", 1.0, design)
    assert share.estimate == pytest.approx(expected["share_comp_imp_yes"]["estimate"], rel=1e-9)
    assert share.se == pytest.approx(expected["share_comp_imp_yes"]["se"], rel=1e-7)


@pytest.mark.parametrize("how", DESIGNS)
def test_domain_means_by_school_type_match_r_svyby(api, how):
    frame, design = _calibrated(api, how)
    expected = R[how]["mean_api00_by_stype"]
    for i, school_type in enumerate(["E", "H", "M"]):
        domain = frame["stype"] == school_type
        result = design_mean(frame, "api00", design, domain=domain)
        assert result.estimate == pytest.approx(expected["estimate"][i], rel=1e-9)
        assert result.se == pytest.approx(expected["se"][i], rel=1e-7)


def test_a_raking_margin_total_has_no_standard_error(api):
    """Raking fixes each margin's total exactly, so its calibration-aware SE is 0 (R: ~1e-13),
    where fixed-weight variance would give it the sampling error of the design weights."""
    frame, design = _calibrated(api, "raked")
    for school_type, population in TYPES.items():
        frame[f"is_{school_type}"] = (frame["stype"] == school_type).astype(float)
        total = design_total(frame, f"is_{school_type}", design)
        assert total.estimate == pytest.approx(population, rel=1e-9)
        assert total.se == pytest.approx(0.0, abs=1e-6)
    fixed = design_total(frame, "is_H", SamplingDesign(weights="w", clusters="dnum", fpc="fpc"))
    assert fixed.se > 100


@pytest.mark.parametrize(
    ("method", "r_method"),
    [("logit", "logit"), ("arcsine", "asin"), ("korn-graubard", "beta"), ("wald", "mean")],
)
def test_proportion_intervals_match_r_svyciprop(api, method, r_method):
    frame, design = _calibrated(api, "srs_weights")
    result = design_proportion(frame, "comp_yes", 1.0, design, method=method)
    expected = R["proportion_ci_comp_imp"][r_method]
    assert result.estimate == pytest.approx(expected["estimate"], rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx(expected["ci"], rel=1e-7)


def test_normal_intervals_use_z_instead_of_t(api):
    frame, design = _calibrated(api, "srs_weights")
    t = design_mean(frame, "api00", design)
    z = design_mean(frame, "api00", design, interval="normal")
    assert z.margin_of_error == pytest.approx(1.959963984540054 * z.se, rel=1e-12)
    assert t.margin_of_error > z.margin_of_error


def test_unknown_design_options_are_named_with_the_accepted_ones(api):
    frame, design = _calibrated(api, "srs_weights")
    with pytest.raises(UnknownOptionError) as error:
        design_proportion(frame, "comp_yes", 1.0, design, method="exact", deff="srs")
    text = str(error.value)
    assert "logit, arcsine, korn-graubard, wald" in text
    assert "without-replacement, with-replacement" in text


def test_design_effect_without_replacement_needs_population_scaled_weights(api):
    frame = api.assign(one=1.0)
    result = design_mean(frame, "api00", SamplingDesign(weights="one", clusters="dnum"))
    assert result.design_effect is None
    assert "scale them to the population" in result.note
    replace = design_mean(
        frame, "api00", SamplingDesign(weights="one", clusters="dnum"), deff="with-replacement"
    )
    assert replace.design_effect > 1


def test_linear_calibration_refuses_totals_no_sample_can_meet(api):
    with pytest.raises(MarginError, match="negative weights"):
        linear_calibrated_weights(api, {"stype": TYPES}, {"enroll": 1.0}, api["pw"])


def test_calibration_of_margins_names_every_margin():
    calibration = calibration_of_margins({"stype": TYPES, ("a", "b"): {}}, "pw")
    assert calibration.margins == ("stype", ("a", "b"))
    assert calibration.columns() == ["pw", "stype", "a", "b"]


@pytest.mark.parametrize("how", DESIGNS)
def test_shares_of_every_category_at_once_equal_one_proportion_at_a_time(api, how):
    frame, design = _calibrated(api, how)
    frame = frame.assign(answer=frame["comp.imp"].where(frame.index % 7 != 0))
    codes, categories = category_codes(frame["answer"])
    shares = design_shares(prepare_design(frame, design), codes, len(categories))
    for category, share in zip(categories, shares, strict=True):
        one = design_proportion(frame, "answer", category, design)
        assert share.estimate == pytest.approx(one.estimate, rel=1e-12)
        assert share.se == pytest.approx(one.se, rel=1e-9)
        assert (share.ci_low, share.ci_high) == pytest.approx((one.ci_low, one.ci_high), rel=1e-9)
        assert share.design_effect == pytest.approx(one.design_effect, rel=1e-9)
        assert share.df == one.df
