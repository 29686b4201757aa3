"""Who may use a target list (issue 11): a list drawn up for a campaign belongs to that
campaign's organizers; a list kept for every campaign (`campaign_id` empty) to every organizer.
Its imports, their error files and their jobs follow the list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from campaigns.access import object_rule, runs
from campaigns.models import Campaign
from contacts.models import ContactImport, ContactList
from minsheng.accounts.models import User
from minsheng.accounts.permissions import add_access_rule
from minsheng.db import get_session

USERS = {"owner", "admin"}


def list_campaign(contact_list: ContactList) -> Campaign | None:
    """The campaign a list was drawn up for; None for a list kept for every campaign."""
    if contact_list.campaign_id is None:
        return None
    return get_session().get(Campaign, contact_list.campaign_id)


def uses_list(user: User, contact_list: ContactList) -> bool:
    """Whether `user` may read, import into and sample from `contact_list`."""
    return runs(user, list_campaign(contact_list))


def usable_lists(user: User, lists: list[tuple[ContactList, int]]) -> list[tuple[ContactList, int]]:
    """The (list, count) rows of `lists` that `user` may use, for the pages that offer them."""
    return [(lst, n) for lst, n in lists if uses_list(user, lst)]


def _list(session: Session, arguments: Mapping[str, Any]) -> ContactList | None:
    return session.get(ContactList, int(arguments["list_id"]))


def _import_list(session: Session, arguments: Mapping[str, Any]) -> ContactList | None:
    found = session.get(ContactImport, int(arguments["import_id"]))
    return session.get(ContactList, found.list_id) if found is not None else None


def init_app() -> None:
    """Register the rules of a list's pages and of its imports' pages."""
    add_access_rule(
        "contact-list", object_rule(_list, list_campaign, runs), ("organizer",), allows=USERS
    )
    add_access_rule(
        "contact-import",
        object_rule(_import_list, list_campaign, runs),
        ("organizer",),
        allows=USERS,
    )
