"""WTForms for the organizer's sampling, quota and sending pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class SampleForm(FlaskForm):
    list_id = SelectField(_l("Target list"), coerce=int, validators=[DataRequired()])
    by = StringField(_l("Strata attributes (comma-separated)"), validators=[Optional()])
    allocation = SelectField(
        _l("Allocation"),
        choices=[
            SelectChoice("proportional", _l("Proportional to stratum size")),
            SelectChoice("fixed", _l("Fixed number per stratum")),
        ],
    )
    count = IntegerField(
        _l("Sample size, or number per stratum"), validators=[DataRequired(), NumberRange(min=1)]
    )
    seed = IntegerField(
        _l("Random seed (empty: a new one, recorded)"),
        validators=[Optional(), NumberRange(min=0, max=2**63 - 1)],
    )


class QuotaForm(FlaskForm):
    stratum = StringField(
        _l("Stratum (attribute=value, comma-separated)"),
        validators=[DataRequired(), Length(max=500)],
    )
    maximum = IntegerField(
        _l("Most completed responses"), validators=[DataRequired(), NumberRange(min=0)]
    )


class SendForm(FlaskForm):
    """Start a send run: the invitation message on one channel, or the reminders due."""

    kind = SelectField(
        _l("What to send"),
        choices=[
            SelectChoice("invitation", _l("Invitation message")),
            SelectChoice("reminder", _l("Reminders due now")),
            SelectChoice("uncertain", _l("Again to those whose message may not have left")),
        ],
    )
    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice("email", _l("E-mail")), SelectChoice("sms", _l("SMS"))],
    )
