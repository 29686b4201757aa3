"""Quotas per stratum (配额): the most completed responses a stratum may give. A full quota stops
new invitations in that stratum and closes the public link for it."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from invitations.models import Quota
from minsheng.audit import record
from minsheng.errors import InputError, Problem


def stratum_key(values: Mapping[str, object]) -> str:
    """Canonical text of a stratum: `{"age_group":"18-34","district":"锦江区"}` (names sorted,
    values as text), the same whatever order the attributes were given in."""
    return json.dumps(
        {str(k): str(v) for k, v in sorted(values.items())},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def stratum_values(key: str | None) -> dict[str, str]:
    """The attribute values of a `stratum_key` (empty for no stratum)."""
    if not key:
        return {}
    loaded = json.loads(key)
    return {str(k): str(v) for k, v in loaded.items()}


def set_quota(
    session: Session,
    campaign: Campaign,
    values: Mapping[str, object],
    maximum: int,
    actor_id: int | None = None,
) -> Quota:
    """Create or change the quota of the stratum `values` (e.g. `{"district": "锦江区"}`).

    Counts already recorded are kept, so lowering a quota below them closes the stratum.
    """
    problems = []
    if not values:
        problems.append(Problem("stratum", "a quota needs at least one attribute=value"))
    if maximum < 0:
        problems.append(Problem("maximum", f"got {maximum}; expected an integer >= 0"))
    if problems:
        raise InputError(problems)
    key = stratum_key(values)
    quota = session.scalar(
        select(Quota).where(Quota.campaign_id == campaign.id, Quota.stratum == key)
    )
    if quota is None:
        quota = Quota(
            campaign_id=campaign.id,
            stratum=key,
            attribute_values=stratum_values(key),
            maximum=maximum,
            completed=0,
        )
        session.add(quota)
    else:
        quota.maximum = maximum
    session.flush()
    record(
        session,
        actor_id,
        "invitations.quota",
        "quota",
        quota.id,
        stratum=quota.stratum,
        maximum=maximum,
    )
    return quota


def parse_stratum(text: str, location: str = "stratum") -> dict[str, str]:
    """`district=锦江区, age_group=18-34` (or one pair per item of a list) as a dict.

    Raises InputError naming each item that is not `attribute=value`.
    """
    values: dict[str, str] = {}
    problems = []
    for item in (part.strip() for part in text.replace("，", ",").split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(location, f"got {item!r}; expected attribute=value"))
            continue
        values[name.strip()] = value.strip()
    if problems:
        raise InputError(problems)
    return values


def quotas_of(session: Session, campaign_id: int) -> list[Quota]:
    return list(
        session.scalars(select(Quota).where(Quota.campaign_id == campaign_id).order_by(Quota.id))
    )


def _applies(quota: Quota, values: Mapping[str, object]) -> bool:
    # A quota on district alone applies to every stratum of that district, whatever else.
    return all(str(values.get(k, "")) == str(v) for k, v in quota.attribute_values.items())


def open_for(quotas: list[Quota], values: Mapping[str, object]) -> bool:
    """Whether no quota that applies to `values` is full (no database access)."""
    return not any(_applies(q, values) and q.completed >= q.maximum for q in quotas)


def quota_open(session: Session, campaign: Campaign, stratum_values: Mapping[str, object]) -> bool:
    """Whether the stratum described by `stratum_values` (contact attributes or answers on the
    public link, e.g. `{"district": "锦江区", "age_group": "18-34"}`) may still respond.

    True when the campaign has no quota that applies.
    """
    return open_for(quotas_of(session, campaign.id), stratum_values)


def quota_attributes(session: Session, campaign: Campaign) -> list[str]:
    """The attribute names the campaign's quotas are defined on, e.g. `["district"]`: the
    answers the public-link page passes to `quota_open` / `claim_quota`."""
    names = {name for q in quotas_of(session, campaign.id) for name in q.attribute_values}
    return sorted(names)


class _QuotaFull(Exception):
    pass


def record_completion(
    session: Session, campaign_id: int, stratum_values: Mapping[str, object]
) -> int:
    """Count one completed response against every quota that applies, full or not (an invited
    person who completes is counted); returns how many quotas counted it.

    A single UPDATE per quota (`completed = completed + 1`), so concurrent completions are never
    lost.
    """
    counted = 0
    for quota in quotas_of(session, campaign_id):
        if _applies(quota, stratum_values):
            session.execute(
                update(Quota)
                .where(Quota.id == quota.id)
                .values(completed=Quota.completed + 1)
                .execution_options(synchronize_session=False)
            )
            session.expire(quota)
            counted += 1
    return counted


def claim_quota(session: Session, campaign: Campaign, stratum_values: Mapping[str, object]) -> bool:
    """Count one public-link response against the quotas that apply, or refuse it (False, and
    nothing counted) when one of them is full.

    Each count is a conditional UPDATE (`... WHERE completed < maximum`) inside a savepoint, so
    two respondents racing for the last place cannot both get it.
    """
    try:
        with session.begin_nested():
            for quota in quotas_of(session, campaign.id):
                if not _applies(quota, stratum_values):
                    continue
                claimed = session.execute(
                    update(Quota)
                    .where(Quota.id == quota.id, Quota.completed < Quota.maximum)
                    .values(completed=Quota.completed + 1)
                    .execution_options(synchronize_session=False)
                )
                session.expire(quota)
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    raise _QuotaFull
    except _QuotaFull:
        return False
    return True
