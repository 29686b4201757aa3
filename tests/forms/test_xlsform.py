"""XLSForm import and export: our own fixtures in every file format, refusals that name the sheet,
row and column, the round trip, and the `minsheng form import|export` commands."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from campaigns.definition import read_campaign_file
from forms.publishing import current_version, load_campaign_file
from forms.xlsform import read_xlsform, write_xlsform
from minsheng.errors import InputError
from questionnaire.schema import form_to_dict

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"

SURVEY = [
    [
        "type",
        "name",
        "label::Chinese (zh)",
        "label::English (en)",
        "relevant",
        "constraint",
        "constraint_message::English (en)",
        "choice_filter",
        "appearance",
        "parameters",
        "required",
    ],
    ["begin_group", "where", "居住地", "Where you live", None, None, None, None, "field-list"],
    [
        "select_one district",
        "district",
        "区",
        "District",
        None,
        None,
        None,
        None,
        "minimal",
        None,
        "yes",
    ],
    ["select_one street", "street", "街道", "Street", None, None, None, "district=${district}"],
    ["end_group"],
    [
        "range",
        "nps",
        "推荐程度",
        "How likely to recommend?",
        None,
        None,
        None,
        None,
        None,
        "start=0 end=10 step=1",
    ],
    [
        "text",
        "why",
        "原因",
        "Why?",
        "${nps} <= 6",
        "string-length(.) <= 200",
        "At most 200 characters",
        None,
        "multiline",
    ],
    [
        "select_multiple topic or_other",
        "topics",
        "话题",
        "Topics",
        None,
        None,
        None,
        None,
        None,
        "randomize=true max_selections=2",
    ],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)", "district"],
    ["district", "wuhou", "武侯区", "Wuhou"],
    ["district", "jinjiang", "锦江区", "Jinjiang"],
    ["street", "jiangxi", "浆洗街", "Jiangxi St", "wuhou"],
    ["street", "chunxi", "春熙路", "Chunxi Rd", "jinjiang"],
    ["topic", "bus", "公交", "Buses"],
    ["topic", "metro", "地铁", "Metro"],
]
SETTINGS = [
    ["form_title", "form_id", "version", "default_language", "style"],
    ["街道问卷", "streets", "3", "Chinese (zh)", "pages"],
]


def workbook(path, survey=SURVEY, choices=CHOICES, settings=SETTINGS, extra=None):
    book = openpyxl.Workbook()
    sheets = {"survey": survey, "choices": choices, "settings": settings, **(extra or {})}
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def problems_of(path):
    with pytest.raises(InputError) as caught:
        read_xlsform(path)
    return [str(p) for p in caught.value.problems]


def test_xlsx_imports_groups_languages_cascades_and_parameters(tmp_path):
    form = read_xlsform(workbook(tmp_path / "streets.xlsx")).form
    assert [q.name for q in form.questions()] == ["district", "street", "nps", "why", "topics"]
    assert form.languages == ("Chinese (zh)", "English (en)")
    assert form.default_language == "Chinese (zh)"
    assert form.title == {"Chinese (zh)": "街道问卷"}
    assert (form.form_id, form.version, form.settings) == ("streets", "3", {"style": "pages"})
    street = form.question("street")
    assert street.choice_filter == "district=${district}"
    assert [c.filters for c in form.choices_for(street)] == [
        {"district": "wuhou"},
        {"district": "jinjiang"},
    ]
    assert form.question("nps").parameters == {"start": "0", "end": "10", "step": "1"}
    why = form.question("why")
    assert why.relevant == "${nps} <= 6"
    assert why.constraint_message == {"English (en)": "At most 200 characters"}
    topics = form.question("topics")
    assert (topics.or_other, topics.parameters["max_selections"]) == (True, "2")
    assert form.question("district").required


def test_export_then_import_gives_the_same_form(tmp_path):
    original = read_campaign_file(str(EXAMPLE)).form
    path = tmp_path / "transport.xlsx"
    write_xlsform(original, path)
    assert form_to_dict(read_xlsform(path).form) == form_to_dict(original)
    again = read_xlsform(workbook(tmp_path / "streets.xlsx")).form
    write_xlsform(again, tmp_path / "streets-out.xlsx")
    assert form_to_dict(read_xlsform(tmp_path / "streets-out.xlsx").form) == form_to_dict(again)


def test_export_writes_survey_choices_settings_with_language_columns(tmp_path):
    write_xlsform(read_campaign_file(str(EXAMPLE)).form, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["survey", "choices", "settings"]
    header = [c.value for c in book["survey"][1]]
    assert {"type", "name", "label::zh", "label::en", "hint::zh", "relevant"} <= set(header)
    assert [c.value for c in book["choices"][1]][:4] == [
        "list_name",
        "name",
        "label::en",
        "label::zh",
    ]


def test_unsupported_types_and_repeats_are_refused_with_sheet_row_and_column(tmp_path):
    survey = [
        *SURVEY,
        ["geopoint", "where_exactly", "位置", "Location"],
        ["begin repeat", "members", "成员", "Members"],
        ["integer", "age", "年龄", "Age"],
        ["end repeat"],
        ["select_one_from_file streets.csv", "street2", "街道", "Street"],
        ["image", "photo", "照片", "Photo"],
    ]
    problems = problems_of(workbook(tmp_path / "bad.xlsx", survey=survey))
    assert any("sheet `survey`, row 9, column `type`: type `geopoint`" in p for p in problems)
    assert any("row 10, column `type`: `begin repeat` is not supported" in p for p in problems)
    assert any("row 13, column `type`: type `select_one_from_file`" in p for p in problems)
    assert any("row 14, column `type`: type `image`: media uploads" in p for p in problems)


def test_media_columns_unknown_settings_and_external_sheets_are_refused(tmp_path):
    survey = [[*SURVEY[0], "image"], [*SURVEY[2][:10], "yes", "map.png"]]
    settings = [["form_id", "submission_url"], ["x", "https://example.org/submit"]]
    extra = {"external_choices": [["list_name", "name"], ["street", "a"]]}
    problems = problems_of(
        workbook(tmp_path / "bad.xlsx", survey=survey, settings=settings, extra=extra)
    )
    assert any("sheet `survey`, row 2, column `image`: media" in p for p in problems)
    assert any("sheet `settings`, row 2, column `submission_url`" in p for p in problems)
    assert any("sheet `external_choices`, row 1: external choices" in p for p in problems)


def test_unclosed_group_and_duplicate_columns_are_refused(tmp_path):
    survey = [
        ["type", "name", "label", "label"],
        ["begin group", "g", "G", "G2"],
        ["text", "t", "T", "T2"],
    ]
    problems = problems_of(workbook(tmp_path / "bad.xlsx", survey=survey, choices=[["list_name"]]))
    assert any("row 1, column `label`: column `label` appears twice" in p for p in problems)
    assert any("row 2, column `type`: `begin group` is never closed" in p for p in problems)


def test_expression_errors_name_the_survey_row_question_and_position(tmp_path):
    survey = [*SURVEY[:6], ["text", "why", "原因", "Why?", "${nsp} <= 6 and (1"]]
    problems = problems_of(workbook(tmp_path / "bad.xlsx", survey=survey))
    assert problems == [
        "bad.xlsx: survey row 7, question `why`: relevant: expected `)` to close the `(` "
        "(opened at character 17), found the end at character 19 of '${nsp} <= 6 and (1'"
    ]


def test_sheets_outside_xlsform_are_skipped_and_reported(tmp_path):
    imported = read_xlsform(
        workbook(tmp_path / "f.xlsx", extra={"notes for authors": [["anything"], ["at all"]]})
    )
    assert imported.skipped_sheets == ("notes for authors",)


def test_csv_and_markdown_use_pyxform_text_layout(tmp_path):
    csv_text = (
        'survey,,,\n,type,name,label:English\n,select one from yn,ok,"All good?"\n'
        ",integer,n,How many?\nchoices,,,\n,list name,name,label:English\n,yn,yes,Yes\n,yn,no,No\n"
    )
    (tmp_path / "f.csv").write_text(csv_text, encoding="utf-8")
    form = read_xlsform(tmp_path / "f.csv").form
    assert [(q.name, q.type, q.list_name) for q in form.questions()] == [
        ("ok", "select_one", "yn"),
        ("n", "integer", None),
    ]
    assert form.question("ok").label == {"English": "All good?"}
    md = (
        "| survey |\n| | type | name | label |\n| | text | city | City? |\n"
        "| | begin repeat | kids | Kids |\n| | end repeat | | |\n"
    )
    (tmp_path / "f.md").write_text(md, encoding="utf-8")
    assert any(
        "sheet `survey`, row 3, column `type`: `begin repeat`" in p
        for p in problems_of(tmp_path / "f.md")
    )


def test_cli_import_dry_run_reports_and_writes_nothing(runner, session, tmp_path):
    campaign, _ = load_campaign_file(session, str(EXAMPLE))
    session.commit()
    path = workbook(tmp_path / "streets.xlsx")
    result = runner.invoke(
        args=["form", "import", str(path), "--campaign", campaign.slug, "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "5 questions, 3 choice lists, languages: Chinese (zh), English (en)" in result.output
    assert "would get version 2" in result.output
    assert current_version(session, campaign).number == 1


def test_cli_import_publishes_a_new_version_and_export_writes_it_back(runner, session, tmp_path):
    campaign, _ = load_campaign_file(session, str(EXAMPLE))
    session.commit()
    path = workbook(tmp_path / "streets.xlsx")
    result = runner.invoke(args=["form", "import", str(path), "--campaign", campaign.slug])
    assert result.exit_code == 0, result.output
    assert "questionnaire version 2" in result.output
    out = tmp_path / "exported.xlsx"
    result = runner.invoke(args=["form", "export", campaign.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert form_to_dict(read_xlsform(out).form) == form_to_dict(read_xlsform(path).form)


def test_cli_import_of_a_bad_file_prints_each_problem_and_exits_2(runner, tmp_path):
    survey = [*SURVEY, ["geopoint", "gps", "位置", "Where"]]
    result = runner.invoke(
        args=["form", "import", str(workbook(tmp_path / "b.xlsx", survey)), "--dry-run"]
    )
    assert result.exit_code == 2
    assert "b.xlsx: sheet `survey`, row 9, column `type`: type `geopoint`" in result.output


def test_cli_import_without_campaign_or_dry_run_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["form", "import", str(workbook(tmp_path / "s.xlsx"))])
    assert result.exit_code == 2
    assert "--campaign SLUG" in result.output


def test_unreadable_or_unknown_files_are_refused_with_the_file_named(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip file")
    assert problems_of(tmp_path / "broken.xlsx")[0].startswith("broken.xlsx: cannot read the file")
    (tmp_path / "form.ods").write_bytes(b"")
    assert problems_of(tmp_path / "form.ods") == [
        "form.ods: unknown file type '.ods'; expected .xlsx, .xls, .csv, .md"
    ]
    (tmp_path / "nosurvey.csv").write_text("choices,,\n,list_name,name\n,a,b\n", encoding="utf-8")
    assert problems_of(tmp_path / "nosurvey.csv") == [
        "nosurvey.csv: no `survey` sheet; sheets found: choices"
    ]


def test_blank_formatted_rows_below_a_form_do_not_count_against_the_row_limit(tmp_path):
    # Spreadsheet tools save rows formatted far below the last question (a real pyxform test
    # form has 10,000+ of them); only rows that hold something count towards MAX_ROWS.
    from forms.xlsform import MAX_ROWS

    path = workbook(tmp_path / "formatted.xlsx")
    book = openpyxl.load_workbook(path)
    for row in range(len(SURVEY) + 1, MAX_ROWS + 200):
        book["survey"].cell(row=row, column=1).number_format = "@"
        book["survey"].cell(row=row, column=2).value = "  "
    book.save(path)
    assert [q.name for q in read_xlsform(path).form.questions()][:2] == ["district", "street"]

    many = [SURVEY[0], *(["text", f"q{n}", f"问题{n}"] for n in range(MAX_ROWS + 1))]
    assert problems_of(workbook(tmp_path / "many.xlsx", survey=many)) == [
        f"many.xlsx: sheet survey: more than {MAX_ROWS:,} rows"
    ]
