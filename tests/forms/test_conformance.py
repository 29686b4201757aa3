"""Real XLSForms written by other projects (../shared/conformance/xlsforms, see its README): each
imports with every question, choice list, label language, relevance and constraint intact, or is
refused with a message naming the sheet and row (and the column or question)."""

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pytest
import xlrd

from forms.xlsform import read_xlsform, write_xlsform
from minsheng.errors import InputError
from questionnaire.schema import form_to_dict
from tests.conftest import SHARED

CORPUS = SHARED / "conformance" / "xlsforms"

# file -> (number of questions, label languages) for forms minsheng imports.
IMPORTED = {
    "correlaid__mitwirken_umfrage.xlsx": (42, ("Deutsch (de)",)),
    "correlaid__testB_de_en.xlsx": (50, ("Deutsch (de)", "English (en)")),
    "pyxform__field-list.xlsx": (1, ("chinese", "english")),
    "pyxform__cascading_select_test_equivalent.xls": (9, ("default",)),
    "pyxform__choice_filter_test.xlsx": (3, ("default",)),
}
# file -> a problem that must be reported (sheet and row, then column or question).
REFUSED = {
    "correlaid__all_types_survey.xlsx": "sheet `survey`, row 5, column `type`: type `deviceid`",
    "onadata__childrens_survey_sw.xlsx": "sheet `survey`, row 4, column `type`: `begin repeat`",
    "onadata__ethiopia_fsom_select_one_choices_test.xlsx": (
        "sheet `survey`, row 373, column `type`: type `geopoint`"
    ),
    "onadata__external_choice_form_v1.xlsx": (
        "sheet `survey`, row 8, column `type`: type `select_one_external`"
    ),
    "onadata__nested_repeats.xlsx": "sheet `survey`, row 4, column `type`: `begin repeat`",
    "pyxform__UCL_Biomass_Plot_Form.xlsx": "sheet `survey`, row 22, column `type`: type `geopoint`",
    "pyxform__attribute_columns_test.xlsx": (
        "sheet `survey`, row 2, column `bind::saveIncomplete`: column `bind::saveIncomplete` is "
        "not supported"
    ),
    "pyxform__xlsform_spec_test.xlsx": "sheet `survey`, row 15, column `type`: `begin repeat`",
    "pyxform__widgets.xls": "sheet `survey`, row 11, column `type`: type `geopoint`",
    "pyxform__widgets.csv": "sheet `survey`, row 11, column `type`: type `geopoint`",
    "pyxform__simple_loop.csv": "sheet `survey`, row 2, column `type`: `begin loop`",
    "pyxform__loop.md": "sheet `survey`, row 3, column `type`: `begin loop`",
    "pyxform__case_insensitivity.md": (
        "sheet `SURVEY`, row 3, column `type`: type `select_one_external`"
    ),
    # The five files the XLSForm reference implementation rejects, for the reason it rejects them.
    "pyxform__duplicate_columns.xlsx": (
        "sheet `survey`, row 1, column `label`: column `label` appears twice"
    ),
    "pyxform__calculate_without_calculation.xls": (
        "survey row 34, question `calculate_test`: type calculate needs a `calculation`"
    ),
    "pyxform__not_closed_group_test.xls": (
        "sheet `survey`, row 3, column `type`: `begin group` is never closed by `end group`"
    ),
    "pyxform__brackets_mismatch.xls": (
        "survey row 4, question `tip`: relevant: '${current_fp_method -> ${current_fp_method}' "
        "is not a question reference at character 1"
    ),
    "pyxform__cascades_old.xls": "sheet `survey`, row 16, column `type`: type `cascading_select`",
}


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the XLSForm conformance corpus is not at {CORPUS} (see its README)")
    return CORPUS


def test_every_corpus_file_has_an_expectation(corpus):
    files = {p.name for p in corpus.iterdir() if p.name != "README.md"}
    assert files == set(IMPORTED) | set(REFUSED)


def _raw_sheet(path: Path, name: str) -> list[dict[str, str]]:
    """The sheet's rows as {header: text}, read straight from the file (not by minsheng)."""
    if path.suffix == ".xlsx":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = book[name]
        sheet.reset_dimensions()
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        sheet = xlrd.open_workbook(str(path)).sheet_by_name(name)
        rows = [sheet.row_values(i) for i in range(sheet.nrows)]
    header = [str(h or "").strip() for h in rows[0]]
    out = []
    for row in rows[1:]:
        cells = {
            h: str(v).strip()
            for h, v in zip(header, row, strict=False)
            if h and v not in (None, "")
        }
        if cells:
            out.append(cells)
    return out


def _is_question(row: dict[str, str]) -> bool:
    kind = row.get("type", "").replace("_", " ").split()
    return (bool(kind) and kind[0] not in ("begin", "end")) or kind == ["end"]


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_accepted_form_imports_with_every_question_and_its_logic(corpus, name):
    path = corpus / name
    questions, languages = IMPORTED[name]
    form = read_xlsform(path).form
    assert sum(1 for _ in form.questions()) == questions
    assert form.languages == languages
    survey = [r for r in _raw_sheet(path, "survey") if _is_question(r)]
    assert [r["name"] for r in survey] == [q.name for q in form.questions()]
    for row in survey:
        question = form.question(row["name"])
        assert question.relevant == row.get("relevant"), row["name"]
        assert question.constraint == row.get("constraint"), row["name"]
        assert question.choice_filter == row.get("choice_filter"), row["name"]
        assert question.calculation == row.get("calculation"), row["name"]
        labels = {h.split("::", 1)[1] for h in row if h.startswith("label::")}
        assert labels <= set(question.label), row["name"]
    choice_rows = _raw_sheet(path, "choices")
    list_key = "list_name" if "list_name" in choice_rows[0] else "list name"
    expected: dict[str, list[str]] = {}
    for row in choice_rows:
        expected.setdefault(row[list_key], []).append(row["name"].removesuffix(".0"))
    assert {k: [c.name for c in v] for k, v in form.choices.items()} == expected


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_or_malformed_form_is_refused_naming_sheet_and_row(corpus, name):
    with pytest.raises(InputError) as caught:
        read_xlsform(corpus / name)
    messages = [str(p) for p in caught.value.problems]
    assert any(REFUSED[name] in m for m in messages), "\n".join(messages)
    assert all(m.startswith(f"{name}: ") for m in messages)
    assert all(" row " in m or "survey:" in m for m in messages), "\n".join(messages)


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_accepted_form_survives_export_and_reimport(corpus, name, tmp_path):
    form = read_xlsform(corpus / name).form
    write_xlsform(form, tmp_path / "again.xlsx")
    assert form_to_dict(read_xlsform(tmp_path / "again.xlsx").form) == form_to_dict(form)
