"""The report PDF's structure read back with pypdf: bookmarks for every chapter and question,
page labels that match the printed page numbers, the appendices, and the PDF/A variant with
its XMP identification."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from exporters.page_labels import LabelledPart, label_pages
from exporters.pdf_report import render_campaign_report

from .test_pdf_report import pdf_text


def _outline(reader: PdfReader) -> list[tuple[int, str]]:
    """The outline as (depth, title), depth 0 for the top level, in order."""
    flat: list[tuple[int, str]] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                flat.append((depth, str(item.title)))

    walk(reader.outline, 0)
    return flat


def test_bookmarks_hold_each_chapter_and_under_results_each_question(
    session, campaign, add_responses, tmp_path
):
    add_responses(60)
    reader = PdfReader(render_campaign_report(session, campaign, tmp_path))
    outline = _outline(reader)
    top = [title for depth, title in outline if depth == 0]
    assert top[:4] == ["目录", "一、总体情况", "二、调查方法", "三、调查结果"], top
    assert "附录" in top
    results = [t for d, t in outline if d == 1 and re.match(r"3\.\d+ ", t)]
    # Every choice question of the transport questionnaire, numbered as in the contents.
    assert len(results) == 8, results
    assert any("停车" in t for t in results)
    appendices = outline[[t for _, t in outline].index("附录") + 1 :]
    assert [t for d, t in appendices if d == 1][:4] == [
        "附录一　调查问卷",
        "附录二　样本构成",
        "附录三　完整交叉表",
        "附录四　术语说明",
    ]
    # A bookmark opens its page: the first question's page prints that question's heading.
    under_results = reader.outline[reader.outline.index(_top(reader, "三、调查结果")) + 1]
    first = under_results[0]
    assert str(first.title).startswith("3.1 ")
    page = reader.get_destination_page_number(first)
    assert "您居住在哪个区" in reader.pages[page].extract_text()


def _top(reader: PdfReader, title: str):
    return next(i for i in reader.outline if not isinstance(i, list) and i.title == title)


def test_page_labels_name_the_cover_and_appendices_and_follow_the_printed_numbers(
    session, campaign, add_responses, tmp_path
):
    add_responses(60)
    path = render_campaign_report(session, campaign, tmp_path)
    reader = PdfReader(path)
    labels = reader.page_labels
    assert labels[0] == "封面"
    pages = pdf_text(path).split("\f")
    appendix_start = next(
        i for i, text in enumerate(pages) if i > 1 and re.search(r"附录一\s+调查问卷", text)
    )
    for index in range(1, len(reader.pages)):
        printed = re.search(r"第 (\d+) 页 共", pages[index]).group(1)
        expected = f"附录 {printed}" if index >= appendix_start else printed
        assert labels[index] == expected, (index, labels[index])


def test_appendices_give_the_questionnaire_the_sample_profile_full_tables_and_glossary(
    session, campaign, add_responses, tmp_path
):
    add_responses(80)
    text = pdf_text(render_campaign_report(session, campaign, tmp_path))
    contents_end = re.search(r"附录四\s+术语说明", text).end()
    appendix = text[re.search(r"附录一\s+调查问卷", text[contents_end:]).start() + contents_end :]
    # The questionnaire: question text, type and choices as the respondent saw them.
    assert "您主要的通勤方式是？" in appendix or "通勤方式" in appendix
    assert "单选题" in appendix and "多选题" in appendix
    assert "地铁" in appendix
    # The sample profile by segment, and a crosstab in full with its column bases.
    assert "样本占比" in appendix
    assert "基数（n）" in appendix
    assert "×" in appendix
    assert "净推荐值（NPS）" in appendix and "设计效应" in appendix


def test_a_report_asked_for_the_archive_is_pdf_a_3a_and_still_tagged(
    session, campaign, add_responses, tmp_path
):
    add_responses(30)
    reader = PdfReader(render_campaign_report(session, campaign, tmp_path, pdf_variant="pdf/a-3a"))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode("utf-8")
    assert re.search(r"pdfaid:part[>=\"]+3", raw), raw[:400]
    assert re.search(r"pdfaid:conformance[>=\"]+A", raw), raw[:400]
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"]
    assert reader.page_labels[0] == "封面"


def test_an_unknown_pdf_variant_is_refused_with_the_ones_offered(session, campaign, tmp_path):
    with pytest.raises(
        ValueError, match=r"unknown PDF variant 'pdf/x-9'; expected one of pdf/ua-1"
    ):
        render_campaign_report(session, campaign, tmp_path, pdf_variant="pdf/x-9")


def test_a_page_label_style_outside_the_standard_is_refused():
    with pytest.raises(ValueError, match="unknown page label style 'A'"):
        label_pages([LabelledPart("x", style="A")])
