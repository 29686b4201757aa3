"""Charts and fonts: matplotlib draws with the very face that fontconfig (and so WeasyPrint)
resolves, returns inline SVG, and leaves no global state behind."""

from __future__ import annotations

import subprocess

import matplotlib
from matplotlib.font_manager import findfont, get_font

from exporters.charts import Bar, LikertItem, likert_bars, percent_bars
from exporters.fonts import find_cjk_font

SCALE = ["非常不满意", "不满意", "一般", "满意", "非常满意"]


def test_matplotlib_uses_the_face_fontconfig_resolves_for_the_family(app):
    family = app.config["CJK_FONT_FAMILY"]
    font = find_cjk_font(family)
    matched = subprocess.run(
        ["fc-match", "--format", "%{file}|%{index}", f"{family}:lang=zh-cn:weight=regular"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert matched == f"{font.regular.path}|{font.regular.index}"
    path = findfont(font.properties())
    assert (str(path), path.face_index) == (str(font.regular.path), font.regular.index)
    assert get_font(path).family_name == family
    assert get_font(findfont(font.properties(bold=True))).style_name == "Bold"


def test_bar_chart_is_inline_svg_with_chinese_labels_in_the_cjk_family(app):
    font = find_cjk_font(app.config["CJK_FONT_FAMILY"])
    svg = percent_bars(
        [
            Bar("地铁", 38.2, 35.1, 41.4),
            Bar("公交", 21.0, 18.5, 23.7),
            Bar("步行", None, note="已抑制"),
        ],
        font,
        "占有效回答的百分比",
        key="q-mode",
    )
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for text in ("地铁", "公交", "步行", "已抑制", "38.2%", "21.0%", "占有效回答的百分比"):
        assert f">{text}<" in svg, text
    assert f"font-family: '{font.family}'" in svg
    # Ids are scoped by the key, so several charts can share one HTML page.
    assert 'id="patch_1"' not in svg and 'id="q-mode-patch_1"' in svg


def test_likert_chart_labels_each_wide_segment_and_the_scale(app):
    font = find_cjk_font(app.config["CJK_FONT_FAMILY"])
    svg = likert_bars([LikertItem("", [8.0, 15.0, 30.0, 33.0, 14.0])], SCALE, font, "%")
    for text in (*SCALE, "15%", "30%", "33%", "14%"):
        assert f">{text}<" in svg, text


def test_drawing_charts_changes_no_matplotlib_setting_and_keeps_no_figure(app):
    import matplotlib.pyplot as plt

    font = find_cjk_font(app.config["CJK_FONT_FAMILY"])
    before = dict(matplotlib.rcParams)
    percent_bars([Bar("地铁", 38.2, 35.1, 41.4)], font, "%")
    likert_bars([LikertItem("公交", [10.0, 20.0, 40.0, 20.0, 10.0])], SCALE, font, "%")
    assert dict(matplotlib.rcParams) == before
    assert plt.get_fignums() == []


def test_an_option_nobody_chose_draws_although_its_interval_rounds_past_zero(app):
    # proportion_ci(0, 9) gives a Wilson lower bound of 7e-16, a hair above the estimate 0.
    font = find_cjk_font(app.config["CJK_FONT_FAMILY"])
    svg = percent_bars(
        [Bar("郫都区", 0.0, 6.938893903907228e-16, 9.64), Bar("锦江区", 11.1, 4.4, 25.3)],
        font,
        "占有效回答的百分比",
        key="q-district",
    )
    assert ">郫都区<" in svg and ">0.0%<" in svg
