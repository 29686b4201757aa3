"""WTForms classes of the results page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from forms.webforms import MultiCheckboxField


class SummaryJobForm(FlaskForm):  # type: ignore[misc]
    """Queue a summary in the background, broken down by the segments ticked (the choices are
    the campaign's single-choice questions and response metadata, set by the view)."""

    segments = MultiCheckboxField(_l("Break down by"), choices=[])
