"""WTForms classes of the expert and organizer review pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

SCALE = [SelectChoice(str(i), str(i)) for i in range(1, 6)]


class ScoreForm(FlaskForm):
    """The rubric: each criterion 1 (weak) to 5 (strong), plus a comment."""

    authenticity = RadioField(
        _l("Authenticity of the problem"), choices=SCALE, validators=[InputRequired()]
    )
    cause = RadioField(_l("Certainty of the cause"), choices=SCALE, validators=[InputRequired()])
    feasibility = RadioField(
        _l("Feasibility of the remedy"), choices=SCALE, validators=[InputRequired()]
    )
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])


class AnnotationForm(FlaskForm):
    question = SelectField(_l("Question"), validators=[DataRequired()])
    text = TextAreaField(_l("Annotation"), validators=[DataRequired(), Length(max=5000)])


class AssignExpertForm(FlaskForm):
    username = StringField(_l("Expert's username"), validators=[DataRequired()])


class RoundForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])


class NominationForm(FlaskForm):
    """A suggestion put forward; the ranking's rows post it too, with the question hidden."""

    response_id = IntegerField(_l("Nominate suggestion no."), validators=[InputRequired()])
    # Choices: the campaign's open-text questions, set by the view.
    question_name = SelectField(_l("Question"), validators=[DataRequired()])
    reason = StringField(_l("Reason for nominating"), validators=[Length(max=2000)])


class GoldenIdeaForm(FlaskForm):
    nomination_id = IntegerField(validators=[InputRequired()])
    citation = TextAreaField(_l("Citation"), validators=[DataRequired(), Length(max=2000)])
