"""Produce design_sample.csv and design_reference.json, used by
tests/analysis/test_reference_values.py: Taylor-linearisation estimates computed by samplics,
and Rao-Scott second-order tests computed by svy (the R ``survey::svychisq(statistic = "F")``
method), two implementations independent of `analysis`.

Run in a separate environment, from this folder:

    python -m venv /tmp/refenv && /tmp/refenv/bin/pip install samplics==0.6.1 svy==0.35.0
    /tmp/refenv/bin/python make_design_reference.py
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import svy
from samplics import PopParam, TaylorEstimator

HERE = Path(__file__).parent


def make_sample() -> pd.DataFrame:
    """2 districts x 2 areas = 4 strata, 44 communities (PSUs), 5-14 residents each."""
    rng = np.random.default_rng(20260601)
    rows = []
    community = 0
    for stratum, (n_psu, population_psu) in enumerate([(12, 120), (10, 60), (14, 400), (8, 40)]):
        for _ in range(n_psu):
            size = int(rng.integers(5, 15))
            effect = rng.normal(0, 0.6)
            for _ in range(size):
                satisfaction = int(np.clip(np.round(rng.normal(3.4 + effect, 1.0)), 1, 5))
                rows.append(
                    {
                        "stratum": f"s{stratum}",
                        "community": community,
                        "weight": round(float(rng.uniform(20, 80)) * population_psu / n_psu, 3),
                        "satisfaction": satisfaction if rng.random() > 0.05 else None,
                        "age_group": str(rng.choice(["18-34", "35-59", "60+"])),
                        "fpc": round(1 - n_psu / population_psu, 12),
                    }
                )
            community += 1
    return pd.DataFrame(rows)


def estimate(param, frame, y, domain=None):
    est = TaylorEstimator(param, alpha=0.05, ciprop_method="logit")
    fpc = dict(zip(frame["stratum"], frame["fpc"], strict=True))
    est.estimate(
        y=y,
        samp_weight=frame["weight"].to_numpy(),
        stratum=frame["stratum"].to_numpy(),
        psu=frame["community"].to_numpy(),
        fpc=fpc,
        domain=domain,
        remove_nan=True,
    )
    return est


def rao_scott(with_fpc: bool) -> dict[str, float]:
    """svy's Rao-Scott F for satisfaction x age group among answered rows."""
    data = pl.read_csv(HERE / "design_sample.csv")
    psus = data.group_by("stratum").agg(pl.col("community").n_unique().alias("n_psu"))
    data = (
        data.drop_nulls("satisfaction")
        .join(psus, on="stratum")
        .with_columns(
            pl.col("satisfaction").cast(pl.Int64).cast(pl.Utf8).alias("sat"),
            (pl.col("n_psu") / (1 - pl.col("fpc"))).round(6).alias("population_psus"),
        )
    )
    design = svy.Design(
        stratum="stratum",
        psu="community",
        wgt="weight",
        pop_size="population_psus" if with_fpc else None,
    )
    stats = svy.Sample(data, design).categorical.tabulate("sat", "age_group").stats
    return {
        "f": float(stats.f.value),
        "df_num": float(stats.f.df_num),
        "df_den": float(stats.f.df_den),
        "p_value": float(stats.f.p_value),
    }


def main() -> None:
    frame = make_sample()
    frame.to_csv(HERE / "design_sample.csv", index=False)
    satisfaction = frame["satisfaction"].to_numpy(dtype=float)
    answered = frame["satisfaction"].notna()
    top2 = np.where(answered, (frame["satisfaction"] >= 4).astype(float), np.nan)

    mean = estimate(PopParam.mean, frame, satisfaction)
    total = estimate(PopParam.total, frame, satisfaction)
    prop = estimate(PopParam.prop, frame, top2)
    by_age = estimate(PopParam.mean, frame, satisfaction, domain=frame["age_group"].to_numpy())

    def scalar(value):
        if isinstance(value, dict):
            (value,) = value.values()
        return float(value)

    reference = {
        "producer": "samplics 0.6.1 TaylorEstimator, see make_samplics_reference.py",
        "mean": {"estimate": scalar(mean.point_est), "se": scalar(mean.stderror)},
        "total": {"estimate": scalar(total.point_est), "se": scalar(total.stderror)},
        "top2_share": {
            "estimate": float(prop.point_est[1.0]),
            "se": float(prop.stderror[1.0]),
            "ci_low": float(prop.lower_ci[1.0]),
            "ci_high": float(prop.upper_ci[1.0]),
        },
        "mean_by_age_group": {
            str(k): {"estimate": float(by_age.point_est[k]), "se": float(by_age.stderror[k])}
            for k in by_age.point_est
        },
    }
    reference["rao_scott_satisfaction_by_age"] = rao_scott(with_fpc=False)
    reference["rao_scott_satisfaction_by_age_with_fpc"] = rao_scott(with_fpc=True)
    reference["producer"] += "; svy 0.35.0 Sample.categorical.tabulate for rao_scott_*"
    (HERE / "design_reference.json").write_text(json.dumps(reference, indent=2) + "\n")


if __name__ == "__main__":
    main()
