"""The menu and the campaign tabs: each package adds its own entries in its `init_app`, and the
base templates render them, so no template of an earlier stage names a later stage's endpoint.

Who sees an entry is read from what its view declares (`require_role`, or the `access` rule asked
about the page being shown), so a link is shown exactly to the people the page lets in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

EXTENSION = "minsheng.navigation"


@dataclass(frozen=True)
class Entry:
    """One link: the endpoint it opens, its (lazily translated) label and its place."""

    endpoint: str
    label: Any
    order: int


@dataclass
class Navigation:
    """The app's global menu, the tabs of a campaign's staff pages, and the links a respondent
    is offered after answering (in the order of their `order`)."""

    menu: list[Entry] = field(default_factory=list)
    campaign_tabs: list[Entry] = field(default_factory=list)
    respondent_links: list[Entry] = field(default_factory=list)
    # Links a later stage puts on an earlier stage's page (the page's endpoint -> its entries).
    page_links: dict[str, list[Entry]] = field(default_factory=dict)


def navigation(app: Flask) -> Navigation:
    """The app's navigation, created on first use."""
    nav = app.extensions.get(EXTENSION)
    if nav is None:
        nav = app.extensions[EXTENSION] = Navigation()
    return nav  # type: ignore[no-any-return]


def add_menu_entry(app: Flask, endpoint: str, label: Any, order: int) -> None:
    """A link in the header menu to `endpoint` (a page without URL arguments)."""
    _insert(navigation(app).menu, Entry(endpoint, label, order))


def add_campaign_tab(app: Flask, endpoint: str, label: Any, order: int) -> None:
    """A tab on every staff page of a campaign; `endpoint` takes the campaign's `slug`."""
    _insert(navigation(app).campaign_tabs, Entry(endpoint, label, order))


def add_respondent_link(app: Flask, endpoint: str, label: Any, order: int) -> None:
    """A link on the respondent's thank-you page; `endpoint` is public and takes `slug`."""
    _insert(navigation(app).respondent_links, Entry(endpoint, label, order))


def add_page_link(app: Flask, page: str, endpoint: str, label: Any, order: int) -> None:
    """A link on the page `page` to `endpoint`, which takes the same URL arguments (a later
    stage's action on an earlier stage's page: "Import a campaign file" on the campaign list)."""
    _insert(navigation(app).page_links.setdefault(page, []), Entry(endpoint, label, order))


def _insert(entries: list[Entry], entry: Entry) -> None:
    if any(e.endpoint == entry.endpoint for e in entries):
        raise ValueError(f"navigation entry {entry.endpoint!r} is added twice")
    entries.append(entry)
    entries.sort(key=lambda e: e.order)


def may_open(endpoint: str) -> bool:
    """Whether the logged-in user passes what the endpoint's view declares (an access rule is
    asked about the page being shown, e.g. its campaign)."""
    from flask import current_app, request
    from flask_login import current_user

    from minsheng.accounts.permissions import (
        ACCESS_ATTR,
        PUBLIC_ATTR,
        ROLES_ATTR,
        access_allows,
        role_allows,
    )

    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    if getattr(view, PUBLIC_ATTR, False):
        return True
    if not current_user.is_authenticated:
        return False
    if rule := getattr(view, ACCESS_ATTR, None):
        return access_allows(rule, current_user, request.view_args)
    return role_allows(current_user.role, getattr(view, ROLES_ATTR, ()))


def init_app(app: Flask) -> None:
    """Give templates `menu_entries()`, `campaign_tabs()`, `respondent_links()` and
    `page_links(endpoint)` (the entries the current user may open), `may_open(endpoint)` and
    `staff_page()` (whether to show a campaign's tabs)."""

    def menu_entries() -> list[Entry]:
        return [e for e in navigation(app).menu if may_open(e.endpoint)]

    def campaign_tabs() -> list[Entry]:
        return [e for e in navigation(app).campaign_tabs if may_open(e.endpoint)]

    def respondent_links() -> list[Entry]:
        return list(navigation(app).respondent_links)

    def page_links(page: str) -> list[Entry]:
        return [e for e in navigation(app).page_links.get(page, []) if may_open(e.endpoint)]

    def staff_page() -> bool:
        """The page being rendered is a staff page (its view is not public)."""
        from flask import request

        from minsheng.accounts.permissions import PUBLIC_ATTR

        view = app.view_functions.get(request.endpoint or "")
        return view is not None and not getattr(view, PUBLIC_ATTR, False)

    app.jinja_env.globals.update(
        staff_page=staff_page,
        menu_entries=menu_entries,
        campaign_tabs=campaign_tabs,
        respondent_links=respondent_links,
        page_links=page_links,
        may_open=may_open,
    )
