"""Design-based summaries: a campaign file's declared design (strata, clusters, population per
stratum) and raking margins give every estimate a Taylor-linearisation standard error, interval,
design effect and effective n, in the summary, on the results page and in the API."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from analysis.design import Calibration, SamplingDesign, design_mean, design_proportion
from analysis.errors import DesignError, UnknownOptionError
from analysis.frames import answers_frame
from analysis.summary import summarize, summarize_frame
from analysis.suppression import suppress_summary
from analysis.survey_design import DeclaredDesign, declared_design
from analysis.weighting import raked_weights
from campaigns.definition import read_campaign_file

from .conftest import EXAMPLE, add_responses, random_answers

POPULATION = {"jinjiang": 300000.0, "qingyang": 200000.0, "wuhou": 400000.0, "pidu": 100000.0}
AGES = {"a18_29": 250000.0, "a30_44": 300000.0, "a45_59": 250000.0, "a60_plus": 200000.0}
DESIGN = {"strata": "district", "population": POPULATION}


@pytest.fixture(scope="module")
def form():
    return read_campaign_file(EXAMPLE).form


def _answers(n=300, seed=11):
    rng = random.Random(seed)
    return [random_answers(rng) for _ in range(n)]


def _by_hand(answers, form):
    """The responses with the stratified weights N_h / n_h and fpc n_h / N_h worked out here."""
    frame = answers_frame(answers, form)
    district = frame["district"].astype(str)
    n_h = district.map(district.value_counts())
    size = district.map(POPULATION)
    return frame.assign(
        w=size / n_h,
        f=n_h / size,
        top=frame["sat_bus"].isin(["4", "5"]).astype(float),
        score=pd.to_numeric(frame["sat_bus"].astype(str)),
    )


def test_stratified_design_gives_design_based_shares_means_and_rates(form):
    answers = _answers()
    summary = summarize_frame(
        answers_frame(answers, form), form, design=declared_design({"design": DESIGN}), exclude=()
    )
    hand = _by_hand(answers, form)
    design = SamplingDesign(weights="w", strata="district", fpc="f")
    assert summary.estimation == "design-based"
    assert summary.design.variance == "taylor-linearisation"
    assert (summary.design.n_strata, summary.design.df) == (4, len(answers) - 4)
    assert summary.design.fpc and summary.design.population_total == pytest.approx(1e6)
    bus = summary.question("sat_bus")
    expected = design_proportion(hand, "top", 1.0, design)
    assert bus.top_box.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert bus.top_box.se == pytest.approx(expected.se, rel=1e-9)
    assert (bus.top_box.ci_low, bus.top_box.ci_high) == pytest.approx(
        (expected.ci_low, expected.ci_high), rel=1e-9
    )
    assert bus.top_box.design_effect == pytest.approx(expected.design_effect, rel=1e-9)
    assert bus.top_box.effective_n == pytest.approx(expected.effective_n, rel=1e-9)
    mean = design_mean(hand, "score", design)
    assert bus.mean.estimate == pytest.approx(mean.estimate, rel=1e-12)
    assert bus.mean.se == pytest.approx(mean.se, rel=1e-9)
    assert bus.mean.method == "taylor"
    car = next(r for r in summary.question("commute_mode").rows if r.name == "car")
    share = design_proportion(hand, "commute_mode", "car", design)
    assert car.percent == pytest.approx(100 * share.estimate, rel=1e-12)
    assert car.se == pytest.approx(100 * share.se, rel=1e-9)
    assert car.design_effect == pytest.approx(share.design_effect, rel=1e-9)
    # Strata sampled at different rates: the weighted shares differ from the raw ones.
    district = {r.name: r.percent for r in summary.question("district").rows}
    assert district["wuhou"] == pytest.approx(40.0, rel=1e-12)


def test_raked_summary_standard_errors_use_the_calibration_residuals(form):
    answers = _answers(seed=12)
    frame = answers_frame(answers, form)
    margins = {"district": POPULATION, "age_group": AGES}
    summary = summarize_frame(frame, form, margins=margins, exclude=())
    assert summary.design.calibration == "raking" and summary.design.calibrated_variance
    assert summary.design.calibration_margins == ("district", "age_group")
    hand = frame.assign(
        w=raked_weights(frame, margins).weights.to_numpy(),
        base=1.0,
        top=frame["sat_bus"].isin(["4", "5"]).astype(float),
    )
    calibration = Calibration(base_weights="base", margins=("district", "age_group"))
    calibrated = design_proportion(
        hand, "top", 1.0, SamplingDesign(weights="w", calibration=calibration)
    )
    fixed = design_proportion(hand, "top", 1.0, SamplingDesign(weights="w"))
    bus = summary.question("sat_bus").top_box
    assert bus.se == pytest.approx(calibrated.se, rel=1e-9)
    assert bus.se != pytest.approx(fixed.se, rel=1e-6)
    # A raking margin is fixed by the raking: its shares have no sampling error.
    for row in summary.question("district").rows:
        if row.name in POPULATION:
            assert row.se == pytest.approx(0.0, abs=1e-9)


def test_ad_hoc_weights_without_a_design_are_labelled_kish(form):
    answers = _answers(seed=13)
    frame = answers_frame(answers, form)
    summary = summarize_frame(frame, form, weights=np.linspace(0.5, 2, len(frame)), exclude=())
    assert summary.estimation == "kish-approximation"
    assert summary.design is None
    assert summarize_frame(frame, form, exclude=()).estimation == "unweighted"


def test_clustered_design_counts_psus_and_their_degrees_of_freedom(form):
    answers = _answers(seed=14)
    for i, answer in enumerate(answers):
        answer["commute_time"] = ["lt15", "m15_30", "m30_60", "gt60"][i % 4]
    frame = answers_frame(answers, form)
    declared = DeclaredDesign(clusters="commute_time")
    summary = summarize_frame(frame, form, design=declared, exclude=())
    assert (summary.design.n_psu, summary.design.df) == (4, 3)
    expected = design_mean(
        frame.assign(w=1.0, score=pd.to_numeric(frame["sat_bus"].astype(str))),
        "score",
        SamplingDesign(weights="w", clusters="commute_time"),
    )
    assert summary.question("sat_bus").mean.se == pytest.approx(expected.se, rel=1e-9)


@pytest.mark.parametrize(
    ("design", "location"),
    [
        ({"strata": "district", "populaton": {}}, "settings.design.populaton"),
        ({"strata": "district", "population": {"wuhou": -3}}, "settings.design.population"),
        ({"population": {"wuhou": 3}}, "settings.design.population"),
        ({"strata": 3}, "settings.design.strata"),
        ({"proportion_ci": "exact"}, "settings.design.proportion_ci"),
        ({"interval": "z"}, "settings.design.interval"),
        ("district", "settings.design"),
    ],
)
def test_a_malformed_design_is_refused_naming_the_setting(design, location):
    with pytest.raises(UnknownOptionError) as error:
        declared_design({"design": design})
    assert location in str(error.value)


def test_a_stratum_without_a_population_count_is_named(form):
    frame = answers_frame(_answers(seed=15), form)
    declared = declared_design({"design": {"strata": "district", "population": {"wuhou": 1e5}}})
    with pytest.raises(DesignError, match=r"'jinjiang'.*no population count"):
        summarize_frame(frame, form, design=declared, exclude=())


def test_stored_campaign_shows_design_based_results_in_the_api_and_on_the_page(
    session, campaign, client, login
):
    add_responses(session, campaign, _answers(80, seed=16))
    campaign.settings = {**campaign.settings, "design": DESIGN}
    session.commit()
    summary = summarize(session, campaign, exclude=())
    assert summary.estimation == "design-based"
    login("organizer")
    data = client.get(f"/api/v1/campaigns/{campaign.slug}/summary").get_json()
    assert data["estimation"] == "design-based"
    assert (
        data["design"]["strata"] == "district"
        and data["design"]["df"] == data["design"]["n_psu"] - 4
    )
    bus = next(q for q in data["questions"] if q["name"] == "sat_bus")
    assert bus["top_box"]["design_effect"] > 0 and bus["rows"][0]["se"] is not None
    plain = client.get(f"/api/v1/campaigns/{campaign.slug}/summary?weighting=none").get_json()
    assert plain["estimation"] == "unweighted" and plain["design"] is None
    refused = client.get(f"/api/v1/campaigns/{campaign.slug}/summary?weighting=kish")
    assert refused.status_code == 422
    assert "declared, none" in refused.get_data(as_text=True)
    page = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)
    assert 'class="num design-effect"' in page
    assert "泰勒线性化" in page and "设计效应以不放回简单随机抽样为参照" in page
    unweighted = client.get(f"/campaigns/{campaign.slug}/results?weighting=none")
    assert "Wilson" in unweighted.get_data(as_text=True)


def test_departments_get_design_based_rows_suppressed_with_their_standard_errors(form):
    answers = _answers(seed=17)
    answers[0]["commute_mode"] = "walk"
    for answer in answers[1:]:
        if answer["commute_mode"] == "walk":
            answer["commute_mode"] = "bus"
    summary = summarize_frame(
        answers_frame(answers, form), form, design=declared_design({"design": DESIGN}), exclude=()
    )
    shown = suppress_summary(summary, 5)
    mode = next(q for q in shown["questions"] if q["name"] == "commute_mode")
    walk = next(r for r in mode["rows"] if r["name"] == "walk")
    assert walk["suppressed"]
    assert (walk["se"], walk["design_effect"], walk["effective_n"]) == (None, None, None)


def test_a_share_fixed_by_the_stratification_has_no_effective_n(form):
    summary = summarize_frame(
        answers_frame(_answers(seed=18), form),
        form,
        design=declared_design({"design": DESIGN}),
        exclude=(),
    )
    wuhou = next(r for r in summary.question("district").rows if r.name == "wuhou")
    assert wuhou.se == pytest.approx(0.0, abs=1e-5)  # rounding of weights in the thousands
    assert wuhou.effective_n is None
    mode = summary.question("commute_mode")
    car = next(r for r in mode.rows if r.name == "car")
    assert car.effective_n == pytest.approx(mode.n_base / car.design_effect, rel=1e-9)
