"""Suggestions: the non-empty open-text answers of a campaign's responses, as experts see them
(personal details typed into the text masked; responses themselves carry no contact data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import Response
from minsheng.errors import InputError, Problem
from minsheng.masking import masked
from questionnaire.schema import Label, Question


@dataclass(frozen=True)
class Suggestion:
    """One open-text answer (建议): response `response_id`, question `question_name`."""

    response_id: int
    question_name: str
    question_label: Label
    text: str
    submitted_at: datetime

    @property
    def key(self) -> tuple[int, str]:
        return (self.response_id, self.question_name)


def text_questions(session: Session, campaign: Campaign) -> list[Question]:
    """The free-text questions of every published version (empty without a questionnaire)."""
    # analysis.loading loads pandas; only this lookup needs it (issue 10).
    from analysis.frames import NoQuestionnaireError
    from analysis.loading import campaign_form

    try:
        form = campaign_form(session, campaign)
    except NoQuestionnaireError:
        return []
    return [q for q in form.questions() if q.type == "text"]


def campaign_suggestions(
    session: Session,
    campaign: Campaign,
    keys: set[tuple[int, str]] | None = None,
) -> list[Suggestion]:
    """Every non-blank open-text answer of the campaign in response order (only those in `keys`
    when given)."""
    questions = text_questions(session, campaign)
    if not questions:
        return []
    stmt = (
        select(Response.id, Response.answers, Response.submitted_at)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id)
        .execution_options(yield_per=2000)
    )
    if keys is not None:
        stmt = stmt.where(Response.id.in_({response_id for response_id, _ in keys}))
    found = []
    for response_id, answers, submitted_at in session.execute(stmt):
        for question in questions:
            # A JSON null written straight into the database reads as None: no answers.
            value = (answers or {}).get(question.name)
            if not isinstance(value, str) or not value.strip():
                continue
            if keys is not None and (response_id, question.name) not in keys:
                continue
            found.append(
                Suggestion(response_id, question.name, question.label, masked(value), submitted_at)
            )
    return found


def get_suggestion(
    session: Session, campaign: Campaign, response_id: int, question_name: str
) -> Suggestion:
    """The suggestion, or `InputError` naming what is missing."""
    names = {q.name for q in text_questions(session, campaign)}
    if question_name not in names:
        allowed = ", ".join(sorted(names)) or "none"
        raise InputError(
            [
                Problem(
                    "question",
                    f"{question_name!r} is not an open-text question of campaign "
                    f"{campaign.slug!r}; open-text questions: {allowed}",
                )
            ]
        )
    found = campaign_suggestions(session, campaign, keys={(response_id, question_name)})
    if not found:
        raise InputError(
            [
                Problem(
                    "response",
                    f"response {response_id} of campaign {campaign.slug!r} has no answer to "
                    f"{question_name!r}",
                )
            ]
        )
    return found[0]
