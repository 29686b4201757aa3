"""Who reviews which suggestion: k independent reviews per item, balanced across the experts
under a cap and spread so that every pair of experts shares items (their agreement can be
measured), conflicts of interest excluded, declines, recusals and overdue reviews handed on,
deadlines counted in working days. Experts see only the items assigned to them."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from contacts.models import Contact
from forms.models import Response
from invitations.models import Invitation
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.db import local_date, utcnow
from minsheng.errors import InputError, Problem
from minsheng.workdays import add_working_days, calendar_for
from reviews.experts import campaign_experts, review_round, round_is_open
from reviews.models import (
    ACTIVE_TASKS,
    ExpertProfile,
    Nomination,
    ReviewRound,
    ReviewTask,
    Suggestion,
    SuggestionSource,
)
from reviews.suggestions import campaign_suggestions

#: Contact columns (from the list's file) that name where a suggester lives or works.
DISTRICT_KEYS = ("district", "区县", "区", "所在区")
ORGANISATION_KEYS = ("organisation", "organization", "单位", "工作单位")


@dataclass
class AssignmentPlan:
    """What `assign_reviews` did: tasks made, conflicts excluded, items left short of k."""

    created: int = 0
    excluded: list[tuple[int, int, str]] = field(default_factory=list)
    short: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Party:
    districts: frozenset[str]
    organisations: frozenset[str]
    email_hashes: frozenset[bytes]


def _norm(value: object) -> str:
    return str(value or "").strip().lower()


def _suggesters(session: Session, suggestion_ids: list[int]) -> dict[int, _Party]:
    """Per suggestion, where its suggesters live and work and their e-mail hashes (from the
    contact behind an invitation; a district answer counts too)."""
    rows = session.execute(
        select(
            SuggestionSource.suggestion_id, Response.answers, Contact.attributes, Contact.email_hash
        )
        .join(Response, Response.id == SuggestionSource.response_id)
        .outerjoin(Invitation, Invitation.id == Response.invitation_id)
        .outerjoin(Contact, Contact.id == Invitation.contact_id)
        .where(SuggestionSource.suggestion_id.in_(suggestion_ids))
    )
    districts: dict[int, set[str]] = defaultdict(set)
    organisations: dict[int, set[str]] = defaultdict(set)
    emails: dict[int, set[bytes]] = defaultdict(set)
    for suggestion_id, answers, attributes, email_hash in rows:
        attributes = attributes or {}
        districts[suggestion_id].update(
            _norm(v)
            for v in [*(attributes.get(k) for k in DISTRICT_KEYS), (answers or {}).get("district")]
            if _norm(v)
        )
        organisations[suggestion_id].update(
            _norm(attributes.get(k)) for k in ORGANISATION_KEYS if _norm(attributes.get(k))
        )
        if email_hash:
            emails[suggestion_id].add(email_hash)
    return {
        i: _Party(frozenset(districts[i]), frozenset(organisations[i]), frozenset(emails[i]))
        for i in suggestion_ids
    }


def _email_hash(user: User) -> bytes | None:
    from contacts.pii import current_keys, lookup_hash, normalize_email

    normal = normalize_email(user.email or "") if user.email else None
    return lookup_hash(current_keys(), "email", normal) if normal else None


def conflict_reason(
    expert: User,
    profile: ExpertProfile | None,
    suggester: _Party,
    nominating_units: Iterable[str],
) -> str | None:
    """Why `expert` may not review the suggestion, or None: the expert is a suggester, works in
    a suggester's organisation or lives in their district, or works in a nominating unit."""
    email = _email_hash(expert)
    if email is not None and email in suggester.email_hashes:
        return "the expert is one of the suggesters"
    organisation = _norm(profile.organisation) if profile else ""
    district = _norm(profile.district) if profile else ""
    if organisation and organisation in suggester.organisations:
        return f"same organisation as a suggester ({profile.organisation if profile else ''})"
    if district and district in suggester.districts:
        return f"same district as a suggester ({profile.district if profile else ''})"
    if organisation and organisation in {_norm(u) for u in nominating_units}:
        return f"works in the nominating unit ({profile.organisation if profile else ''})"
    return None


def _nominating_units(session: Session, campaign: Campaign) -> dict[int, set[str]]:
    units: dict[int, set[str]] = defaultdict(set)
    for nomination in session.scalars(
        select(Nomination).where(Nomination.campaign_id == campaign.id)
    ):
        if nomination.suggestion_id is None:
            continue
        if nomination.department is not None:
            units[nomination.suggestion_id].update(
                {nomination.department.code, nomination.department.name}
            )
    return units


def _due(session: Session, current: ReviewRound, today: date | None) -> date:
    """`working_days` working days after today, local adjustments included; a deadline in a
    year no holiday notice covers is refused (`CalendarError`) rather than guessed."""
    return add_working_days(
        today or local_date(utcnow()), current.working_days, calendar_for(session)
    )


class _Balancer:
    """Loads of the experts and how many items each pair shares, for choosing reviewers."""

    def __init__(self, tasks: list[ReviewTask], experts: list[User], cap: int, seed: int) -> None:
        self.cap = cap
        self.rng = random.Random(seed)
        self.load = {e.id: 0 for e in experts}
        self.pairs: dict[tuple[int, int], int] = defaultdict(int)
        self.on_item: dict[int, set[int]] = defaultdict(set)
        self.active: dict[int, set[int]] = defaultdict(set)
        for task in tasks:
            self.on_item[task.suggestion_id].add(task.expert_id)
            if task.status in ACTIVE_TASKS:
                self._count(task.suggestion_id, task.expert_id)

    def _count(self, item: int, expert: int) -> None:
        for other in self.active[item]:
            self.pairs[(min(expert, other), max(expert, other))] += 1
        self.active[item].add(expert)
        if expert in self.load:
            self.load[expert] += 1

    def choose(self, item: int, need: int) -> list[int]:
        """Up to `need` experts for `item`: never one already asked about it, under the cap;
        first the least loaded, then those sharing fewest items with the ones already on it."""
        chosen: list[int] = []
        for _ in range(need):
            candidates = [
                e
                for e, load in self.load.items()
                if e not in self.on_item[item] and load < self.cap
            ]
            if not candidates:
                break
            on = self.active[item]
            best = min(
                candidates,
                key=lambda e: (
                    sum(self.pairs[(min(e, o), max(e, o))] for o in on),
                    self.load[e],
                    self.rng.random(),
                ),
            )
            self.on_item[item].add(best)
            self._count(item, best)
            chosen.append(best)
        return chosen


def _cap(current: ReviewRound, n_items: int, k: int, n_experts: int) -> int:
    # The balanced share, ceil(n k / m), unless the organizer set a lower or higher cap.
    return current.max_per_expert or max(1, math.ceil(n_items * k / n_experts))


def assign_reviews(
    session: Session, campaign: Campaign, actor_id: int | None = None, today: date | None = None
) -> AssignmentPlan:
    """Give every suggestion k = `reviews_per_item` active reviewers among the campaign's
    experts; run again after adding experts or suggestions, it tops up and keeps what exists.
    Conflicts are stored as `conflict` tasks with their reason and never assigned."""
    current = review_round(session, campaign)
    experts = campaign_experts(session, campaign)
    problems = []
    if not round_is_open(session, campaign):
        problems.append(Problem("round", "the review round is closed; reopen it to assign"))
    if not experts:
        problems.append(Problem("experts", "assign experts to the campaign first"))
    items = campaign_suggestions(session, campaign)
    if not items:
        problems.append(Problem("suggestions", f"campaign {campaign.slug!r} has no suggestions"))
    if problems:
        raise InputError(problems)
    k = min(current.reviews_per_item, len(experts))
    ids = [s.id for s in items]
    tasks = list(session.scalars(select(ReviewTask).where(ReviewTask.suggestion_id.in_(ids))))
    plan = AssignmentPlan()
    plan.excluded = _exclude_conflicts(session, campaign, items, experts, tasks)
    balancer = _Balancer(tasks, experts, _cap(current, len(items), k, len(experts)), current.id)
    due = _due(session, current, today)
    order = list(ids)
    random.Random(current.id).shuffle(order)
    for item in order:
        need = k - len(balancer.active[item])
        if need <= 0:
            continue
        chosen = balancer.choose(item, need)
        for expert_id in chosen:
            session.add(ReviewTask(suggestion_id=item, expert_id=expert_id, due_on=due))
        plan.created += len(chosen)
        if len(chosen) < need:
            plan.short.append(item)
    session.flush()
    record(
        session,
        actor_id,
        "review.assign_items",
        "campaign",
        campaign.id,
        created=plan.created,
        excluded=len(plan.excluded),
        short=len(plan.short),
        k=k,
    )
    return plan


def _exclude_conflicts(
    session: Session,
    campaign: Campaign,
    items: list[Suggestion],
    experts: list[User],
    tasks: list[ReviewTask],
) -> list[tuple[int, int, str]]:
    """Store a `conflict` task for each expert and item they may not review (once)."""
    asked = {(t.suggestion_id, t.expert_id) for t in tasks}
    parties = _suggesters(session, [s.id for s in items])
    units = _nominating_units(session, campaign)
    profiles = {
        p.user_id: p
        for p in session.scalars(
            select(ExpertProfile).where(ExpertProfile.user_id.in_([e.id for e in experts]))
        )
    }
    excluded = []
    for item in items:
        for expert in experts:
            if (item.id, expert.id) in asked:
                continue
            reason = conflict_reason(
                expert, profiles.get(expert.id), parties[item.id], units[item.id]
            )
            if reason is None:
                continue
            task = ReviewTask(
                suggestion_id=item.id, expert_id=expert.id, status="conflict", reason=reason
            )
            session.add(task)
            tasks.append(task)
            excluded.append((item.id, expert.id, reason))
    return excluded


def step_down(
    session: Session,
    campaign: Campaign,
    task: ReviewTask,
    expert: User,
    status: str,
    reason: str,
    today: date | None = None,
) -> ReviewTask | None:
    """The expert declines (`declined`) or recuses themself (`recused`) from a task, with a
    reason; the item goes to another expert, whose new task is returned (None when nobody
    is free: the organizer sees the item short)."""
    problems = []
    if status not in ("declined", "recused"):
        problems.append(Problem("status", f"got {status!r}; expected declined or recused"))
    if task.expert_id != expert.id or task.suggestion.campaign_id != campaign.id:
        problems.append(Problem("task", "this suggestion is not assigned to you"))
    elif task.status != "assigned":
        problems.append(
            Problem("task", f"the task is {task.status}; only an open task can be handed back")
        )
    if not reason.strip():
        problems.append(Problem("reason", "say why (a conflict of interest, no time...)"))
    if not round_is_open(session, campaign):
        problems.append(Problem("round", "the review round is closed"))
    if problems:
        raise InputError(problems)
    task.status = status
    task.reason = reason.strip()
    task.answered_at = utcnow()
    session.flush()
    record(
        session,
        expert.id,
        f"review.{status}",
        "review_task",
        task.id,
        suggestion=task.suggestion_id,
    )
    return reassign(session, campaign, task.suggestion, today)


def reassign(
    session: Session, campaign: Campaign, item: Suggestion, today: date | None = None
) -> ReviewTask | None:
    """One more reviewer for `item`, when it has fewer than k active tasks."""
    current = review_round(session, campaign)
    experts = campaign_experts(session, campaign)
    tasks = list(session.scalars(select(ReviewTask).where(ReviewTask.suggestion_id == item.id)))
    _exclude_conflicts(session, campaign, [item], experts, tasks)
    session.flush()
    all_tasks = list(
        session.scalars(
            select(ReviewTask)
            .join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
            .where(Suggestion.campaign_id == campaign.id)
        )
    )
    k = min(current.reviews_per_item, len(experts))
    n_items = len({t.suggestion_id for t in all_tasks})
    # The cap grows by one for a hand-over: the balanced share is already given out.
    cap = _cap(current, n_items, k, len(experts)) + 1
    balancer = _Balancer(all_tasks, experts, cap, item.id)
    need = k - len(balancer.active[item.id])
    if need <= 0:
        return None
    chosen = balancer.choose(item.id, 1)
    if not chosen:
        return None
    task = ReviewTask(
        suggestion_id=item.id, expert_id=chosen[0], due_on=_due(session, current, today)
    )
    session.add(task)
    session.flush()
    record(session, None, "review.reassign", "review_task", task.id, suggestion=item.id)
    return task


def mark_overdue(session: Session, campaign: Campaign, today: date | None = None) -> int:
    """Tasks past their deadline and not scored become `overdue` and go to another expert;
    returns how many. Run daily by the `reviews.mark_overdue` beat entry or the CLI."""
    day = today or local_date(utcnow())
    stmt = (
        select(ReviewTask)
        .join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
        .where(
            Suggestion.campaign_id == campaign.id,
            ReviewTask.status == "assigned",
            ReviewTask.due_on < day,
        )
    )
    late = list(session.scalars(stmt))
    for task in late:
        task.status = "overdue"
        task.reason = f"not scored by {task.due_on}"
        session.flush()
        record(
            session, None, "review.overdue", "review_task", task.id, suggestion=task.suggestion_id
        )
        reassign(session, campaign, task.suggestion, day)
    return len(late)


def expert_tasks(session: Session, campaign: Campaign, expert: User) -> list[ReviewTask]:
    """The expert's open and done tasks of the campaign (what their queue lists)."""
    stmt = (
        select(ReviewTask)
        .join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
        .where(
            Suggestion.campaign_id == campaign.id,
            ReviewTask.expert_id == expert.id,
            ReviewTask.status.in_(ACTIVE_TASKS),
        )
        .order_by(ReviewTask.id)
    )
    return list(session.scalars(stmt))


def task_of(
    session: Session, campaign: Campaign, expert: User, suggestion_id: int
) -> ReviewTask | None:
    """The expert's active task on the suggestion, or None (the item is not theirs)."""
    return session.scalar(
        select(ReviewTask)
        .join(Suggestion, Suggestion.id == ReviewTask.suggestion_id)
        .where(
            Suggestion.campaign_id == campaign.id,
            ReviewTask.suggestion_id == suggestion_id,
            ReviewTask.expert_id == expert.id,
            ReviewTask.status.in_(ACTIVE_TASKS),
        )
    )
