"""Design-based estimates against textbook variance formulas (Cochran 1977) and an
independent pandas computation of the ultimate-cluster variance."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.design import SamplingDesign, design_mean, design_proportion, design_total
from analysis.errors import DesignError, UnknownOptionError
from analysis.variance import cell_share_covariance, prepare_design


def stratified_sample(seed=1):
    rng = np.random.default_rng(seed)
    sizes = {"north": (40, 4000), "centre": (25, 1000), "south": (35, 10_500)}
    parts = []
    for name, (n_h, big_n) in sizes.items():
        parts.append(
            pd.DataFrame(
                {
                    "stratum": name,
                    "y": rng.normal(60 + len(name), 8, n_h).round(1),
                    "satisfied": rng.choice(["yes", "no"], n_h, p=[0.6, 0.4]),
                    "weight": big_n / n_h,
                    "population": big_n,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def cluster_sample(seed=2, communities=30, population_communities=400):
    """Single-stage cluster sample: communities drawn at random, everyone in them answers."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 25, communities)
    community = np.repeat(np.arange(communities), sizes)
    effect = rng.normal(0, 5, communities)[community]
    return pd.DataFrame(
        {
            "community": community,
            "y": 50 + effect + rng.normal(0, 10, community.shape[0]),
            "weight": population_communities / communities,
            "population": population_communities,
        }
    )


def test_simple_random_sample_without_replacement_matches_classic_formula():
    rng = np.random.default_rng(4)
    y = rng.normal(10, 3, 80)
    frame = pd.DataFrame({"y": y, "w": 2000 / 80, "N": 2000})
    result = design_mean(frame, "y", SamplingDesign(weights="w", fpc="N"))
    se = np.sqrt((1 - 80 / 2000) * y.var(ddof=1) / 80)
    assert result.estimate == pytest.approx(y.mean(), rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-9)
    assert result.df == 79
    t = stats.t.ppf(0.975, 79)
    assert result.ci_low == pytest.approx(y.mean() - t * se, rel=1e-9)
    assert result.margin_of_error == pytest.approx(t * se, rel=1e-9)


def test_equal_weights_with_replacement_have_design_effect_one():
    y = np.arange(20, dtype=float) ** 1.5
    result = design_mean(pd.DataFrame({"y": y}), "y", SamplingDesign(), deff="with-replacement")
    assert result.design_effect == pytest.approx(1.0, rel=1e-12)
    assert result.effective_n == pytest.approx(20.0, rel=1e-12)
    assert result.se == pytest.approx(y.std(ddof=1) / np.sqrt(20), rel=1e-12)


def test_stratified_mean_and_total_match_cochran_formulas():
    frame = stratified_sample()
    design = SamplingDesign(weights="weight", strata="stratum", fpc="population")
    groups = frame.groupby("stratum")
    n_h, big_n = groups.size(), groups["population"].first()
    s2, means = groups["y"].var(ddof=1), groups["y"].mean()
    share = big_n / big_n.sum()
    # Cochran (1977), theorem 5.3 and eq. 5.6: var(ybar_st) = sum W_h^2 (1 - f_h) s_h^2 / n_h.
    var_mean = float((share**2 * (1 - n_h / big_n) * s2 / n_h).sum())
    mean = design_mean(frame, "y", design)
    assert mean.estimate == pytest.approx(float((share * means).sum()), rel=1e-12)
    assert mean.se == pytest.approx(np.sqrt(var_mean), rel=1e-9)
    assert mean.df == 100 - 3
    total = design_total(frame, "y", design)
    assert total.estimate == pytest.approx(float((big_n * means).sum()), rel=1e-12)
    assert total.se == pytest.approx(np.sqrt(var_mean) * big_n.sum(), rel=1e-9)


def test_stratified_proportion_matches_cochran_formula_and_logit_interval():
    frame = stratified_sample(seed=8)
    design = SamplingDesign(weights="weight", strata="stratum", fpc="population")
    groups = frame.assign(hit=frame["satisfied"].eq("yes")).groupby("stratum")
    n_h, big_n = groups.size(), groups["population"].first()
    p_h = groups["hit"].mean()
    share = big_n / big_n.sum()
    p = float((share * p_h).sum())
    # Cochran (1977), eq. 5.48: s_h^2 = n_h / (n_h - 1) p_h q_h for a 0/1 variable.
    var = float((share**2 * (1 - n_h / big_n) * p_h * (1 - p_h) / (n_h - 1)).sum())
    result = design_proportion(frame, "satisfied", "yes", design)
    assert result.estimate == pytest.approx(p, rel=1e-12)
    assert result.se == pytest.approx(np.sqrt(var), rel=1e-9)
    t = stats.t.ppf(0.975, 97)
    logit, half = np.log(p / (1 - p)), t * np.sqrt(var) / (p * (1 - p))
    assert result.ci_low == pytest.approx(1 / (1 + np.exp(-(logit - half))), rel=1e-9)
    assert result.ci_high == pytest.approx(1 / (1 + np.exp(-(logit + half))), rel=1e-9)
    wald = design_proportion(frame, "satisfied", "yes", design, method="wald")
    assert wald.ci_low == pytest.approx(p - t * np.sqrt(var), rel=1e-9)


def test_cluster_sample_mean_matches_ratio_estimator_variance():
    frame = cluster_sample()
    result = design_mean(
        frame, "y", SamplingDesign(weights="weight", clusters="community", fpc="population")
    )
    per = frame.groupby("community")["y"].agg(["sum", "size"])
    n, f = len(per), len(per) / 400
    ratio = per["sum"].sum() / per["size"].sum()
    # Cochran (1977), eq. 6.13 / Lohr (2010), eq. 5.15: one-stage cluster ratio estimator.
    var = (1 - f) / (n * per["size"].mean() ** 2) * ((per["sum"] - ratio * per["size"]) ** 2).sum()
    var /= n - 1
    assert result.estimate == pytest.approx(ratio, rel=1e-12)
    assert result.se == pytest.approx(np.sqrt(var), rel=1e-9)
    assert result.df == n - 1
    assert result.n_psu == n
    assert result.design_effect > 1.5  # community effect: clustering costs precision


def independent_variance(frame, y, weights, strata, clusters, domain, fpc_fraction):
    """Ultimate-cluster variance of a domain mean written with pandas groupby."""
    w = weights.where(domain & y.notna(), 0.0)
    y0 = y.where(domain & y.notna(), 0.0)
    mean = (w * y0).sum() / w.sum()
    z = w * (y0 - mean) / w.sum()
    psu_totals = z.groupby([strata, clusters]).sum()
    var = 0.0
    for stratum, totals in psu_totals.groupby(level=0):
        n_h = len(totals)
        var += (1 - fpc_fraction[stratum]) * n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
    return mean, var


def test_stratified_cluster_domain_mean_matches_independent_computation():
    rng = np.random.default_rng(12)
    rows = 2100
    frame = pd.DataFrame(
        {
            "district": rng.choice(["A", "B", "C"], rows),
            "community": rng.integers(0, 20, rows),
            "age_group": rng.choice(["young", "old"], rows),
            "y": rng.integers(1, 6, rows).astype(float),
            "weight": rng.uniform(50, 150, rows),
        }
    )
    frame.loc[rng.choice(rows, 100, replace=False), "y"] = np.nan
    fractions = {"A": 0.1, "B": 0.2, "C": 0.05}
    frame["fraction"] = frame["district"].map(fractions)
    design = SamplingDesign(
        weights="weight", strata="district", clusters="community", fpc="fraction"
    )
    domain = frame["age_group"] == "old"
    result = design_mean(frame, "y", design, domain=domain)
    mean, var = independent_variance(
        frame, frame["y"], frame["weight"], frame["district"], frame["community"], domain, fractions
    )
    assert result.estimate == pytest.approx(mean, rel=1e-12)
    assert result.se == pytest.approx(np.sqrt(var), rel=1e-9)
    assert result.n_unweighted == int((domain & frame["y"].notna()).sum())
    assert result.df == 60 - 3
    json.dumps(result.to_dict(), allow_nan=False)


def test_cell_share_covariance_shortcut_equals_explicit_psu_computation():
    rng = np.random.default_rng(3)
    rows = 500
    frame = pd.DataFrame(
        {
            "s": rng.choice(["x", "y"], rows),
            "w": rng.uniform(0.5, 3, rows),
            "row_id": np.arange(rows),
        }
    )
    cell = rng.integers(-1, 6, rows)  # -1: a row missing the answer
    shortcut = prepare_design(frame, SamplingDesign(weights="w", strata="s"))
    explicit = prepare_design(frame, SamplingDesign(weights="w", strata="s", clusters="row_id"))
    p1, cov1 = cell_share_covariance(shortcut, cell, 6)
    p2, cov2 = cell_share_covariance(explicit, cell, 6)
    np.testing.assert_allclose(p1, p2, rtol=1e-12)
    np.testing.assert_allclose(cov1, cov2, rtol=1e-9, atol=1e-15)
    # The diagonal is the linearised variance of each share, as design_proportion gives it.
    answers = pd.Series(np.where(cell >= 0, cell, np.nan))
    one = design_proportion(
        frame.assign(a=answers), "a", 2.0, SamplingDesign(weights="w", strata="s")
    )
    assert one.se == pytest.approx(np.sqrt(cov1[2, 2]), rel=1e-9)


def test_single_psu_stratum_is_refused_or_removed_on_request():
    frame = pd.DataFrame({"s": ["a", "a", "b"], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DesignError, match="'b'") as raised:
        design_mean(frame, "y", SamplingDesign(strata="s"))
    assert "lonely_psu='remove'" in str(raised.value)
    result = design_mean(frame, "y", SamplingDesign(strata="s", lonely_psu="remove"))
    assert result.se == pytest.approx(np.sqrt(2 / 1 * 2 * 0.25) / 3, rel=1e-12)
    with pytest.raises(UnknownOptionError, match="fail, remove"):
        design_mean(frame, "y", SamplingDesign(strata="s", lonely_psu="certainty"))


def test_fpc_varying_within_a_stratum_is_refused():
    frame = pd.DataFrame({"s": ["a", "a"], "y": [1.0, 2.0], "N": [10, 11]})
    with pytest.raises(DesignError, match="constant within each stratum"):
        design_mean(frame, "y", SamplingDesign(strata="s", fpc="N"))


def test_no_valid_answers_and_boundary_proportions_are_defined():
    frame = pd.DataFrame({"y": [np.nan, np.nan], "a": ["yes", "yes"]})
    empty = design_mean(frame, "y", SamplingDesign())
    assert (empty.estimate, empty.se, empty.note) == (None, None, "no valid answers")
    everyone = design_proportion(frame, "a", "yes", SamplingDesign())
    assert everyone.estimate == 1.0
    assert everyone.ci_low is None
    assert "logit interval is undefined" in everyone.note
    json.dumps(everyone.to_dict(), allow_nan=False)


def test_design_with_a_single_psu_gives_the_estimate_without_interval():
    result = design_mean(pd.DataFrame({"y": [4.0]}), "y", SamplingDesign())
    assert result.estimate == 4.0
    assert result.df == 0
    assert (result.ci_low, result.margin_of_error) == (None, None)
    assert "no degrees of freedom" in result.note
