"""A campaign's declared sampling design (``settings.design`` of its file) turned into weights
and a `SamplingDesign` over the analysed responses, optionally raked to population margins
with the calibration recorded, and the `DesignReport` that says how the estimates were made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.categories import FloatArray, category_codes
from analysis.design import DEFF_KINDS, INTERVALS, PROPORTION_METHODS
from analysis.errors import DesignError, UnknownOptionError, check_columns
from analysis.results import Result
from analysis.variance import (
    LONELY_PSU,
    Calibration,
    PreparedDesign,
    SamplingDesign,
    active_units,
    prepare_design,
)
from analysis.weighting import (
    Margins,
    RakingReport,
    WeightSummary,
    raked_weights,
    weight_summary,
)
from minsheng.problems import Problem

WEIGHT = "__weight__"
BASE_WEIGHT = "__base_weight__"
FRACTION = "__sampling_fraction__"
KEYS = (
    "strata",
    "clusters",
    "population",
    "lonely_psu",
    "proportion_ci",
    "design_effect",
    "interval",
)


@dataclass(frozen=True)
class DeclaredDesign(Result):
    """How a campaign's respondents were sampled, as its file declares under
    ``settings.design``::

        settings:
          design:
            strata: district            # a single-choice question or response metadata
            clusters: collection_point  # optional: primary sampling units within strata
            population: {jinjiang: 904000, wuhou: 1210000}   # units per stratum (PSUs when
                                        # clustered): weights N_h / n_h and the fpc n_h / N_h
            lonely_psu: remove          # fail (default) or remove
            proportion_ci: logit        # logit (default), arcsine, korn-graubard, wald
            design_effect: without-replacement   # (default) or with-replacement
            interval: t                 # t(df) (default) or normal

    ``population`` may be a single number when there are no strata. Without it every
    respondent weighs 1 and there is no finite population correction.
    """

    strata: str | None = None
    clusters: str | None = None
    population: dict[str, float] | None = None
    lonely_psu: str = "fail"
    proportion_ci: str = "logit"
    design_effect: str = "without-replacement"
    interval: str = "t"


def declared_design(settings: Mapping[str, Any] | None) -> DeclaredDesign | None:
    """The design of a campaign file's ``settings`` (None when it declares none); raises
    `UnknownOptionError` naming every malformed or unknown entry."""
    raw = settings.get("design") if isinstance(settings, Mapping) else None
    if raw is None:
        return None
    where = "settings.design"
    if not isinstance(raw, Mapping):
        raise UnknownOptionError([Problem(where, "expected a mapping of strata, clusters, ...")])
    problems = [
        Problem(f"{where}.{key}", f"unknown entry; expected one of {', '.join(KEYS)}")
        for key in raw
        if key not in KEYS
    ]
    names: dict[str, str | None] = {}
    for key in ("strata", "clusters"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(f"{where}.{key}", "expected the name of a column"))
        names[key] = value if isinstance(value, str) else None
    choices = {
        "lonely_psu": LONELY_PSU,
        "proportion_ci": PROPORTION_METHODS,
        "design_effect": DEFF_KINDS,
        "interval": INTERVALS,
    }
    chosen: dict[str, str] = {}
    for key, allowed in choices.items():
        value = raw.get(key, DeclaredDesign.__dataclass_fields__[key].default)
        if value not in allowed:
            problems.append(
                Problem(f"{where}.{key}", f"got {value!r}; expected one of {', '.join(allowed)}")
            )
        chosen[key] = str(value)
    population = _population(raw.get("population"), names["strata"], problems)
    if problems:
        raise UnknownOptionError(problems)
    return DeclaredDesign(
        strata=names["strata"], clusters=names["clusters"], population=population, **chosen
    )


def _population(raw: Any, strata: str | None, problems: list[Problem]) -> dict[str, float] | None:
    where = "settings.design.population"
    if raw is None:
        return None
    if _is_number(raw) and strata is None:
        return {"": float(raw)}
    if not isinstance(raw, Mapping) or not all(_is_number(v) and v > 0 for v in raw.values()):
        expected = "{stratum: units}" if strata else "a number (no strata are declared)"
        problems.append(Problem(where, f"expected {expected}, every count > 0"))
        return None
    if strata is None:
        problems.append(Problem(where, "population per stratum needs settings.design.strata"))
    return {str(k): float(v) for k, v in raw.items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class DesignReport(Result):
    """What a survey statistician signs: how every weighted estimate's variance was computed.

    ``variance`` is ``taylor-linearisation`` (design-based: strata, clusters, fpc and
    calibration taken into account) or ``kish-effective-n`` (ad-hoc weights without a
    design: intervals on Kish's effective n, labelled as an approximation). ``calibration``
    is ``raking``, ``post-stratification`` or None; ``calibrated_variance`` says the standard
    errors use the calibration residuals. ``df`` is PSUs minus strata.
    """

    variance: str
    strata: str | None
    n_strata: int
    clusters: str | None
    n_psu: int
    df: int
    fpc: bool
    population_total: float | None
    calibration: str | None
    calibration_margins: tuple[str, ...]
    calibrated_variance: bool
    proportion_ci: str
    interval: str
    design_effect: str
    lonely_psu: str
    weights: WeightSummary


@dataclass(frozen=True)
class AnalysisDesign:
    """The analysed responses' design: its columns, their `SamplingDesign`, and the report."""

    frame: pd.DataFrame
    sampling: SamplingDesign
    prepared: PreparedDesign
    raking: RakingReport | None
    report: DesignReport
    options: DeclaredDesign

    @property
    def weights(self) -> FloatArray:
        return self.prepared.weights


def analysis_design(
    frame: pd.DataFrame,
    declared: DeclaredDesign | None,
    margins: Margins | None = None,
    bounds: tuple[float, float] | None = None,
    base_weights: npt.NDArray[np.float64] | None = None,
) -> AnalysisDesign:
    """Weights and design of ``frame`` (the responses kept by the quality rules): the declared
    design's weights N_h / n_h (1 without a population), times ``base_weights`` if given, raked
    to ``margins`` if given; the calibration is recorded so its variance is the residuals'."""
    columns = [c for c in (declared.strata, declared.clusters) if c] if declared else []
    check_columns(list(frame.columns), columns)
    n = len(frame)
    base = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=np.float64)
    fraction = None
    if declared is not None and declared.population is not None:
        design_weights, fraction = _stratum_weights(frame, declared)
        base = base * design_weights
    data = {name: frame[name] for name in columns}
    raking = None
    weights = base
    calibration = None
    if margins:
        variables = sorted(
            {v for key in margins for v in ((key,) if isinstance(key, str) else key)}
        )
        check_columns(list(frame.columns), variables)
        raked = raked_weights(frame[variables], margins, base, bounds=bounds)
        weights, raking = np.asarray(raked.weights, dtype=np.float64), raked.report
        data.update({v: frame[v] for v in variables})
        calibration = Calibration(base_weights=BASE_WEIGHT, margins=tuple(margins))
    design_frame = pd.DataFrame(data).assign(**{WEIGHT: weights, BASE_WEIGHT: base})
    if fraction is not None:
        design_frame[FRACTION] = fraction
    sampling = SamplingDesign(
        weights=WEIGHT,
        strata=declared.strata if declared else None,
        clusters=declared.clusters if declared else None,
        fpc=FRACTION if fraction is not None else None,
        lonely_psu=declared.lonely_psu if declared else "fail",
        calibration=calibration,
    )
    prepared = prepare_design(design_frame, sampling)
    report = _report(declared, sampling, prepared, raking)
    return AnalysisDesign(
        design_frame, sampling, prepared, raking, report, declared or DeclaredDesign()
    )


def _stratum_weights(
    frame: pd.DataFrame, declared: DeclaredDesign
) -> tuple[FloatArray, FloatArray]:
    """N_h / n_h for every row (n_h respondents, or PSUs when clustered) and the sampling
    fraction n_h / N_h of its stratum."""
    assert declared.population is not None
    n = len(frame)
    if declared.strata is None:
        codes, levels = np.zeros(n, dtype=np.int64), [""]
    else:
        codes, found = category_codes(frame[declared.strata])
        levels = [str(level) for level in found]
        if (codes < 0).any():
            raise DesignError(
                [
                    Problem(
                        f"strata `{declared.strata}`",
                        f"{int((codes < 0).sum())} responses have no value",
                    )
                ]
            )
    present = np.bincount(codes, minlength=len(levels)) > 0
    missing = [levels[i] for i in np.flatnonzero(present) if levels[i] not in declared.population]
    if missing:
        raise DesignError(
            [
                Problem(
                    "settings.design.population",
                    f"strata {', '.join(map(repr, missing))} have respondents but no "
                    "population count",
                )
            ]
        )
    sizes = np.array([declared.population.get(level, 0.0) for level in levels])
    if declared.clusters is None:
        sampled = np.bincount(codes, minlength=len(levels)).astype(np.float64)
    else:
        pairs = pd.DataFrame(
            {"h": codes, "c": frame[declared.clusters].to_numpy()}
        ).drop_duplicates()
        sampled = np.bincount(pairs["h"].to_numpy(), minlength=len(levels)).astype(np.float64)
    over = [levels[i] for i in np.flatnonzero(present & (sampled > sizes))]
    if over:
        raise DesignError(
            [
                Problem(
                    "settings.design.population",
                    f"strata {', '.join(map(repr, over))} have more sampled units than "
                    "their population",
                )
            ]
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(sampled > 0, sizes / sampled, 0.0)
        fraction = np.where(sizes > 0, sampled / sizes, 0.0)
    return weight[codes], fraction[codes]


def _report(
    declared: DeclaredDesign | None,
    sampling: SamplingDesign,
    prepared: PreparedDesign,
    raking: RakingReport | None,
) -> DesignReport:
    n_psu, n_strata = active_units(prepared, prepared.weights > 0)
    options = declared or DeclaredDesign()
    margins = sampling.calibration.margins if sampling.calibration else ()
    return DesignReport(
        variance="taylor-linearisation",
        strata=sampling.strata,
        n_strata=n_strata,
        clusters=sampling.clusters,
        n_psu=n_psu,
        df=n_psu - n_strata,
        fpc=sampling.fpc is not None,
        population_total=float(prepared.weights.sum()) if options.population else None,
        calibration=None if raking is None else raking.method,
        calibration_margins=tuple(m if isinstance(m, str) else " x ".join(m) for m in margins),
        calibrated_variance=sampling.calibration is not None,
        proportion_ci=options.proportion_ci,
        interval=options.interval,
        design_effect=options.design_effect,
        lonely_psu=options.lonely_psu,
        weights=weight_summary(prepared.weights),
    )
