"""Summaries raked to population margins from the campaign file."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from analysis.errors import UnknownOptionError
from analysis.frames import answers_frame
from analysis.summary import campaign_margins, summarize, summarize_frame
from campaigns.definition import read_campaign_file

from .conftest import EXAMPLE, add_responses, random_answers

DISTRICTS = {"jinjiang": 300.0, "qingyang": 200.0, "wuhou": 400.0, "pidu": 100.0}
AGES = {"a18_29": 250.0, "a30_44": 300.0, "a45_59": 250.0, "a60_plus": 200.0}
SETTINGS = {"weighting": {"margins": {"district": DISTRICTS, "age_group": AGES}}}


@pytest.fixture(scope="module")
def form():
    return read_campaign_file(EXAMPLE).form


def sample(n=400, seed=3):
    rng = random.Random(seed)
    return [random_answers(rng) for _ in range(n)]


def test_raked_summary_hits_every_margin_and_reports_the_raking(form):
    answers = sample()
    frame = answers_frame(answers, form)
    summary = summarize_frame(
        frame, form, margins={"district": DISTRICTS, "age_group": AGES}, exclude=()
    )
    assert summary.weighted and summary.weighting.converged
    district = summary.question("district")
    total = sum(DISTRICTS.values())
    for row in district.rows:
        assert row.weighted_count == pytest.approx(DISTRICTS.get(row.name, 0.0), abs=1e-6)
        if row.name in DISTRICTS:
            assert row.percent == pytest.approx(100 * DISTRICTS[row.name] / total, abs=1e-6)
    assert district.n_base == len(answers)  # bases stay unweighted
    ages = {r.name: r.weighted_count for r in summary.question("age_group").rows}
    assert ages == pytest.approx(AGES, abs=1e-6)
    assert summary.weighting.weights.design_effect > 1


def test_weighted_satisfaction_rate_equals_the_hand_computed_share(form):
    answers = sample()
    frame = answers_frame(answers, form)
    summary = summarize_frame(
        frame, form, margins={"district": DISTRICTS, "age_group": AGES}, exclude=()
    )
    cells = pd.DataFrame(answers)
    # Independent raking by iterative proportional fitting on the rows themselves.
    w = np.ones(len(cells))
    for _ in range(200):
        for variable, targets in (("district", DISTRICTS), ("age_group", AGES)):
            sums = pd.Series(w).groupby(cells[variable].to_numpy()).sum()
            w = w * cells[variable].map(lambda c, t=targets, s=sums: t[c] / s[c]).to_numpy()
    satisfied = cells["sat_bus"].isin(["4", "5"]).to_numpy()
    expected = w[satisfied].sum() / w.sum()
    assert summary.question("sat_bus").top_box.estimate == pytest.approx(expected, abs=1e-6)


def test_campaign_margins_read_one_way_and_joint_margins_and_bounds():
    margins, bounds = campaign_margins(
        {
            "weighting": {
                "margins": {
                    "district": {"wuhou": 10, "pidu": 5},
                    "age_group x gender": {"a18_29 x female": 3, "a18_29 x male": 4},
                },
                "bounds": [0.5, 2],
            }
        }
    )
    assert margins["district"] == {"wuhou": 10.0, "pidu": 5.0}
    assert margins[("age_group", "gender")] == {("a18_29", "female"): 3.0, ("a18_29", "male"): 4.0}
    assert bounds == (0.5, 2.0)


def test_missing_or_malformed_margins_are_named():
    with pytest.raises(UnknownOptionError, match=r"settings\.weighting\.margins"):
        campaign_margins({})
    with pytest.raises(UnknownOptionError, match=r"settings\.weighting\.margins\.district"):
        campaign_margins({"weighting": {"margins": {"district": ["wuhou"]}}})


def test_stored_campaign_is_raked_to_the_margins_in_its_file(session, campaign, client, login):
    answers = sample(60, seed=9)
    add_responses(session, campaign, answers)
    campaign.settings = {**campaign.settings, **SETTINGS}
    session.commit()
    summary = summarize(session, campaign, rake=True, exclude=())
    assert summary.weighting is not None and summary.weighting.converged
    district = {r.name: r.weighted_count for r in summary.question("district").rows}
    assert district["wuhou"] == pytest.approx(400.0, abs=1e-6)
    login("organizer")
    data = client.get(f"/api/v1/campaigns/{campaign.slug}/summary?weights=campaign").get_json()
    assert data["weighted"] and data["weighting"]["converged"]
