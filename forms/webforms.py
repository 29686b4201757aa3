"""WTForms built from a questionnaire, for the respondent page.

Fields only collect what was sent; `forms.validation` is the one place answers are checked, so the
page and the JSON API can never disagree. Its messages are put back under each field.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from forms.schema import Form, Question, text_in


class MultiCheckboxField(SelectMultipleField):
    """Multiple choice as a list of checkboxes (a `<select multiple>` is unusable on phones)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RespondentForm(FlaskForm):
    """Base class; `build_form_class` adds one field per question."""

    submission_id = HiddenField()
    started_at = HiddenField()


def _choices(form: Form, question: Question, language: str) -> list[SelectChoice]:
    items = [
        SelectChoice(c.name, text_in(c.label, language, form.default_language))
        for c in form.choices_for(question)
    ]
    if question.or_other:
        items.append(SelectChoice("other", "其他" if language.startswith("zh") else "Other"))
    return items


def _field(form: Form, question: Question, language: str) -> Field | None:
    label = text_in(question.label, language, form.default_language) or question.name
    hint = text_in(question.hint, language, form.default_language)
    kwargs: dict[str, Any] = {
        "label": label,
        "description": hint,
        "validate_choice": False,
    }
    appearance = question.appearance or ""
    if question.type == "select_one":
        kwargs["choices"] = _choices(form, question, language)
        if "minimal" in appearance:
            kwargs["choices"] = [SelectChoice("", "—"), *kwargs["choices"]]
            return SelectField(**kwargs)
        return RadioField(**kwargs)
    if question.type in ("select_multiple", "rank"):
        kwargs["choices"] = _choices(form, question, language)
        return MultiCheckboxField(**kwargs)
    del kwargs["validate_choice"]
    if question.type == "text" and ("multiline" in appearance or "long" in appearance):
        return TextAreaField(**kwargs)
    if question.type in ("text", "integer", "decimal", "range", "date"):
        return StringField(**kwargs)
    return None


def build_form_class(form: Form, language: str) -> type[RespondentForm]:
    """A `RespondentForm` subclass with one field per answerable question, in document order."""
    attrs: dict[str, Any] = {}
    for question in form.questions():
        field = _field(form, question, language)
        if field is not None:
            attrs[question.name] = field
            if question.or_other:
                attrs[f"{question.name}_other"] = StringField(
                    label="请注明" if language.startswith("zh") else "Please specify"
                )
    return type("QuestionnaireForm", (RespondentForm,), attrs)


def raw_answers(webform: RespondentForm, form: Form) -> dict[str, Any]:
    """The submitted values keyed by question name, as `forms.validation` expects them."""
    names = {q.name for q in form.questions()} | {f"{q.name}_other" for q in form.questions()}
    return {f.name: f.data for f in webform if f.name in names}
