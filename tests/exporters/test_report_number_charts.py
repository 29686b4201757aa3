"""NPS, number and ranking questions in the report: each gets the chart for its type (NPS as
detractors, passives and promoters; a number as a box plot; a ranking as the share ranking
each option first) and a table of its own statistics, read back from the PDF."""

from __future__ import annotations

import base64
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest

from analysis.loading import campaign_form
from analysis.summary import summarize
from exporters.appendices import choice_labels
from exporters.fonts import find_cjk_font
from exporters.pdf_report import campaign_facts, render_campaign_report, report_html
from forms.ingest import Submission, submit_response
from forms.publishing import current_version

from .test_pdf_report import pdf_text

pytestmark = pytest.mark.campaign_file(Path(__file__).parent / "every_type.yaml")


def _answers(rng: random.Random) -> dict:
    return {
        "district": rng.choice(["jinjiang", "wuhou"]),
        "mode": rng.choice(["metro", "bus", "car"]),
        "modes": rng.sample(["metro", "bus", "car"], 2),
        "ranked": rng.sample(["metro", "bus", "car"], 3)
        if rng.random() < 0.5
        else ["metro", "car", "bus"],
        "sat_bus": rng.choice("12345"),
        "sat_metro": rng.choice("2345"),
        "nps": rng.choices(range(11), [1, 1, 1, 2, 2, 3, 4, 6, 8, 6, 5])[0],
        "age": rng.randint(18, 80),
        "km": round(rng.uniform(0.5, 30), 1),
    }


@pytest.fixture()
def answered(session, campaign):
    rng = random.Random(3)
    version = current_version(session, campaign)
    given = [_answers(rng) for _ in range(120)]
    for i, answers in enumerate(given):
        submit_response(
            session,
            campaign,
            version,
            answers,
            Submission(submission_id=f"nps-{i:04d}", channel="web"),
        )
    session.commit()
    return given


def _chart_of(html: str, name: str) -> str:
    article = html.split(f'id="q-{name}"', 1)[1].split("</article>", 1)[0]
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', article)
    assert data is not None, name
    return base64.b64decode(data.group(1)).decode("utf-8")


def test_nps_numbers_and_rankings_get_their_charts_and_tables(
    app, session, campaign, answered, tmp_path
):
    path = render_campaign_report(session, campaign, tmp_path)
    text = pdf_text(path)
    scores = [a["nps"] for a in answered]
    nps = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    assert f"净推荐值： {nps:+.1f}" in text or f"净推荐值：{nps:+.1f}" in text, nps
    assert "推荐者（9–10 分）" in text and "贬损者（0–6 分）" in text
    ages = sorted(a["age"] for a in answered)
    assert "中位数" in text and "下四分位数" in text
    assert f"{sum(ages) / len(ages):,.2f}" in text  # the mean age in the statistics table
    assert "排第一位的百分比" in text
    first = sum(a["ranked"][0] == "metro" for a in answered) / len(answered)
    assert f"{100 * first:.1f}%" in text  # metro ranked first, in the ranking table

    facts = replace(
        campaign_facts(session, campaign),
        choice_labels=choice_labels(campaign_form(session, campaign), "zh"),
    )
    html = report_html(
        summarize(session, campaign).to_dict(), facts, find_cjk_font(app.config["CJK_FONT_FAMILY"])
    )
    assert "推荐者（9–10 分）" in _chart_of(html, "nps")  # the stacked NPS bar's legend
    box = _chart_of(html, "age")
    assert box.count("<path") >= 4  # box, whiskers, caps, median, mean marker
    assert "地铁" in _chart_of(html, "ranked")
