"""The invitation state machine: which status an invitation may move to from which, as a table
[Signalen's `ALLOWED_STATUS_CHANGES`], and `advance`, the one conditional UPDATE through which
sending, delivery receipts, open tracking and the respondent's link change it.

An invitation only moves forward along what the person did or what the channel reported; a
late or repeated report never moves it back. `bounced` has one rule wherever it comes from (a
refusal at send time or a gateway's receipt later): the address is dead, so an invitation the
person has not started yet (`created`, `sent`, `delivered`, `opened`) becomes `bounced` and gets
no further message. A bounced reminder after an opened invitation message still counts as a
refusal in the funnel, which reads the opens from the deliveries. Once the person started the
questionnaire, a bounce changes nothing: they hold a working link.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import Session

from invitations.models import Invitation

CREATED = "created"
SENT = "sent"
DELIVERED = "delivered"
BOUNCED = "bounced"
OPENED = "opened"
STARTED = "started"
COMPLETED = "completed"

ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CREATED: (SENT, DELIVERED, BOUNCED, OPENED, STARTED, COMPLETED),
    SENT: (DELIVERED, BOUNCED, OPENED, STARTED, COMPLETED),
    # A receipt may arrive after the person opened the message; it does not move them back.
    DELIVERED: (BOUNCED, OPENED, STARTED, COMPLETED),
    OPENED: (BOUNCED, STARTED, COMPLETED),
    # A person whose reminder bounced may still answer through the link of an earlier message.
    BOUNCED: (STARTED, COMPLETED),
    STARTED: (COMPLETED,),
    # One invitation gives one response (design.md, "Promises").
    COMPLETED: (),
}
# Funnel order, used by status counts and pages.
STATES = tuple(ALLOWED_TRANSITIONS)
# An invitation in these states gets no further message: it answered, or its address is dead.
NO_MORE_MESSAGES = (BOUNCED, COMPLETED)
# Ids per UPDATE: under SQLite's limit on bound variables, and few round trips per batch.
_CHUNK = 5000
INVITATIONS = cast(Table, Invitation.__table__)


def allowed_from(target: str) -> tuple[str, ...]:
    """The states from which an invitation may move to `target`. Raises ValueError naming the
    known states for an unknown one."""
    if target not in ALLOWED_TRANSITIONS:
        raise ValueError(
            f"unknown invitation status {target!r}; expected one of {', '.join(STATES)}"
        )
    return tuple(s for s, nexts in ALLOWED_TRANSITIONS.items() if target in nexts)


def advance_many(
    session: Session, invitation_ids: Iterable[int], target: str, **values: Any
) -> set[int]:
    """Move every invitation of `invitation_ids` whose status allows it to `target`, setting
    `values` (other columns, e.g. `completed_at`) on those only; returns the ids that moved.

    One `UPDATE ... WHERE id IN (...) AND status IN (allowed) RETURNING id` per chunk (SQLite
    3.35+ and PostgreSQL), so of two concurrent changes to one invitation only one moves it,
    whatever the database's isolation level. Objects already loaded in the session are not
    refreshed; `advance` expires the one it is given.
    """
    statement = _statement(target)
    if values:
        statement = statement.values(**values)
    ids = list(dict.fromkeys(invitation_ids))
    moved: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(statement, {"ids": ids[start : start + _CHUNK]})
        moved.update(int(row[0]) for row in rows)
    return moved


@lru_cache(maxsize=len(ALLOWED_TRANSITIONS))
def _statement(target: str) -> Update:
    # A Core statement on the table, built once per target: the ORM-enabled form costs more in
    # Python than the UPDATE costs the database, once per message when sending (issue 10).
    return (
        update(INVITATIONS)
        .where(
            INVITATIONS.c.id.in_(bindparam("ids", expanding=True)),
            INVITATIONS.c.status.in_(allowed_from(target)),
        )
        .values(status=target)
        .returning(INVITATIONS.c.id)
    )


def advance(session: Session, invitation: Invitation | int, target: str, **values: Any) -> bool:
    """Move one invitation to `target` if the table allows it from its current status in the
    database (not the loaded object's); True if it moved. A loaded `Invitation` is expired, so
    its next read shows the stored status."""
    invitation_id = invitation if isinstance(invitation, int) else invitation.id
    moved = bool(advance_many(session, [invitation_id], target, **values))
    if isinstance(invitation, Invitation):
        session.expire(invitation, ["status", *values])
    return moved
