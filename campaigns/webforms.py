"""WTForms for the campaign's settings page and its organizers page. They only parse; the rules
are the campaign file's (`campaigns.setup`, `campaigns.definition`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional


class CampaignForm(FlaskForm):
    """Every field of a campaign file but the questionnaire (`campaigns.setup.page_values`)."""

    slug = StringField(
        _l("Short name in links"),
        description=_l(
            "Lowercase letters, digits and hyphens, e.g. transport-2026; fixed once created."
        ),
        validators=[Length(max=80)],
    )
    title_zh = StringField(_l("Title (Chinese)"), validators=[Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=200)])
    theme = StringField(_l("Theme"), description=_l("e.g. 交通出行"), validators=[Length(max=80)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Length(max=5000)])
    description_en = TextAreaField(
        _l("Description (English)"), validators=[Optional(), Length(max=5000)]
    )
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    anonymous = BooleanField(
        _l("Anonymous: keep no link from a response back to the person invited")
    )
    timezone = StringField(
        _l("Time zone"),
        description=_l("Dates and times of this campaign are told in it; empty: Asia/Shanghai."),
        validators=[Optional(), Length(max=64)],
    )
    target_groups = TextAreaField(
        _l("Target groups"),
        description=_l("One per line: code | name in Chinese | name in English | description"),
        validators=[Length(max=20000)],
    )
    collection_points = TextAreaField(
        _l("Collection points"),
        description=_l(
            "One per line: code | name | address. Each gets its own QR poster and public link."
        ),
        validators=[Length(max=20000)],
    )
    departments = TextAreaField(
        _l("Departments concerned"),
        description=_l("One per line: code | name. Linked departments see suppressed results."),
        validators=[Length(max=20000)],
    )
    settings = TextAreaField(
        _l("Further settings (YAML)"),
        description=_l(
            "Population margins and sampling design for weighting (weighting: margins, "
            "bounds; design), sending (sender, templates, reminders) and report options, as "
            "in the campaign file."
        ),
        validators=[Length(max=100000)],
    )


class OrganizersForm(FlaskForm):
    """Who runs a campaign: its owner and the organizers sharing its work."""

    owner = SelectField(_l("Owner"), coerce=int)
    co_organizers = SelectMultipleField(_l("Co-organizers"), coerce=int)


class DuplicateForm(FlaskForm):
    """A new draft campaign copied from an earlier one, under its own short name and title."""

    slug = StringField(_l("Short name in links of the copy"), validators=[Length(max=80)])
    title_zh = StringField(_l("Title of the copy (Chinese)"), validators=[Length(max=200)])
