"""The PDF thematic report: Chinese text that can be read back, an embedded CJK font, and a clear
error instead of empty boxes when no CJK font is installed."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

import pytest

from exporters.fonts import FontMissingError
from exporters.pdf_report import render_campaign_report


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_fonts(path) -> list[list[str]]:
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [line.split() for line in lines[2:]]


def test_report_reads_back_in_chinese_with_labels_percentages_and_an_embedded_cjk_font(
    session, campaign, add_responses, tmp_path
):
    answers = add_responses(300)
    path = render_campaign_report(session, campaign, tmp_path)

    assert path.parent == tmp_path and path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    for expected in (
        "交通出行专项征集",
        "人民建议征集专题报告",
        "您最主要的通勤方式是？",
        "您认为目前出行中最突出的问题是？",
        "您对停车便利程度的满意程度",
        "95% 置信区间",
        "基数：n = 300",
        "满意度总览",
    ):
        assert expected in text, expected
    # The table of contents lists each question with the page it starts on.
    assert re.search(r"3\.3 您最主要的通勤方式是？[ .]*\d+\n", text)
    modes = Counter(a["commute_mode"] for a in answers)
    for mode, label in (("metro", "地铁"), ("bus", "公交"), ("car", "私家车")):
        # The table row (the chart's label line has no interval).
        line = next(
            line
            for line in text.splitlines()
            if line.strip().startswith(label + " ") and "–" in line
        )
        assert f"{100 * modes[mode] / 300:.1f}%" in line, line
        assert str(modes[mode]) in line.split()
    satisfied = sum(a["sat_parking"] in ("4", "5") for a in answers)
    assert f"满意率（满意、非常满意）：{100 * satisfied / 300:.1f}%" in re.sub(r"\s+", "", text)

    fonts = pdf_fonts(path)
    cjk = [row for row in fonts if "CJK" in row[0]]
    assert cjk, fonts
    # Columns: name, type..., encoding, emb, sub, uni, object, id; "emb" is 5th from the end.
    assert all(row[-5] == "yes" for row in cjk), cjk


def test_missing_cjk_font_stops_with_the_package_to_install(other_app, session, campaign, tmp_path):
    app = other_app(CJK_FONT_FAMILY="Nonexistent Sans CJK XX")
    with app.app_context(), pytest.raises(FontMissingError) as raised:
        from minsheng.db import get_session

        other = get_session()
        render_campaign_report(other, other.merge(campaign), tmp_path)
    message = str(raised.value)
    assert "Nonexistent Sans CJK XX" in message
    assert "apt-get install fonts-noto-cjk" in message
    assert list(tmp_path.iterdir()) == []


def test_department_edition_hides_cells_below_the_threshold(
    session, campaign, add_responses, tmp_path
):
    answers = add_responses(12)
    path = render_campaign_report(session, campaign, tmp_path, audience="department")
    text = pdf_text(path)

    assert "人数少于 5 的单元格" in text
    modes = Counter(a["commute_mode"] for a in answers)
    small = [mode for mode, n in modes.items() if 0 < n < 5]
    assert small, modes
    labels = {"metro": "地铁", "bus": "公交", "car": "私家车", "ebike": "电动自行车",
              "bike": "自行车/共享单车", "walk": "步行", "taxi": "出租车/网约车"}  # fmt: skip
    for mode in small:
        row = next(
            line.split()
            for line in text.splitlines()
            if line.strip().startswith(labels[mode] + " ") and "—" in line
        )
        assert row == [labels[mode], "—", "—", "—"], row


def test_campaign_without_responses_gets_a_report_that_says_so(session, campaign, tmp_path):
    text = pdf_text(render_campaign_report(session, campaign, tmp_path))
    assert "交通出行专项征集" in text
    assert "基数：n = 0" in text


def test_report_can_be_written_in_english(app, session, campaign, add_responses):
    from analysis.summary import summarize
    from exporters.fonts import find_cjk_font
    from exporters.pdf_report import campaign_facts, report_html

    add_responses(20)
    html = report_html(
        summarize(session, campaign).to_dict(),
        campaign_facts(session, campaign),
        find_cjk_font(app.config["CJK_FONT_FAMILY"]),
        language="en",
    )
    for expected in ("Transport and Mobility Campaign", "1 Overview", "2 Methods", "Metro"):
        assert expected in html, expected
    assert "How do you mainly commute?" in html
    assert "总体情况" not in html
