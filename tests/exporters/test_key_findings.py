"""The executive summary: sentences built from the summary's own numbers, most important first,
group differences only where they survive the multiple-comparison control, and an
importance-satisfaction matrix when both are asked."""

from __future__ import annotations

import random
import re
from pathlib import Path

from analysis.frames import answers_frame
from analysis.proportions import proportion_ci
from analysis.summary import summarize, summarize_frame
from campaigns.definition import read_campaign_file
from exporters.key_findings import (
    Estimate,
    Wording,
    key_findings,
    priority_matrix,
    priority_pairs,
)
from exporters.locales import report_translations
from exporters.pdf_report import render_campaign_report
from questionnaire.schema import parse_form

from .test_pdf_report import pdf_text

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
ZH = report_translations("zh_CN").gettext


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_report_leads_with_the_lowest_satisfaction_in_the_summarys_numbers(
    session, campaign, add_responses, tmp_path
):
    add_responses(300)
    summary = summarize(session, campaign)
    box = summary.question("sat_parking").top_box
    assert box is not None and box.ci_low is not None and box.ci_high is not None

    text = pdf_text(render_campaign_report(session, campaign, tmp_path))
    overview = flat(text.split("主要发现", 1)[1].split("满意度总览", 1)[0])
    first = overview.split("2.", 1)[0]
    assert first.startswith("1.满意度最低的是“您对停车便利程度的满意程度”")
    assert (
        f"{100 * box.estimate:.1f}%（95%CI{100 * box.ci_low:.1f}–{100 * box.ci_high:.1f}%，"
        f"n={box.n_unweighted:,}）"
    ) in first
    # Who answered is no finding: no "most chose X" line for district or age group.
    assert "选择“" not in overview and "您居住在哪个区：" not in overview


def _transport_frame(n: int, seed: int) -> tuple:
    form = read_campaign_file(EXAMPLE).form
    rng = random.Random(seed)
    answers = []
    for _ in range(n):
        district = rng.choice(["jinjiang", "wuhou", "pidu"])
        # Bus satisfaction depends on the district; age has nothing to do with anything.
        good = {"jinjiang": 0.6, "wuhou": 0.35, "pidu": 0.1}[district]
        answers.append(
            {
                "district": district,
                "age_group": rng.choice(["a18_29", "a30_44", "a45_59", "a60_plus"]),
                "commute_mode": rng.choice(["metro", "bus", "car"]),
                "commute_time": rng.choice(["lt15", "m15_30"]),
                "problems": ["congestion"],
                "sat_bus": rng.choice(["4", "5"]) if rng.random() < good else rng.choice("123"),
                "sat_metro": rng.choice("12345"),
                "sat_parking": rng.choice("12345"),
            }
        )
    return answers_frame(answers, form), form


def test_a_real_difference_between_districts_is_said_in_plain_words_and_noise_is_not():
    frame, form = _transport_frame(1500, 3)
    summary = summarize_frame(frame, form, segments=("district", "age_group")).to_dict()
    findings = key_findings(summary, ZH)
    differences = [f for f in findings if f.kind == "difference"]

    assert [f.question for f in differences] == ["sat_bus"]
    sentence = flat(differences[0].sentence)
    assert sentence.startswith("按“您居住在哪个区”分组，“您对公交服务的满意程度”的满意率差异明显")
    assert "“郫都区”组最低" in sentence and "“锦江区”组最高" in sentence
    assert "校正后p<0.001" in sentence
    # Ranked: the weakest satisfaction first, then the differences, then the rest.
    kinds = [f.kind for f in findings]
    assert kinds.index("lowest_satisfaction") < kinds.index("difference")
    scan = summary["crosstabs"]
    tested = [
        (t["row_variable"], t["column_variable"], significant)
        for t, significant in zip(scan["tables"], scan["comparison"]["significant"], strict=True)
    ]
    assert ("sat_bus", "district", True) in tested
    assert not any(sig for _, segment, sig in tested if segment == "age_group")


PRIORITY_FORM = parse_form(
    {
        "settings": {"form_id": "ipa", "default_language": "zh", "form_title": "t"},
        "choices": {"scale": [{"name": str(i), "label": {"zh": f"{i}分"}} for i in range(1, 6)]},
        "survey": [
            {
                "type": "select_one scale",
                "name": f"{kind}_{aspect}",
                "label": {"zh": f"{label}{'的重要性' if kind == 'imp' else '满意度'}"},
                "appearance": "likert",
            }
            for aspect, label in (("bus", "公交"), ("parking", "停车"), ("metro", "地铁"))
            for kind in ("imp", "sat")
        ],
    },
    source="test",
)


def test_important_aspects_with_low_satisfaction_come_first_in_the_priority_matrix():
    rng = random.Random(5)
    # (share important, share satisfied) by aspect.
    shares = {"bus": (0.5, 0.4), "parking": (0.9, 0.1), "metro": (0.8, 0.8)}
    answers = [
        {
            f"{kind}_{aspect}": rng.choice("45") if rng.random() < share else rng.choice("123")
            for aspect, pair in shares.items()
            for kind, share in zip(("imp", "sat"), pair, strict=True)
        }
        for _ in range(800)
    ]
    summary = summarize_frame(answers_frame(answers, PRIORITY_FORM), PRIORITY_FORM).to_dict()
    questions = summary["questions"]
    pairs = priority_pairs(questions, {})
    assert sorted(pairs) == [
        ("imp_bus", "sat_bus"),
        ("imp_metro", "sat_metro"),
        ("imp_parking", "sat_parking"),
    ]

    matrix = priority_matrix(questions, pairs, Wording(ZH, "zh", 95))
    assert [(item.name, item.quadrant) for item in matrix] == [
        ("sat_parking", "improve"),
        ("sat_metro", "keep"),
        ("sat_bus", "watch"),
    ]
    parking = summarize_frame(answers_frame(answers, PRIORITY_FORM), PRIORITY_FORM).question(
        "sat_parking"
    )
    priority = next(f for f in key_findings(summary, ZH, priorities=matrix) if f.kind == "priority")
    assert flat(priority.sentence).startswith(
        "重要性高而满意度低于平均、应优先改进的方面：停车满意度"
    )
    assert f"{100 * parking.top_box.estimate:.1f}" in priority.sentence
    # A campaign file can pair questions that do not follow the imp_/sat_ naming.
    declared = {"report": {"priorities": [{"importance": "imp_bus", "satisfaction": "sat_metro"}]}}
    assert priority_pairs(questions, declared) == [("imp_bus", "sat_metro")]


def test_a_segments_satisfaction_rate_has_the_summarys_own_level_and_interval_method():
    frame, form = _transport_frame(1500, 3)
    summary = summarize_frame(
        frame, form, segments=("district",), alpha=0.1, method="clopper-pearson"
    ).to_dict()
    difference = next(f for f in key_findings(summary, ZH) if f.kind == "difference")
    table = next(
        t
        for t in summary["crosstabs"]["tables"]
        if (t["row_variable"], t["column_variable"]) == ("sat_bus", "district")
    )
    column = table["column_categories"].index("pidu")
    top = [i for i, name in enumerate(table["row_categories"]) if name in ("4", "5")]
    n = table["column_n"][column]
    share = proportion_ci(sum(table["counts"][i][column] for i in top), n, 0.1, "clopper-pearson")
    # The lowest district, pidu, with the 90 % Clopper-Pearson interval the summary uses.
    assert (
        f"“郫都区”组最低，为{100 * share.estimate:.1f}%（90%CI"
        f"{100 * share.ci_low:.1f}–{100 * share.ci_high:.1f}%，n={n:,}）"
    ) in flat(difference.sentence)


def test_a_share_is_never_split_from_its_percent_sign_nor_a_base_from_its_count():
    wording = Wording(ZH, "zh", 95)
    nbsp = "\u00a0"
    assert wording.estimate(Estimate(68.2, 66.1, 70.3, 2104)) == (
        f"68.2{nbsp}%（95{nbsp}%{nbsp}CI 66.1–70.3{nbsp}%，n{nbsp}={nbsp}2,104）"
    )
    assert wording.p_value(0.0001) == f"p{nbsp}<{nbsp}0.001"
