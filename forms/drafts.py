"""Questionnaires in progress: saving a page's answers, finding a draft again (invitation or resume
code), moving between pages, and the submission a draft becomes (`forms.ingest.submit` stores
it)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.ingest import Submission
from forms.models import Draft, QuestionnaireVersion
from forms.validation import validate_answers
from forms.webforms import page_field_names
from minsheng.errors import InputError, Problem
from questionnaire import expressions
from questionnaire.expressions import Context, boolean, evaluate, parse_expression
from questionnaire.schema import Choice, Form, Group, Question

# Crockford-like alphabet: no 0/O or 1/I/L to misread when copying a code from a phone screen.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31**10 ~ 2**49.5 codes


def new_resume_code() -> str:
    """A random resume code shown as `ABCDE-FGHJK`."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(code: str) -> str:
    """Upper case without spaces and dashes, so `abcde fghjk` finds `ABCDE-FGHJK`."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> bytes:
    return hashlib.sha256(normalise_code(code).encode()).digest()


def start_draft(
    session: Session,
    campaign: Campaign,
    version: QuestionnaireVersion,
    submission: Submission,
) -> tuple[Draft, str | None]:
    """Add a draft for one respondent; return it and the resume code to show (public links only).

    An invitation's draft needs no code: the invitation link itself finds it again.
    """
    code = None if submission.invitation_id is not None else new_resume_code()
    draft = Draft(
        campaign_id=campaign.id,
        version_id=version.id,
        resume_code_hash=code_hash(code) if code else None,
        invitation_id=submission.invitation_id,
        submission_id=submission.submission_id,
        channel=submission.channel,
        collection_point_id=submission.collection_point_id,
        language=submission.language,
        started_at=submission.started_at or datetime.now().astimezone(),
        page=0,
        answers={},
    )
    session.add(draft)
    session.flush()
    return draft, code


def draft_by_code(session: Session, campaign: Campaign, code: str | None) -> Draft | None:
    """The campaign's draft with this resume code, or None (unknown, or another campaign's)."""
    if not code or len(normalise_code(code)) != CODE_LENGTH:
        return None
    return session.scalar(
        select(Draft).where(
            Draft.resume_code_hash == code_hash(code), Draft.campaign_id == campaign.id
        )
    )


def draft_by_invitation(session: Session, invitation_id: int) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.invitation_id == invitation_id))


def merge_answers(
    answers: Mapping[str, Any], page_answers: Mapping[str, Any], page_names: Collection[str]
) -> dict[str, Any]:
    """The draft's answers with this page's replaced: a field left empty removes its answer, so
    clearing a question on the way back really clears it."""
    merged = {k: v for k, v in answers.items() if k not in page_names}
    for name in page_names:
        value = page_answers.get(name)
        if value not in (None, "", [], ()):
            merged[name] = value
    return merged


def save_page(
    draft: Draft, page_answers: Mapping[str, Any], page_names: Collection[str], page: int
) -> None:
    """Store this page's answers and the page the respondent is on (the caller commits)."""
    draft.answers = merge_answers(draft.answers, page_answers, page_names)
    draft.page = page


def submission_of(draft: Draft) -> Submission:
    """The submission a draft turns into when its last page is sent: its own id, channel,
    language, start time, invitation and collection point (pass it to `forms.ingest.submit`
    with `draft=draft`)."""
    return Submission(
        submission_id=draft.submission_id,
        channel=draft.channel,
        language=draft.language,
        started_at=draft.started_at,
        invitation_id=draft.invitation_id,
        collection_point_id=draft.collection_point_id,
    )


def _page_names(form: Form) -> dict[str, int]:
    """Page index of every answer key (`<name>_other` included)."""
    return {name: i for i in range(len(form.pages())) for name in page_field_names(form, i)}


def shown_pages(form: Form, answers: Mapping[str, Any]) -> list[int]:
    """Indexes of the pages to show given the answers so far: a page whose group's `relevant`
    is false is skipped (its answers are discarded at submit by `forms.validation`)."""
    shown = [
        i
        for i, (group, _items) in enumerate(form.pages())
        if group is None or not group.relevant or holds(form, group.relevant, answers)
    ]
    return shown or [0]


def page_problems(
    form: Form, answers: Mapping[str, Any], names: Collection[str], language: str
) -> list[Problem]:
    """The problems `forms.validation` finds with the questions `names` (one page), given every
    answer so far; later pages' unanswered questions are not this page's problem."""
    try:
        validate_answers(form, answers, language)
    except InputError as exc:
        return [p for p in exc.problems if p.location in names]
    return []


def page_with_problem(form: Form, problems: Sequence[Problem], default: int) -> int:
    """The first page holding one of `problems` (where a failed submit sends the respondent)."""
    pages = _page_names(form)
    found = [pages[p.location] for p in problems if p.location in pages]
    return min(found) if found else default


@dataclass(frozen=True)
class PageLogic:
    """What a page needs from the skip logic: `hidden` nodes (already decided by earlier pages),
    `choices` left by cascading filters decided by earlier pages, and `script_data` for the
    page's script (`Form.logic_json`, the other pages' answers, today's date) when
    a rule depends on answers given on this very page (None: the page needs no script)."""

    hidden: frozenset[str]
    choices: dict[str, set[str]]
    script_data: dict[str, Any] | None


def _page_nodes(items: Sequence[Question | Group]) -> Iterator[Question | Group]:
    for item in items:
        yield item
        if isinstance(item, Group):
            yield from _page_nodes(item.children)


def holds(form: Form, expression: str, answers: Mapping[str, Any]) -> bool:
    """Whether a `relevant` expression is true for `answers` (the server's evaluator)."""
    return boolean(evaluate(parse_expression(expression), Context(answers=answers)))


def references(expression: str) -> set[str]:
    return expressions.references(parse_expression(expression))


def choice_passes(question: Question, choice: Choice, answers: Mapping[str, Any]) -> bool:
    """Whether `choice` survives the question's `choice_filter` (bare names read its columns)."""
    assert question.choice_filter is not None
    context = Context(answers=answers, choice={"name": choice.name, **choice.filters})
    return boolean(evaluate(parse_expression(question.choice_filter), context))


def page_logic(form: Form, index: int, answers: Mapping[str, Any]) -> PageLogic:
    """Split a page's `relevant` and `choice_filter` rules into those settled by earlier answers
    (applied on the server, so the page is right without JavaScript) and those that depend on
    this page (evaluated live in the browser; the server re-checks them on submit)."""
    _group, items = form.pages()[index]
    nodes = list(_page_nodes(items))
    on_page = {n.name for n in nodes}
    hidden: set[str] = set()
    choices: dict[str, set[str]] = {}
    live = False
    for node in nodes:
        if node.relevant:
            if references(node.relevant) & on_page:
                live = True
            elif not holds(form, node.relevant, answers):
                hidden.add(node.name)
        if isinstance(node, Question) and node.choice_filter:
            if references(node.choice_filter) & on_page:
                live = True
            else:
                choices[node.name] = {
                    c.name for c in form.choices_for(node) if choice_passes(node, c, answers)
                }
    script = None
    if live:
        script = {
            "logic": form.logic_json,
            "answers": {k: v for k, v in answers.items() if k not in on_page},
            "today": date.today().isoformat(),
        }
    return PageLogic(frozenset(hidden), choices, script)
