"""A campaign's settings page and its file are one thing: the page's fields are the campaign
file's fields (everything but the questionnaire), read back from a stored campaign and saved
through the same `parse_campaign` and `store_campaign` the CLI uses, so both refuse the same
input with the same problems."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from sqlalchemy.orm import Session

from campaigns.definition import definition_to_dict, parse_campaign
from campaigns.models import Campaign
from campaigns.store import campaign_definition, get_campaign, store_campaign
from minsheng.accounts.models import User
from minsheng.errors import InputError, Problem
from minsheng.text import shape_problem

#: Statuses in which the settings page may change a campaign: before it opens, and while it is
#: paused (respondents are not answering). An open campaign is paused first; a closed or
#: archived one keeps the settings it ran with.
EDITABLE_STATUSES = ("draft", "paused")
#: The settings that have fields of their own on the page; the others stay in the YAML box.
OWN_SETTINGS = ("timezone",)
SEPARATOR = "|"
# Where a problem of `parse_campaign` goes on the page: its field, by the location's head.
_FIELD_OF = {
    "title": "title_zh",
    "description": "description_zh",
    "settings.timezone": "timezone",
}
_INDEX = re.compile(r"^(?P<field>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<rest>.*))?$")


def editable(campaign: Campaign) -> bool:
    """Whether the settings page may change `campaign` now (`EDITABLE_STATUSES`)."""
    return campaign.status in EDITABLE_STATUSES


def page_values(campaign: Campaign) -> dict[str, Any]:
    """The settings page's field values for a stored campaign (what `campaign dump` writes,
    but the questionnaire, in the page's shape)."""
    data = definition_to_dict(campaign_definition(campaign, None), {})
    settings = dict(data.get("settings") or {})
    own = {key: settings.pop(key) for key in OWN_SETTINGS if key in settings}
    return {
        "slug": campaign.slug,
        "title_zh": campaign.title.get("zh", ""),
        "title_en": campaign.title.get("en", ""),
        "description_zh": campaign.description.get("zh", ""),
        "description_en": campaign.description.get("en", ""),
        "theme": campaign.theme,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "anonymous": campaign.anonymous,
        "timezone": own.get("timezone", ""),
        "target_groups": _lines(
            [g["code"], g["name"].get("zh", ""), g["name"].get("en", ""), g.get("description", "")]
            for g in data.get("target_groups", [])
        ),
        "collection_points": _lines(
            [p["code"], p["name"], p.get("address", "")] for p in data.get("collection_points", [])
        ),
        "departments": _lines([d["code"], d["name"]] for d in data.get("departments", [])),
        "settings": yaml.safe_dump(settings, allow_unicode=True, sort_keys=False)
        if settings
        else "",
    }


def campaign_mapping(
    values: Mapping[str, Any], status: str = "draft", lines: dict[str, list[int]] | None = None
) -> dict[str, Any]:
    """The campaign file mapping (without questionnaire) the page's `values` say; problems of the
    line lists and the YAML box are raised here, each under its field. `lines` receives, per
    line-list field, the page line of each entry."""
    problems: list[Problem] = []
    lines = {} if lines is None else lines
    settings: dict[str, Any] = {}
    text = str(values.get("settings") or "").strip()
    if text:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark else ""
            problems.append(Problem("settings", f"{where}not valid YAML"))
            loaded = {}
        if too_big := shape_problem(loaded):
            problems.append(Problem("settings", too_big))
        elif not isinstance(loaded, Mapping):
            problems.append(Problem("settings", "expected a mapping such as `weighting: {...}`"))
        else:
            settings = {str(k): v for k, v in loaded.items()}
    for key in OWN_SETTINGS:
        settings.pop(key, None)
        if values.get(key):
            settings[key] = str(values[key]).strip()
    groups = _rows(values.get("target_groups"), "target_groups", 4, problems, lines)
    points = _rows(values.get("collection_points"), "collection_points", 3, problems, lines)
    departments = _rows(values.get("departments"), "departments", 2, problems, lines)
    if problems:
        raise InputError(problems)
    return {
        "slug": str(values.get("slug") or "").strip(),
        "title": _label(values.get("title_zh"), values.get("title_en")),
        "theme": str(values.get("theme") or "").strip(),
        "description": _label(values.get("description_zh"), values.get("description_en")),
        "starts_on": values.get("starts_on"),
        "ends_on": values.get("ends_on"),
        "status": status,
        "anonymous": bool(values.get("anonymous")),
        "target_groups": [
            {
                "code": g[0],
                "name": _label(g[1], g[2]),
                **({"description": g[3]} if g[3] else {}),
            }
            for g in groups
        ],
        "collection_points": [
            {"code": p[0], "name": p[1], **({"address": p[2]} if p[2] else {})} for p in points
        ],
        "departments": [{"code": d[0], "name": d[1]} for d in departments],
        "settings": settings,
    }


def save_campaign_settings(
    session: Session, values: Mapping[str, Any], campaign: Campaign | None, actor: User
) -> Campaign:
    """Create a draft campaign (`campaign` None; its creator owns it) or change one whose status
    allows it, from the settings page's `values`; every problem is raised at once, each located
    by the page's field name. Audited as `store_campaign` records it."""
    if campaign is not None and not editable(campaign):
        raise InputError(
            [Problem("", f"a campaign that is {campaign.status} cannot be changed here")]
        )
    values = dict(values)
    if campaign is not None:
        values["slug"] = campaign.slug  # links and QR posters are already out with it
    lines: dict[str, list[int]] = {}
    data = campaign_mapping(values, campaign.status if campaign else "draft", lines)
    problems = []
    if not data["title"].get("zh"):
        # Pages are Chinese first: the Chinese title is what every page and report shows.
        problems.append(Problem("title_zh", "missing; give the campaign's title in Chinese"))
    if campaign is None and data["slug"] and get_campaign(session, data["slug"]) is not None:
        problems.append(Problem("slug", f"{data['slug']!r} is already another campaign's"))
    try:
        definition = parse_campaign(data, source="page", questionnaire_required=False)
    except InputError as exc:
        raise InputError([*problems, *(on_page(p, lines) for p in exc.problems)]) from None
    if problems:
        raise InputError(problems)
    stored = store_campaign(session, definition, actor_id=actor.id)
    if campaign is None:
        stored.owner = actor
        session.flush()
    return stored


def on_page(problem: Problem, lines: Mapping[str, list[int]]) -> Problem:
    """A problem `parse_campaign` located in the file (`page: target_groups[2]`) located on the
    page instead: the field, and the line of a line list (`lines`, from `campaign_mapping`)."""
    where = problem.location.removeprefix("page: ").removeprefix("page")
    match = _INDEX.match(where)
    if match:
        numbers = lines.get(match["field"], [])
        index = int(match["index"])
        line = numbers[index] if index < len(numbers) else index + 1
        return Problem(match["field"], f"line {line}: {problem.message}")
    field = _FIELD_OF.get(where, where.split(".")[0])
    return Problem(field, problem.message)


def _label(zh: Any, en: Any) -> dict[str, str]:
    out = {"zh": str(zh or "").strip(), "en": str(en or "").strip()}
    return {k: v for k, v in out.items() if v}


def _lines(rows: Any) -> str:
    return "\n".join(f" {SEPARATOR} ".join(str(c) for c in row).rstrip(" |") for row in rows)


def _rows(
    text: Any, field: str, width: int, problems: list[Problem], lines: dict[str, list[int]]
) -> list[list[str]]:
    """The non-empty lines of a line-list field, split at `|` into `width` cells; their line
    numbers go to `lines[field]`."""
    rows = []
    numbers = lines.setdefault(field, [])
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(SEPARATOR)]
        if len(cells) > width:
            problems.append(
                Problem(field, f"line {number}: {len(cells)} parts; expected at most {width}")
            )
            continue
        rows.append(cells + [""] * (width - len(cells)))
        numbers.append(number)
    return rows
