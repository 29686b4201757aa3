"""WTForms classes of the report and export pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice


class ReportRequestForm(FlaskForm):  # type: ignore[misc]
    """Ask for a thematic report; the department edition suppresses small cells."""

    audience = SelectField(
        _l("Edition"),
        choices=[
            SelectChoice("staff", _l("Full report (staff)")),
            SelectChoice("department", _l("For departments (small cells suppressed)")),
        ],
        default="staff",
    )


class ExportRequestForm(FlaskForm):  # type: ignore[misc]
    """Ask for a data export; the view fills `format.choices` with what the user's role may
    have, and shows `raw` to admins only."""

    format = SelectField(_l("Format"), choices=[], default="csv")
    labels = BooleanField(_l("Single choices as labels instead of codes"))
    raw = BooleanField(_l("Unmasked free text (administrators; recorded in the audit log)"))


#: How each export format is offered on the Exports page.
FORMAT_LABELS = {
    "csv": _l("CSV (UTF-8 with BOM, opens in Excel)"),
    "xlsx": _l("Excel workbook with a codebook sheet"),
    "sav": _l("SPSS (.sav) with variable and value labels"),
    "dta": _l("Stata (.dta) with variable and value labels"),
    "parquet": _l("Parquet with labels in its metadata"),
    "codebook": _l("Codebook (Excel)"),
    "codebook-pdf": _l("Codebook (PDF)"),
    "datapackage": _l("Open data package (anonymised CSV + datapackage.json)"),
}
