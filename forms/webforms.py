"""WTForms built from a questionnaire page, for the respondent pages.

Fields only collect what was sent; `forms.validation` is the one place answers are checked, so the
page and the JSON API can never disagree. Its messages are put back under each field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
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

from minsheng.caches import BoundedCache
from questionnaire.schema import Choice, Form, Group, Question, text_in

# Types with a field on the page that posts one value.
ANSWERED_TYPES = frozenset({"select_one", "range", "text", "integer", "decimal", "date"})


class MultiCheckboxField(SelectMultipleField):
    """Multiple choice as a list of checkboxes (a `<select multiple>` is unusable on phones)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RankField(SelectMultipleField):
    """A ranking: one `<select>` per position, all with the same name, so the posted values
    arrive in order of preference and work without JavaScript (the template draws them)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [v for v in valuelist if v]


class RespondentForm(FlaskForm):
    """Base class; `page_form_class` adds one field per question of a page."""

    class Meta:
        # WTForms' own messages are never shown (forms.validation speaks for the fields), so
        # skip loading its catalog on every request.
        def get_translations(self, form: Any) -> None:
            return None

    submission_id = HiddenField()
    started_at = HiddenField()
    page = HiddenField()


def page_questions(items: Sequence[Question | Group]) -> Iterator[Question]:
    """The questions of one page in document order, nested sections flattened."""
    for item in items:
        if isinstance(item, Group):
            yield from page_questions(item.children)
        else:
            yield item


def choice_items(
    form: Form, question: Question, language: str, choices: Sequence[Choice] | None = None
) -> list[SelectChoice]:
    """`(name, label)` pairs of a question's choices (all of them unless `choices` is given)."""
    shown = form.choices_for(question) if choices is None else choices
    items = [SelectChoice(c.name, text_in(c.label, language, form.default_language)) for c in shown]
    if question.or_other:
        items.append(SelectChoice("other", str(_l("Other"))))
    return items


def _range_points(question: Question) -> list[SelectChoice]:
    start = float(question.parameters.get("start", question.parameters.get("min", 0)))
    end = float(question.parameters.get("end", question.parameters.get("max", 10)))
    step = float(question.parameters.get("step", 1)) or 1.0
    points: list[SelectChoice] = []
    value = start
    while value <= end + 1e-9 and len(points) < 101:
        text = str(int(value)) if value.is_integer() else str(round(value, 6))
        points.append(SelectChoice(text, text))
        value += step
    return points


def _field(form: Form, question: Question, language: str) -> Field | None:
    label = text_in(question.label, language, form.default_language) or question.name
    hint = text_in(question.hint, language, form.default_language)
    kwargs: dict[str, Any] = {"label": label, "description": hint}
    appearance = question.appearance or ""
    if question.type == "select_one":
        choices = choice_items(form, question, language)
        if "minimal" in appearance or "autocomplete" in appearance:
            return SelectField(
                choices=[SelectChoice("", "—"), *choices], validate_choice=False, **kwargs
            )
        return RadioField(choices=choices, validate_choice=False, **kwargs)
    if question.type == "select_multiple":
        return MultiCheckboxField(
            choices=choice_items(form, question, language), validate_choice=False, **kwargs
        )
    if question.type == "rank":
        return RankField(
            choices=choice_items(form, question, language), validate_choice=False, **kwargs
        )
    if question.type == "range":
        return RadioField(choices=_range_points(question), validate_choice=False, **kwargs)
    if question.type == "acknowledge":
        return BooleanField(false_values=("", "false"), **kwargs)
    if question.type == "text" and ("multiline" in appearance or "long" in appearance):
        return TextAreaField(**kwargs)
    if question.type in ("text", "integer", "decimal", "date"):
        return StringField(**kwargs)
    return None


PAGE_CLASSES: BoundedCache[tuple[str, int, str], type[RespondentForm]] = BoundedCache(
    "respondent page form classes", 2048
)


def _build_page_form_class(form: Form, page: int, language: str) -> type[RespondentForm]:
    attrs: dict[str, Any] = {}
    for question in page_questions(form.pages()[page][1]):
        field = _field(form, question, language)
        if field is not None:
            attrs[question.name] = field
            if question.or_other:
                attrs[f"{question.name}_other"] = StringField(label=_l("Please specify"))
    return type("QuestionnairePage", (RespondentForm,), attrs)


def page_form_class(form: Form, checksum: str, page: int, language: str) -> type[RespondentForm]:
    """A `RespondentForm` subclass for page `page` (cached per version checksum, page and
    language: versions are immutable, so a class is built once per process)."""
    return PAGE_CLASSES.get_or_compute(
        (checksum, page, language), lambda: _build_page_form_class(form, page, language)
    )


def page_field_names(form: Form, page: int) -> list[str]:
    """Answer keys a page can send, `<name>_other` included."""
    names = []
    for question in page_questions(form.pages()[page][1]):
        if question.type in ("note", "calculate"):
            continue
        names.append(question.name)
        if question.or_other:
            names.append(f"{question.name}_other")
    return names


def posted_answers(form: Form, page: int, formdata: Any) -> dict[str, Any]:
    """The values a page posted (a werkzeug `MultiDict`), keyed by question name, as
    `forms.validation` expects them: lists for multiple choice and rankings (in the order given),
    "OK" for a ticked acknowledgement, text otherwise."""
    answers: dict[str, Any] = {}
    for question in page_questions(form.pages()[page][1]):
        name = question.name
        if question.type in ("select_multiple", "rank"):
            answers[name] = [v for v in formdata.getlist(name) if v]
        elif question.type == "acknowledge":
            answers[name] = "OK" if formdata.get(name) not in (None, "", "false") else None
        elif question.type in ANSWERED_TYPES:
            answers[name] = formdata.get(name)
        if question.or_other:
            answers[f"{name}_other"] = formdata.get(f"{name}_other")
    return answers


def initial_data(form: Form, page: int, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Field data for showing a page: the stored answers, or on a page not answered yet the
    questions' literal `default`s (an expression default such as `today()` is left empty)."""
    names = page_field_names(form, page)
    data = {n: answers[n] for n in names if n in answers}
    if data:
        return data
    for question in page_questions(form.pages()[page][1]):
        default = question.default
        if default is None or "${" in default or "(" in default:
            continue
        multiple = question.type in ("select_multiple", "rank")
        data[question.name] = default.split() if multiple else default
    return data


class UploadForm(FlaskForm):
    """An uploaded file (an XLSForm workbook, a campaign file) in the `file` input, on the
    organizer's questionnaire and import pages; the domain's readers say what is wrong with it."""
