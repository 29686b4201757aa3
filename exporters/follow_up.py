"""What the report says besides the statistics, read through the later stages' own functions:
expert annotations on the questions (`reviews.annotations`), golden ideas with their citation
(`reviews.golden_ideas`), and adopted recommendations with their lead department, stage, due
date and whether they were done on time (`recommendations`). Every text a person typed is
masked (`minsheng.masking`) before it reaches a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import Response
from minsheng.accounts.models import User
from minsheng.db import local_date
from minsheng.masking import masked
from recommendations.assignments import completed_on_time
from recommendations.proposals import visible_assignments, visible_recommendations
from recommendations.workflow import ADOPTED, PARTLY_ADOPTED
from reviews.annotations import campaign_annotations
from reviews.golden_ideas import golden_ideas

#: Decisions whose recommendations the report follows up.
ADOPTIONS = (ADOPTED, PARTLY_ADOPTED)


@dataclass(frozen=True)
class Note:
    """An expert's note on one question's results."""

    question: str
    author: str
    text: str


@dataclass(frozen=True)
class GoldenIdeaEntry:
    """A golden idea (金点子): the resident's suggestion and the panel's citation."""

    suggestion: str
    citation: str


@dataclass(frozen=True)
class Handling:
    """An adopted recommendation as the report follows it up.

    ``stage`` is the recommendation's status; ``lead`` is the department it was first handed
    to (牵头), ``co_handling`` the others (协办); ``due`` the lead's deadline. ``on_time`` is
    True when completed by the deadline, False when completed late or open past it, None while
    open and not yet due.
    """

    title: str
    decision: str
    stage: str
    lead: str
    co_handling: tuple[str, ...]
    due: date | None
    on_time: bool | None


def question_notes(session: Session, campaign: Campaign) -> dict[str, list[Note]]:
    """The campaign's annotations by question, oldest first."""
    notes: dict[str, list[Note]] = {}
    for annotation in campaign_annotations(session, campaign):
        notes.setdefault(annotation.question_name, []).append(
            Note(annotation.question_name, annotation.author.display_name, masked(annotation.text))
        )
    return notes


def golden_idea_entries(session: Session, campaign: Campaign) -> list[GoldenIdeaEntry]:
    """The golden ideas in the order they were decided, each with the suggestion it honours."""
    ideas = golden_ideas(session, campaign)
    rows = session.execute(
        select(Response.id, Response.answers).where(
            Response.id.in_([idea.nomination.response_id for idea in ideas])
        )
    )
    answers = {response_id: values for response_id, values in rows}
    return [
        GoldenIdeaEntry(
            masked(
                str(
                    (answers.get(idea.nomination.response_id) or {}).get(
                        idea.nomination.question_name
                    )
                    or ""
                )
            ),
            masked(idea.citation),
        )
        for idea in ideas
    ]


def adopted_recommendations(
    session: Session, campaign: Campaign, viewer: User, cut_off: datetime
) -> list[Handling]:
    """The adopted (or partly adopted) recommendations ``viewer`` may see, with the
    assignments they may see (a department: its own), in the order they were made; deadlines
    are judged on the local day of ``cut_off``."""
    today = local_date(cut_off)
    handled = []
    for recommendation in visible_recommendations(session, campaign, viewer):
        if recommendation.decision not in ADOPTIONS:
            continue
        assignments = visible_assignments(viewer, recommendation)
        lead = assignments[0] if assignments else None
        on_time: bool | None = None
        if lead is not None:
            if lead.completed_at is not None:
                on_time = completed_on_time(lead)
            elif today > lead.deadline:
                on_time = False
        handled.append(
            Handling(
                title=masked(recommendation.title),
                decision=str(recommendation.decision),
                stage=recommendation.status,
                lead=lead.department.name if lead is not None else "",
                co_handling=tuple(a.department.name for a in assignments[1:]),
                due=lead.deadline if lead is not None else None,
                on_time=on_time,
            )
        )
    return handled
