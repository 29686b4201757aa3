"""WTForms classes of the expert and organizer review pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from questionnaire.schema import text_in
from reviews.models import Rubric
from reviews.rubrics import SCORE_MAX, SCORE_MIN


class ScoreFormBase(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])
    next_url = HiddenField()


def score_form(rubric: Rubric, language: str) -> ScoreFormBase:
    """The scoring form of `rubric`: one 1-5 scale per criterion, each level labelled with its
    anchor, and a comment."""

    class ScoreForm(ScoreFormBase):
        pass

    for criterion in rubric.criteria:
        choices = [
            SelectChoice(str(level), text_in(anchor, language, "zh"))
            for level, anchor in zip(
                range(SCORE_MIN, SCORE_MAX + 1), criterion.anchors, strict=False
            )
        ]
        setattr(
            ScoreForm,
            criterion.key,
            RadioField(
                text_in(criterion.label, language, "zh"),
                choices=choices,
                validators=[InputRequired()],
            ),
        )
    return ScoreForm()


class StepDownForm(FlaskForm):
    """Hand a task back: decline it or recuse oneself, with the reason."""

    status = SelectField(
        _l("Why"),
        choices=[
            SelectChoice("recused", _l("I have a conflict of interest (recuse)")),
            SelectChoice("declined", _l("I cannot review it (decline)")),
        ],
        validators=[DataRequired()],
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class DiscussionForm(FlaskForm):
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])


class AnnotationForm(FlaskForm):
    question = SelectField(_l("Question"), validators=[DataRequired()])
    text = TextAreaField(_l("Annotation"), validators=[DataRequired(), Length(max=5000)])


class AssignExpertForm(FlaskForm):
    username = StringField(_l("Expert's username"), validators=[DataRequired()])
    organisation = StringField(
        _l("Organisation (for conflicts of interest)"), validators=[Length(max=200)]
    )
    district = StringField(_l("District (for conflicts of interest)"), validators=[Length(max=120)])


class RoundForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason for reopening"), validators=[Length(max=2000)])


class RoundSettingsForm(FlaskForm):
    reviews_per_item = IntegerField(
        _l("Reviews per suggestion"), validators=[InputRequired(), NumberRange(1, 20)]
    )
    max_per_expert = IntegerField(
        _l("At most per expert (empty: an even share)"), validators=[Optional(), NumberRange(1)]
    )
    working_days = IntegerField(
        _l("Deadline in working days"), validators=[InputRequired(), NumberRange(1, 60)]
    )
    nomination_quota = IntegerField(
        _l("Nominations per unit"), validators=[InputRequired(), NumberRange(0, 1000)]
    )


class RubricForm(FlaskForm):
    """The rubric as YAML: a list of criteria with key, label, weight, gate and five anchors."""

    spec = TextAreaField(_l("Rubric"), validators=[DataRequired(), Length(max=20000)])


class NominationForm(FlaskForm):
    """A suggestion put forward by the user's unit, with the rationale."""

    suggestion_id = IntegerField(_l("Nominate suggestion no."), validators=[InputRequired()])
    reason = StringField(_l("Reason for nominating"), validators=[DataRequired(), Length(max=2000)])


class GoldenIdeaForm(FlaskForm):
    nomination_id = IntegerField(validators=[InputRequired()])
    citation = TextAreaField(_l("Citation"), validators=[DataRequired(), Length(max=2000)])


class AssignItemsForm(FlaskForm):
    """Start the round (store the suggestions) and hand out the reviews."""

    overdue = BooleanField(_l("Also hand on overdue reviews"))
