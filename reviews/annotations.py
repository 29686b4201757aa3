"""Annotations: an expert's reading of one question's results, kept for organizers and reports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.errors import InputError, Problem
from reviews.experts import is_assigned
from reviews.models import Annotation

MAX_LENGTH = 5000


def annotate(
    session: Session, campaign: Campaign, author: User, question_name: str, text: str
) -> Annotation:
    """Add `author`'s note on question `question_name`. Experts must be assigned to the
    campaign; organizers and admins may annotate any campaign."""
    problems = []
    if author.role == "expert" and not is_assigned(session, campaign, author):
        problems.append(
            Problem("author", f"{author.username!r} is not assigned to campaign {campaign.slug!r}")
        )
    elif author.role not in ("expert", "organizer", "admin"):
        problems.append(Problem("author", f"role {author.role!r} cannot annotate results"))
    # analysis.loading loads pandas; only this lookup needs it (issue 10).
    from analysis.frames import NoQuestionnaireError
    from analysis.loading import campaign_form

    try:
        names = [q.name for q in campaign_form(session, campaign).questions()]
    except NoQuestionnaireError:
        names = []
    if question_name not in names:
        problems.append(
            Problem(
                "question",
                f"{question_name!r} is not a question of campaign {campaign.slug!r}",
            )
        )
    body = text.strip()
    if not body:
        problems.append(Problem("text", "an annotation needs some text"))
    elif len(body) > MAX_LENGTH:
        problems.append(Problem("text", f"{len(body)} characters; at most {MAX_LENGTH}"))
    if problems:
        raise InputError(problems)
    annotation = Annotation(
        campaign_id=campaign.id, question_name=question_name, author_id=author.id, text=body
    )
    session.add(annotation)
    session.flush()
    record(
        session,
        author.id,
        "review.annotate",
        "campaign",
        campaign.id,
        question=question_name,
        annotation=annotation.id,
    )
    return annotation


def campaign_annotations(session: Session, campaign: Campaign) -> list[Annotation]:
    """Every annotation of the campaign, in question then time order (for pages and reports)."""
    stmt = (
        select(Annotation)
        .where(Annotation.campaign_id == campaign.id)
        .order_by(Annotation.question_name, Annotation.id)
    )
    return list(session.scalars(stmt))
