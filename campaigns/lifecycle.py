"""Campaign states and the transitions between them, as a declared table.

Each transition says what it does in words the status page shows before anyone confirms it.
Later stages add what they know about a change with `add_status_check`: `forms` refuses to open
a campaign whose questionnaire is missing or has errors, `invitations` says how many invitations
are still unsent before a campaign is paused or closed. `change_status` runs the same checks, so
the page, the CLI and the campaign file obey one rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.audit import record
from minsheng.errors import InputError, Problem

STATUSES = ("draft", "open", "paused", "closed", "archived")


@dataclass(frozen=True)
class Transition:
    """One allowed step: from `source` to `target`, named by `verb` (the button) and explained
    by `effect` (the confirmation). Both are English msgids the pages translate."""

    source: str
    target: str
    verb: str
    effect: str


_CLOSING = (
    "No more answers are accepted and no invitation or reminder is sent. Results, reviews and "
    "reports stay available. A closed campaign can be reopened."
)
# A campaign is drafted, opened to respondents, perhaps paused and resumed, closed, and finally
# archived; a closed campaign may be reopened (a deadline extension), an archived one never.
TRANSITION_TABLE: tuple[Transition, ...] = (
    Transition(
        "draft",
        "open",
        "Open",
        "Respondents can answer from now on, through the public link, QR codes and "
        "invitations, and invitations can be sent.",
    ),
    Transition(
        "open",
        "paused",
        "Pause",
        "Respondents see that the questionnaire is not accepting answers, and no invitation or "
        "reminder is sent, until the campaign is resumed. Saved drafts are kept.",
    ),
    Transition(
        "paused",
        "open",
        "Resume",
        "Respondents can answer again, and sending invitations and reminders resumes.",
    ),
    Transition("open", "closed", "Close", _CLOSING),
    Transition("paused", "closed", "Close", _CLOSING),
    Transition(
        "closed",
        "open",
        "Reopen",
        "Respondents can answer again (for example after a deadline extension).",
    ),
    Transition(
        "closed",
        "archived",
        "Archive",
        "The campaign is kept for the record only; it can never be reopened.",
    ),
)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    status: tuple(t.target for t in TRANSITION_TABLE if t.source == status) for status in STATUSES
}


@dataclass(frozen=True)
class Note:
    """Something to read before confirming a step: an English msgid with ``%(name)s``
    placeholders and their values, so the page shows it translated and the CLI in English."""

    message: str
    values: dict[str, int | str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.values


@dataclass
class StatusCheck:
    """What a stage knows about a status change: `notes` the person should read before
    confirming, and `problems` that refuse it."""

    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


Check = Callable[[Session, Campaign, str], StatusCheck]
_CHECKS: list[Check] = []


def add_status_check(check: Check) -> None:
    """Let a later stage weigh in on every status change (called in its `init_app`; a check
    added twice runs once)."""
    if check not in _CHECKS:
        _CHECKS.append(check)


class LifecycleError(InputError):
    """A status change the lifecycle does not allow (exit status 2 on the CLI, 422 on pages)."""

    def __init__(self, message: str | list[Problem]) -> None:
        super().__init__([Problem("status", message)] if isinstance(message, str) else message)


def transition(campaign: Campaign, new: str) -> Transition:
    """The table's step from the campaign's status to `new`, or `LifecycleError` naming the
    allowed next states."""
    if new not in STATUSES:
        raise LifecycleError(f"unknown status {new!r}; expected one of {', '.join(STATUSES)}")
    for step in TRANSITION_TABLE:
        if step.source == campaign.status and step.target == new:
            return step
    allowed = TRANSITIONS[campaign.status]
    raise LifecycleError(
        f"campaign {campaign.slug} is {campaign.status}; it can move to "
        f"{', '.join(allowed) or 'no other status'}, not {new}"
    )


def next_steps(campaign: Campaign) -> list[Transition]:
    """The steps the status page offers from the campaign's current status."""
    return [t for t in TRANSITION_TABLE if t.source == campaign.status]


def status_check(session: Session, campaign: Campaign, new: str) -> StatusCheck:
    """Every stage's notes and problems about moving `campaign` to `new`."""
    merged = StatusCheck()
    for check in _CHECKS:
        found = check(session, campaign, new)
        merged.notes.extend(found.notes)
        merged.problems.extend(found.problems)
    return merged


def change_status(
    session: Session, campaign: Campaign, new: str, actor_id: int | None
) -> StatusCheck:
    """Move `campaign` to `new` (audited), or raise `LifecycleError`: a step the table does
    not have, or the problems a stage found (a questionnaire with errors cannot open). Returns
    the stages' check, whose notes say what the step left behind (unsent invitations)."""
    transition(campaign, new)
    check = status_check(session, campaign, new)
    if check.problems:
        raise LifecycleError(check.problems)
    record(
        session,
        actor_id,
        "campaign.status",
        "campaign",
        campaign.id,
        before=campaign.status,
        after=new,
    )
    campaign.status = new
    return check


def is_accepting(campaign: Campaign, today: date) -> bool:
    """Responses are accepted while the campaign is open and `today` is inside its dates."""
    if campaign.status != "open":
        return False
    if campaign.starts_on and today < campaign.starts_on:
        return False
    return not (campaign.ends_on and today > campaign.ends_on)
