"""Suggestions as records (建议): the non-empty open-text answers of a campaign, near duplicates
of the same question merged into one record that credits every response behind it, each with
its theme and its text masked. Built when the review round starts and topped up with answers
that came later; queues and pages read the records, never the responses."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import Response
from minsheng.errors import InputError, Problem
from minsheng.masking import masked
from questionnaire.schema import Question
from reviews.models import Suggestion, SuggestionSource

#: Themes a question's suggestions are sorted into (analysis.text's keyword-seeded themes).
N_THEMES = 8


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


def _unlinked_answers(
    session: Session, campaign: Campaign, names: list[str]
) -> dict[str, list[tuple[int, str]]]:
    """Per question, (response id, masked text) of answers no record credits yet."""
    linked = {
        (response_id, name)
        for response_id, name in session.execute(
            select(SuggestionSource.response_id, SuggestionSource.question_name)
            .join(Suggestion, Suggestion.id == SuggestionSource.suggestion_id)
            .where(Suggestion.campaign_id == campaign.id)
        )
    }
    stmt = (
        select(Response.id, Response.answers)
        .where(Response.campaign_id == campaign.id, Response.honeypot.is_(False))
        .order_by(Response.id)
        .execution_options(yield_per=2000)
    )
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for response_id, answers in session.execute(stmt):
        for name in names:
            # A JSON null written straight into the database reads as None: no answers.
            value = (answers or {}).get(name)
            if isinstance(value, str) and value.strip() and (response_id, name) not in linked:
                found[name].append((response_id, masked(value.strip())))
    return found


def _themes(texts: list[str]) -> list[str | None]:
    """The theme keyword of each text: the best-ranked keyword it contains, when that keyword
    seeds one of the `N_THEMES` largest themes (the rule of `analysis.text`'s themes)."""
    from analysis.text import terms, text_summary

    summary = text_summary(texts, n_keywords=3 * N_THEMES, n_themes=N_THEMES)
    themes = {t.keyword for t in summary.themes}
    ranked = [k.term for k in summary.keywords]
    out: list[str | None] = []
    for text in texts:
        found = set(terms(text))
        seed = next((k for k in ranked if k in found), None)
        out.append(seed if seed in themes else None)
    return out


def build_suggestions(session: Session, campaign: Campaign) -> int:
    """Store a record for every open-text answer not credited yet; returns how many records
    were added. Near duplicates (`analysis.text.near_duplicate_groups`) become one record
    whose text is its most frequent wording; an answer whose normal form equals an existing
    record's joins that record instead."""
    from analysis.text import near_duplicate_groups, normalise

    questions = text_questions(session, campaign)
    added = 0
    for name, answers in _unlinked_answers(session, campaign, [q.name for q in questions]).items():
        existing = {
            normalise(s.text): s
            for s in session.scalars(
                select(Suggestion).where(
                    Suggestion.campaign_id == campaign.id, Suggestion.question_name == name
                )
            )
        }
        fresh = []
        for response_id, text in answers:
            joined = existing.get(normalise(text))
            if joined is None:
                fresh.append((response_id, text))
            else:
                joined.sources.append(SuggestionSource(response_id=response_id, question_name=name))
                joined.n_sources += 1
        texts = [text for _, text in fresh]
        groups = near_duplicate_groups(texts)
        themes = _themes(texts) if texts else []
        for group in groups:
            counts: dict[str, int] = defaultdict(int)
            for i in group:
                counts[texts[i]] += 1
            best = min(group, key=lambda i: (-counts[texts[i]], len(texts[i]), texts[i]))
            session.add(
                Suggestion(
                    campaign_id=campaign.id,
                    question_name=name,
                    text=texts[best],
                    theme=themes[best],
                    n_sources=len(group),
                    sources=[
                        SuggestionSource(response_id=fresh[i][0], question_name=name) for i in group
                    ],
                )
            )
            added += 1
    session.flush()
    return added


def campaign_suggestions(session: Session, campaign: Campaign) -> list[Suggestion]:
    """The campaign's suggestion records in the order they were made."""
    stmt = select(Suggestion).where(Suggestion.campaign_id == campaign.id).order_by(Suggestion.id)
    return list(session.scalars(stmt))


def count_suggestions(session: Session, campaign: Campaign) -> int:
    stmt = select(func.count(Suggestion.id)).where(Suggestion.campaign_id == campaign.id)
    return int(session.scalar(stmt) or 0)


def get_suggestion(session: Session, campaign: Campaign, suggestion_id: int) -> Suggestion:
    """The campaign's suggestion record, or `InputError` naming what is missing."""
    found = session.get(Suggestion, suggestion_id)
    if found is None or found.campaign_id != campaign.id:
        raise InputError(
            [
                Problem(
                    "suggestion",
                    f"no suggestion {suggestion_id} in campaign {campaign.slug!r}",
                )
            ]
        )
    return found


def suggestion_of_answer(
    session: Session, campaign: Campaign, response_id: int, question_name: str
) -> Suggestion:
    """The record crediting response `response_id`'s answer to `question_name` (records are
    topped up first, so an answer that came in after the round started has one)."""
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
    stmt = (
        select(Suggestion)
        .join(SuggestionSource, SuggestionSource.suggestion_id == Suggestion.id)
        .where(
            Suggestion.campaign_id == campaign.id,
            SuggestionSource.response_id == response_id,
            SuggestionSource.question_name == question_name,
        )
    )
    found = session.scalar(stmt)
    if found is None and build_suggestions(session, campaign):
        found = session.scalar(stmt)
    if found is None:
        raise InputError(
            [
                Problem(
                    "response",
                    f"response {response_id} of campaign {campaign.slug!r} has no answer to "
                    f"{question_name!r}",
                )
            ]
        )
    return found
