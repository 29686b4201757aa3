"""The report's layout read from outside: tagged PDF with its metadata (pdfinfo), "第 X 页 共 Y 页"
footers, charts that fit an A4 page however many options a question has, and suppressed shares
drawn as suppressed, never as zero-width bars."""

from __future__ import annotations

import base64
import random
import re
import subprocess

from analysis.frames import answers_frame
from analysis.summary import summarize, summarize_frame
from analysis.suppression import suppress_summary
from exporters.fonts import find_cjk_font
from exporters.pdf_report import ReportFacts, campaign_facts, render_campaign_report, report_html
from questionnaire.schema import parse_form

from .test_pdf_report import pdf_text

#: The height of an A4 page's text block in points (297 mm less the 26 mm and 24 mm margins).
TEXT_BLOCK_PT = (297 - 26 - 24) / 25.4 * 72


def pdf_info(path, *options: str) -> dict[str, str]:
    lines = subprocess.run(
        ["pdfinfo", *options, str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def test_report_is_a_tagged_pdf_whose_metadata_name_the_office_version_snapshot_and_software(
    session, campaign, add_responses, tmp_path
):
    import minsheng

    add_responses(40)
    path = render_campaign_report(session, campaign, tmp_path, version="3")
    info = pdf_info(path)
    assert info["Tagged"] == "yes"
    assert info["Title"].startswith("交通出行专项征集")
    assert info["Author"] == "人民建议征集办公室"
    assert f"minsheng {minsheng.__version__}" in info["Creator"]
    custom = pdf_info(path, "-custom")
    assert custom["reportversion"] == "3"
    assert custom["snapshot"] == f"{campaign.slug}:40:" + custom["snapshot"].rsplit(":", 1)[1]
    assert custom["software"] == f"minsheng {minsheng.__version__}"

    text = pdf_text(path)
    pages = int(info["Pages"])
    footers = re.findall(r"第 (\d+) 页 共 (\d+) 页", text)
    # Every page but the cover says which it is, out of all the file's pages.
    assert [int(page) for page, _ in footers] == list(range(2, pages + 1))
    assert {int(total) for _, total in footers} == {pages}
    cover = text.split("\f", 1)[0]
    for expected in ("发布单位", "人民建议征集办公室", "版本", "3", "内部资料"):
        assert expected in cover, expected


def _many_options_form(n_options: int):
    choices = [{"name": f"c{i:02d}", "label": {"zh": f"社区{i:02d}"}} for i in range(n_options)]
    return parse_form(
        {
            "settings": {"form_id": "many", "default_language": "zh", "form_title": "t"},
            "choices": {
                "community": choices,
                "scale": [{"name": str(i), "label": {"zh": f"{i}分"}} for i in range(1, 6)],
            },
            "survey": [
                {
                    "type": "select_one community",
                    "name": "community",
                    "label": {"zh": "您住在哪个社区？"},
                },
                {
                    "type": "select_one scale",
                    "name": "sat",
                    "label": {"zh": "满意度"},
                    "appearance": "likert",
                },
            ],
        },
        source="test",
    )


def _chart_of(html: str, name: str) -> str:
    article = html.split(f'id="q-{name}"', 1)[1].split("</article>", 1)[0]
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', article)
    assert data is not None
    return base64.b64decode(data.group(1)).decode("utf-8")


def test_a_sixty_option_question_gets_a_chart_that_fits_the_page_and_a_table_of_all(app):
    form = _many_options_form(60)
    rng = random.Random(4)
    answers = [
        {"community": f"c{rng.randrange(60):02d}", "sat": rng.choice("12345")} for _ in range(3000)
    ]
    summary = summarize_frame(answers_frame(answers, form), form).to_dict()
    font = find_cjk_font(app.config["CJK_FONT_FAMILY"])
    html = report_html(summary, ReportFacts(title={"zh": "社区调查"}, theme="社区"), font)

    svg = _chart_of(html, "community")
    height = float(re.search(r'<svg[^>]*height="([\d.]+)pt"', svg).group(1))
    assert height < TEXT_BLOCK_PT * 0.8, height
    assert "图中列出 60 个选项中占比最高的 30 项，全部选项见下表。" in html
    table = html.split('id="q-community"', 1)[1].split("</article>", 1)[0]
    assert table.count("<tr") == 1 + 60 + 1  # header, every option, base


def test_suppressed_shares_are_drawn_hatched_and_never_as_bars_of_zero(
    app, session, campaign, add_responses
):
    add_responses(12)
    summary = suppress_summary(summarize(session, campaign).to_dict(), 5)
    mode = next(q for q in summary["questions"] if q["name"] == "commute_mode")
    assert any(row["suppressed"] for row in mode["rows"])
    html = report_html(
        summary, campaign_facts(session, campaign), find_cjk_font(app.config["CJK_FONT_FAMILY"])
    )
    for name in ("commute_mode", "sat_parking"):
        svg = _chart_of(html, name)
        assert "<pattern" in svg, name  # the hatch of the suppressed band or segment
    assert ">已抑制<" in _chart_of(html, "commute_mode")
