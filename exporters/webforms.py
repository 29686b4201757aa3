"""WTForms classes of the organizer's report page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
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
