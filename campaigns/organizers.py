"""Who runs a campaign: its owner and co-organizers (`campaigns.access` lets them in)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from minsheng.accounts.models import User
from minsheng.audit import record
from minsheng.errors import InputError, Problem


def organizers_named(
    session: Session, owner: str | None, co_organizers: Sequence[str]
) -> tuple[User | None, list[User]]:
    """The owner and co-organizer accounts called by these user names; one `InputError` naming
    every unknown user, account of another role (an expert cannot own a campaign), and
    co-organizers given without an owner."""
    problems: list[Problem] = []
    if co_organizers and owner is None:
        problems.append(Problem("--co-organizer", "needs --owner: a campaign has one owner"))
    found: list[User] = []
    for location, name in [("--owner", owner), *(("--co-organizer", n) for n in co_organizers)]:
        if name is None:
            continue
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            problems.append(Problem(location, f"no user {name!r}"))
        elif user.role not in ("organizer", "admin"):
            problems.append(
                Problem(location, f"user {name!r} has role {user.role}; expected an organizer")
            )
        else:
            found.append(user)
    if problems:
        raise InputError(problems)
    return (found[0], found[1:]) if owner is not None else (None, [])


def give_campaign(
    session: Session,
    campaign: Campaign,
    owner: User,
    co_organizers: Sequence[User] = (),
    actor_id: int | None = None,
) -> None:
    """Make `owner` the campaign's owner and `co_organizers` those sharing its work (replacing
    the earlier ones); from then on other organizers no longer see it. Audited."""
    campaign.owner = owner
    campaign.co_organizers = [u for u in co_organizers if u.id != owner.id]
    session.flush()
    record(
        session,
        actor_id,
        "campaign.organizers",
        "campaign",
        campaign.id,
        owner=owner.username,
        co_organizers=[u.username for u in campaign.co_organizers],
    )


def organizer_accounts(session: Session) -> list[User]:
    """The active accounts that may own or share a campaign (organizers and admins), by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.role.in_(("organizer", "admin")), User.active.is_(True))
            .order_by(User.username)
        )
    )
