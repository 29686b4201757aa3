"""WTForms classes of the recommendation pages (staff and the public feedback page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

SATISFACTION = [SelectChoice(str(i), str(i)) for i in range(1, 6)]


class RecommendationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(_l("Recommendation"), validators=[DataRequired()])
    source = SelectField(
        _l("Source"),
        choices=[
            SelectChoice("golden_idea", _l("Golden idea")),
            SelectChoice("suggestion_cluster", _l("Cluster of similar suggestions")),
            SelectChoice("expert", _l("Expert's proposal")),
        ],
    )
    golden_idea_id = SelectField(_l("Golden idea"), coerce=int, validate_choice=False)


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice("adopted", _l("Adopted")),
            SelectChoice("partly_adopted", _l("Partly adopted")),
            SelectChoice("not_adopted", _l("Not adopted")),
        ],
    )
    reason = TextAreaField(_l("Reason (told to the suggesters)"))


class AssignForm(FlaskForm):
    lead = SelectField(_l("Lead department (主办)"), coerce=int, validate_choice=False)
    lead_task = TextAreaField(_l("Task of the lead department"), validators=[Length(max=5000)])
    co_handlers = SelectMultipleField(
        _l("Co-handling departments (协办)"), coerce=int, validate_choice=False
    )
    co_task = TextAreaField(
        _l("Task of the co-handling departments"), validators=[Length(max=5000)]
    )
    deadline = DateField(
        _l("Reply deadline (empty: from the campaign's policy)"), validators=[Optional()]
    )


class ProgressForm(FlaskForm):
    note = TextAreaField(_l("Progress"), validators=[DataRequired()])
    percent = IntegerField(_l("Share of the work done (%)"), validators=[Optional()])
    attachments = MultipleFileField(_l("Evidence files"))


class StepForm(FlaskForm):
    """The fields any step of an assignment or recommendation may need; each step's form shows
    the ones it needs (`workflow.Step.requires`)."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=5000)])
    until = DateField(_l("New deadline"), validators=[Optional()])
    reply = TextAreaField(_l("Reply"), validators=[Length(max=5000)])


class PolicyForm(FlaskForm):
    accept_days = IntegerField(_l("Accept within (working days)"), validators=[InputRequired()])
    reply_days = IntegerField(
        _l("Lead replies within (working days)"), validators=[InputRequired()]
    )
    co_reply_days = IntegerField(
        _l("Co-handlers hand in their part within (working days)"), validators=[InputRequired()]
    )
    feedback_days = IntegerField(
        _l("Suggesters hear back within (working days)"), validators=[InputRequired()]
    )
    amber_days = IntegerField(
        _l("Amber from this many working days before a deadline"), validators=[InputRequired()]
    )
    ladder_days = IntegerField(
        _l("Working days between two escalation levels"), validators=[InputRequired()]
    )


class FeedbackForm(FlaskForm):
    text = TextAreaField(_l("Public feedback to the suggesters"), validators=[DataRequired()])


class EvaluationForm(FlaskForm):
    satisfaction = RadioField(
        _l("Satisfaction"), choices=SATISFACTION, validators=[InputRequired()]
    )
    rater = SelectField(
        _l("On behalf of"),
        choices=[
            SelectChoice("suggester", _l("Suggesters")),
            SelectChoice("organizer", _l("Organizer")),
        ],
    )
    comment = StringField(_l("Comment"), validators=[Length(max=2000)])


class RecognitionForm(FlaskForm):
    kind = SelectField(
        _l("Recognise"),
        choices=[SelectChoice("suggester", _l("Suggester")), SelectChoice("expert", _l("Expert"))],
    )
    expert = StringField(_l("Expert's username"))
    response_id = IntegerField(_l("Suggestion no."), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Length(max=2000)])


class PublicEvaluationForm(FlaskForm):
    recommendation_id = HiddenField(validators=[DataRequired()])
    satisfaction = RadioField(
        _l("How satisfied are you with how this was handled?"),
        choices=SATISFACTION,
        validators=[InputRequired()],
    )
