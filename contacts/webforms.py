"""WTForms for the organizer's target-list page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional


class ContactUploadForm(FlaskForm):
    file = FileField(
        _l("Contact file (CSV or XLSX)"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "txt", "xlsx"], _l("Expected a .csv or .xlsx file.")),
        ],
    )
    list_name = StringField(_l("Target list"), validators=[DataRequired(), Length(max=120)])
    required = StringField(
        _l("Required attributes (comma-separated)"), validators=[Optional(), Length(max=500)]
    )
