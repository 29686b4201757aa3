"""The report's methods say how its figures were estimated: the design-based method with its
strata, PSUs, degrees of freedom, calibration and design-effect convention when the campaign
declares a design, and no false promise about a Wald interval."""

from __future__ import annotations

import re

from analysis.summary import summarize
from exporters.fonts import find_cjk_font
from exporters.pdf_report import campaign_facts, report_html

from .conftest import DISTRICTS

POPULATION = {name: 100000 * (i + 1) for i, name in enumerate(DISTRICTS)}
AGES = {"a18_29": 250000, "a30_44": 250000, "a45_59": 250000, "a60_plus": 250000}


def _methods(app, session, campaign, **options):
    summary = summarize(session, campaign, **options).to_dict()
    html = report_html(
        summary, campaign_facts(session, campaign), find_cjk_font(app.config["CJK_FONT_FAMILY"])
    )
    text = re.sub(r"<[^>]+>", "", html.split('id="methods"', 1)[1].split("</section>", 1)[0])
    return summary, re.sub(r"\s+", "", text)


def test_a_declared_design_is_stated_in_the_methods_with_its_degrees_of_freedom(
    app, session, campaign, add_responses
):
    add_responses(200)
    campaign.settings = {
        **(campaign.settings or {}),
        "design": {"strata": "district", "population": POPULATION},
        "weighting": {"margins": {"age_group": AGES}},
    }
    session.commit()
    summary, methods = _methods(app, session, campaign)
    design = summary["design"]
    assert summary["estimation"] == "design-based" and design["calibrated_variance"]
    assert "各项百分比是按抽样设计对总体的估计" in methods
    assert f"涉及{design['n_strata']}个层、{design['n_psu']}个初级抽样单元" in methods
    assert "并采用对总体边际校准后的残差" in methods
    assert f"按logit方法、自由度为{design['df']}的t分布" in methods
    assert "设计效应将各项方差与同样本量的不放回简单随机抽样相比" in methods
    assert "始终位于0–100%之间" not in methods


def test_a_wald_interval_is_not_said_to_stay_within_0_to_100(app, session, campaign, add_responses):
    add_responses(40)
    _, wald = _methods(app, session, campaign, method="wald")
    assert "该方法的区间上下限可能超出0–100%" in wald
    assert "始终位于0–100%之间" not in wald
    _, wilson = _methods(app, session, campaign)
    assert "始终位于0–100%之间" in wilson
