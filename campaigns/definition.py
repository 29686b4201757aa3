"""The campaign definition file (YAML): parse and validate it into a plain `CampaignDefinition`,
and write a stored campaign back out. Loading and dumping round-trip.

The file carries its questionnaire; it is validated here with `questionnaire.schema`, and
published by the caller (see `forms.publishing.load_campaign_file`), in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from campaigns.lifecycle import STATUSES
from minsheng.errors import InputError, Problem, TooLargeError
from minsheng.text import shape_problem, unwritable_text
from questionnaire.schema import Form, parse_form

CAMPAIGN_FIELDS = frozenset(
    {
        "slug",
        "title",
        "theme",
        "description",
        "starts_on",
        "ends_on",
        "status",
        "anonymous",
        "target_groups",
        "collection_points",
        "departments",
        "settings",
        "questionnaire",
    }
)
# A campaign file is a few hundred lines of YAML (issue 11: bounded like every upload).
MAX_FILE_BYTES = 5 << 20
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")


@dataclass(frozen=True)
class CampaignDefinition:
    """Everything a campaign file says, validated; no database objects."""

    slug: str
    title: dict[str, str]
    theme: str
    description: dict[str, str]
    starts_on: date | None
    ends_on: date | None
    status: str
    anonymous: bool
    target_groups: list[dict[str, Any]]
    collection_points: list[dict[str, str]]
    departments: list[dict[str, str]]
    settings: dict[str, Any]
    # None only for a campaign set up on its page before it has a questionnaire.
    form: Form | None
    extra: dict[str, Any] = field(default_factory=dict)


def read_campaign_file(path: str | Path) -> CampaignDefinition:
    """Read and validate a campaign YAML file; every problem names the file and the field."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TooLargeError(
                [Problem(path.name, f"{size:,} bytes; a campaign file may hold {MAX_FILE_BYTES:,}")]
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"cannot read the file: {exc}")]) from exc
    return parse_campaign_text(text, path.name)


def parse_campaign_text(text: str, name: str) -> CampaignDefinition:
    """Validate the YAML text of a campaign file called `name` (read from disk or uploaded)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise TooLargeError([Problem(name, f"a campaign file may hold {MAX_FILE_BYTES:,} bytes")])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise InputError([Problem(where, f"not valid YAML: {exc}")]) from exc
    except RecursionError:
        raise InputError([Problem(name, "nested too deeply to read")]) from None
    too_big = shape_problem(data)
    if too_big:
        raise TooLargeError([Problem(name, too_big)])
    return parse_campaign(data, source=name)


def parse_campaign(
    data: Any, source: str = "campaign", questionnaire_required: bool = True
) -> CampaignDefinition:
    """Validate a campaign mapping; collects campaign and questionnaire problems together.

    A file carries its questionnaire; the campaign's settings page edits everything else and
    passes `questionnaire_required=False` (a draft gets its questions in the editor)."""
    problems: list[Problem] = []

    def error(where: str, message: str) -> None:
        problems.append(Problem(f"{source}: {where}", message))

    if not isinstance(data, Mapping):
        raise InputError([Problem(source, "expected a mapping of campaign fields")])
    for key in data:
        if key not in CAMPAIGN_FIELDS:
            error(
                str(key),
                f"unknown field; expected one of {', '.join(sorted(CAMPAIGN_FIELDS))}",
            )
    # The questionnaire's own text is checked by parse_form, with its paths.
    outside = {k: v for k, v in data.items() if k != "questionnaire"}
    for path, problem in unwritable_text(outside):
        error(path, problem)
    slug = str(data.get("slug") or "")
    if not SLUG_PATTERN.match(slug):
        error("slug", f"got {slug!r}; expected 3-80 lowercase letters, digits and hyphens")
    title = _label(data.get("title"), "title", error)
    description = _label(data.get("description"), "description", error)
    if not title:
        error("title", "missing; give the campaign's title")
    theme = str(data.get("theme") or "")
    if not theme:
        error("theme", "missing; e.g. 交通出行")
    starts_on = _date(data.get("starts_on"), "starts_on", error)
    ends_on = _date(data.get("ends_on"), "ends_on", error)
    if starts_on and ends_on and ends_on < starts_on:
        error("ends_on", f"{ends_on} is before starts_on {starts_on}")
    status = str(data.get("status") or "draft")
    if status not in STATUSES:
        error("status", f"got {status!r}; expected one of {', '.join(STATUSES)}")
    # Labels are checked here, before the raise below, so their problems are reported too.
    groups = [
        {**g, "name": _label(g["name"], f"target_groups[{i}].name", error)}
        for i, g in _coded_list(data.get("target_groups"), "target_groups", error)
    ]
    points = [p for _, p in _coded_list(data.get("collection_points"), "collection_points", error)]
    departments = [d for _, d in _coded_list(data.get("departments"), "departments", error)]
    settings = data.get("settings") or {}
    if not isinstance(settings, Mapping):
        error("settings", "expected a mapping")
        settings = {}
    if "timezone" in settings and not _is_timezone(settings["timezone"]):
        error(
            "settings.timezone",
            f"got {settings['timezone']!r}; expected an IANA time zone such as Asia/Shanghai",
        )
    form: Form | None = None
    if "questionnaire" not in data:
        if questionnaire_required:
            error("questionnaire", "missing; a campaign file carries its questionnaire")
    else:
        try:
            form = parse_form(data["questionnaire"], source=source)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return CampaignDefinition(
        slug=slug,
        title=title,
        theme=theme,
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        status=status,
        anonymous=bool(data.get("anonymous", True)),
        target_groups=groups,
        collection_points=[{k: str(v) for k, v in p.items()} for p in points],
        departments=[{k: str(v) for k, v in d.items()} for d in departments],
        settings=dict(settings),
        form=form,
    )


def _is_timezone(value: Any) -> bool:
    """Whether ``value`` names a zone reports and exports can tell local times in."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _label(value: Any, where: str, error: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"zh": value}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    error(where, "expected text or a mapping of language to text")
    return {}


def _date(value: Any, where: str, error: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        error(where, f"got {value!r}; expected a date as YYYY-MM-DD")
        return None


def _coded_list(value: Any, where: str, error: Any) -> list[tuple[int, dict[str, Any]]]:
    """The well-formed entries of a list of `code`/`name` mappings, with their index in the file."""
    if value in (None, []):
        return []
    if not isinstance(value, list):
        error(where, "expected a list of entries with `code` and `name`")
        return []
    out: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or not item.get("code") or not item.get("name"):
            error(f"{where}[{i}]", "each entry needs `code` and `name`")
            continue
        code = str(item["code"])
        if code in seen:
            error(f"{where}[{i}]", f"duplicate code {code!r}")
        seen.add(code)
        out.append((i, {str(k): v for k, v in item.items()}))
    return out


def definition_to_dict(definition: CampaignDefinition, form_dict: dict[str, Any]) -> dict[str, Any]:
    """The mapping `parse_campaign` reads back into an equal definition."""
    out: dict[str, Any] = {
        "slug": definition.slug,
        "title": definition.title,
        "theme": definition.theme,
        "description": definition.description,
        "starts_on": definition.starts_on.isoformat() if definition.starts_on else None,
        "ends_on": definition.ends_on.isoformat() if definition.ends_on else None,
        "status": definition.status,
        "anonymous": definition.anonymous,
        "target_groups": definition.target_groups,
        "collection_points": definition.collection_points,
        "departments": definition.departments,
        "settings": definition.settings,
        "questionnaire": form_dict,
    }
    return {k: v for k, v in out.items() if v not in (None, [], {})}


def dump_yaml(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False, width=100)
