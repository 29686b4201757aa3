"""The questionnaire from the browser: the editor's XLSForm tables published as a version (the
next one when the current has responses), refused with the importer's sheet/row/column problems,
expressions checked as one types, a phone preview that stores nothing, XLSForm workbooks
uploaded and downloaded, and the campaign file downloaded, imported and duplicated."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from campaigns.models import Campaign
from forms.editor import editor_tables
from forms.publishing import current_version, form_of, versions_of
from forms.xlsform import read_xlsform, write_xlsform
from questionnaire.schema import form_to_dict
from tests.factories import ResponseFactory


def _posted(tables, change=None) -> MultiDict:
    """The fields the editor page posts for `tables`; `change(sheet, header, row)` may return a
    new text for a cell (None keeps it)."""
    data: MultiDict = MultiDict()
    for sheet, rows in tables:
        header = rows[0]
        for h in header:
            data.add(f"{sheet}:columns", h)
        for index, row in enumerate(rows[1:]):
            for h, value in zip(header, row, strict=True):
                new = change(sheet, h, index, row) if change else None
                data.add(f"{sheet}:{h}", value if new is None else new)
    return data


def _current_tables(session, campaign):
    return editor_tables(form_of(current_version(session, campaign)))


def _relabel(sheet, header, index, row):
    if sheet == "survey" and header == "label::en" and row[1] == "district":
        return "Your district?"
    return None


def test_the_editor_shows_the_questionnaire_as_xlsform_tables(client, login, campaign):
    login("organizer")
    page = client.get(f"/campaigns/{campaign.slug}/questionnaire?lang=en").get_data(as_text=True)
    assert "Current: version 1" in page
    assert 'value="select_one district"' in page and 'value="district"' in page
    assert 'name="survey:relevant"' in page and 'name="choices:list_name"' in page
    assert "Download as XLSForm (.xlsx)" in page


def test_publishing_unchanged_tables_keeps_the_version_and_a_change_makes_the_next(
    client, login, campaign, session
):
    login("organizer")
    tables = _current_tables(session, campaign)
    url = f"/campaigns/{campaign.slug}/questionnaire?lang=en"
    page = client.post(url, data=_posted(tables), follow_redirects=True)
    assert "Nothing changed: version 1 stays current." in page.get_data(as_text=True)

    page = client.post(url, data=_posted(tables, _relabel), follow_redirects=True)
    assert "Version 2 is published." in page.get_data(as_text=True)
    form = form_of(current_version(session, campaign))
    assert form.question("district").label["en"] == "Your district?"


def test_a_version_with_responses_stays_as_it_was_and_the_page_says_so(
    client, login, campaign, session
):
    ResponseFactory(campaign=campaign)
    session.commit()
    login("organizer")
    url = f"/campaigns/{campaign.slug}/questionnaire?lang=en"
    page = client.get(url).get_data(as_text=True)
    assert (
        "This version has responses, so it is locked: publishing your changes creates version 2"
        in page
    )
    before = form_to_dict(form_of(current_version(session, campaign)))
    tables = _current_tables(session, campaign)
    client.post(url, data=_posted(tables, _relabel))
    versions = versions_of(session, campaign)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].definition == before


def test_problems_name_the_sheet_row_and_column_and_nothing_is_published(
    client, login, campaign, session
):
    login("organizer")
    tables = _current_tables(session, campaign)
    rows = dict(tables)["survey"]
    district = next(i for i, row in enumerate(rows) if row[1] == "district")

    def broken(sheet, header, index, row):
        if sheet == "survey" and row[1] == "district" and header == "relevant":
            return "${age_group} = 'a18_29' and"
        if sheet == "survey" and row[1] == "age_group" and header == "type":
            return "select_one nowhere"
        return None

    page = client.post(
        f"/campaigns/{campaign.slug}/questionnaire?lang=en", data=_posted(tables, broken)
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert f"survey row {district + 1}" in text  # the header is row 1, as the page numbers them
    assert "the expression ends too early at character" in text
    assert "choice list &#39;nowhere&#39; is not defined" in text
    assert [v.number for v in versions_of(session, campaign)] == [1]
    # What was typed is still in the tables.
    assert "${age_group} = &#39;a18_29&#39; and" in text


def test_an_expression_is_checked_as_it_is_typed_with_the_position_of_its_error(
    client, login, campaign
):
    login("organizer")
    url = f"/campaigns/{campaign.slug}/questionnaire/check"
    found = client.post(
        url, json={"column": "relevant", "expression": "${mode} = 'bus' or", "questions": ["mode"]}
    ).get_json()
    assert found["problems"][0]["position"] == 18
    assert "ends too early" in found["problems"][0]["message"]
    found = client.post(
        url, json={"column": "relevant", "expression": "${nobody} = 1", "questions": ["mode"]}
    ).get_json()
    assert "refers to no question" in found["problems"][0]["message"]
    assert found["problems"][0]["position"] == 0
    assert client.post(
        url, json={"column": "relevant", "expression": "${mode} = 'bus'", "questions": ["mode"]}
    ).get_json() == {"problems": []}
    refused = client.post(url, json={"column": "label", "expression": "x"})
    assert refused.status_code == 422


def test_the_preview_shows_every_page_in_the_language_asked_and_stores_nothing(
    client, login, campaign, session
):
    login("organizer")
    tables = _current_tables(session, campaign)
    data = _posted(tables, _relabel)
    data["preview_language"] = "en"
    page = client.post(f"/campaigns/{campaign.slug}/questionnaire/preview", data=data)
    assert page.status_code == 200
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    text = page.get_data(as_text=True)
    assert "Your district?" in text and "How do you mainly commute?" in text
    assert "data-preview" in text and 'id="form-logic"' in text
    assert [v.number for v in versions_of(session, campaign)] == [1]

    data["preview_language"] = "zh"
    text = client.post(f"/campaigns/{campaign.slug}/questionnaire/preview", data=data).get_data(
        as_text=True
    )
    assert "您最主要的通勤方式是？" in text


def test_an_uploaded_workbook_is_published_with_the_importers_row_problems(
    client, login, campaign, session, tmp_path
):
    login("organizer")
    path = tmp_path / "form.xlsx"
    write_xlsform(form_of(current_version(session, campaign)), path)
    book = openpyxl.load_workbook(path)
    survey = book["survey"]
    header = [c.value for c in survey[1]]
    survey.cell(row=3, column=header.index("relevant") + 1, value="${district} =")
    book.save(path)
    url = f"/campaigns/{campaign.slug}/questionnaire/upload?lang=en"
    page = client.post(url, data={"file": (io.BytesIO(path.read_bytes()), "form.xlsx")})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    try:
        read_xlsform(path)
    except Exception as exc:  # the CLI's reader gives the same problems
        first = str(exc.problems[0].message)  # type: ignore[attr-defined]
    assert first.replace("'", "&#39;") in text

    survey.cell(row=3, column=header.index("relevant") + 1).value = None
    survey.cell(row=3, column=header.index("label::en") + 1, value="Your age, please")
    book.save(path)
    page = client.post(url, data={"file": (io.BytesIO(path.read_bytes()), "form.xlsx")})
    assert page.status_code == 302
    assert current_version(session, campaign).number == 2

    download = client.get(f"/campaigns/{campaign.slug}/questionnaire.xlsx")
    assert download.status_code == 200
    back = tmp_path / "back.xlsx"
    back.write_bytes(download.data)
    assert form_to_dict(read_xlsform(back).form) == form_to_dict(
        form_of(current_version(session, campaign))
    )


def test_the_campaign_file_downloads_and_imports_as_a_new_draft_campaign(
    client, login, campaign, session
):
    organizer = login("organizer")
    text = client.get(f"/campaigns/{campaign.slug}/campaign.yaml").get_data(as_text=True)
    assert "slug: transport-2026" in text and "questionnaire:" in text

    # The file says the campaign is open: a new campaign starts as a draft, so it is refused.
    copy = text.replace("slug: transport-2026", "slug: transport-2027")
    page = client.post(
        "/campaigns/import?lang=en", data={"file": (io.BytesIO(copy.encode()), "t.yaml")}
    )
    assert page.status_code == 422
    assert "statuses change on the campaign" in page.get_data(as_text=True)

    copy = copy.replace("status: open", "status: draft")
    page = client.post("/campaigns/import", data={"file": (io.BytesIO(copy.encode()), "t.yaml")})
    assert page.status_code == 302, page.text
    created = session.scalar(select(Campaign).where(Campaign.slug == "transport-2027"))
    assert created.status == "draft" and created.owner_id == organizer.id
    assert form_to_dict(form_of(current_version(session, created))) == form_to_dict(
        form_of(current_version(session, campaign))
    )
    # Downloaded again, the new campaign's file is the uploaded one.
    again = client.get("/campaigns/transport-2027/campaign.yaml").get_data(as_text=True)
    assert again == copy


def test_a_campaign_is_duplicated_as_a_draft_its_maker_owns(client, login, campaign, session):
    organizer = login("organizer")
    url = f"/campaigns/{campaign.slug}/duplicate?lang=en"
    page = client.post(url, data={"slug": campaign.slug, "title_zh": ""})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "is already another campaign" in text and "give the copy" in text

    page = client.post(
        url, data={"slug": "transport-2027", "title_zh": "交通出行专项征集（第二期）"}
    )
    assert page.status_code == 302
    copy = session.scalar(select(Campaign).where(Campaign.slug == "transport-2027"))
    assert copy.status == "draft" and copy.owner_id == organizer.id
    assert copy.title["zh"] == "交通出行专项征集（第二期）"
    assert [p.code for p in copy.collection_points] == [p.code for p in campaign.collection_points]
    assert current_version(session, copy).number == 1


def test_the_campaign_list_offers_a_new_campaign_and_an_import(client, login):
    login("organizer")
    page = client.get("/campaigns/?lang=en").get_data(as_text=True)
    assert 'href="/campaigns/new"' in page and 'href="/campaigns/import"' in page


EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
