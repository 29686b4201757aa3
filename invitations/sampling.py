"""Stratified random samples (分层抽样) from a target list: proportional allocation with
largest-remainder rounding or fixed counts per stratum, drawn reproducibly from a recorded seed,
then invited (skipping opt-outs, people already invited and strata whose quota is full)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from contacts.lists import not_opted_out
from contacts.models import Contact, ContactList
from invitations.models import Invitation, Sample
from invitations.quotas import open_for, quota_open, quotas_of, stratum_key, stratum_values
from invitations.tokens import CreatedInvitations, create_invitations
from minsheng.audit import record
from minsheng.errors import InputError, Problem

__all__ = ["SampleResult", "draw_sample", "largest_remainder", "quota_open", "sample_members"]

ALLOCATIONS = ("proportional", "fixed")
MAX_SEED = 2**63 - 1


def largest_remainder(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Split `total` over strata in proportion to `sizes` (Hamilton's method).

    Each stratum gets `floor(total * N_h / N)`; the units left over go one each to the strata
    with the largest remainders, ties broken by the larger stratum, then by key. The result sums
    to `total` exactly and never exceeds a stratum's size when `total <= N`. Integer arithmetic
    only, so the allocation does not depend on floating-point rounding.
    """
    population = sum(sizes.values())
    if population == 0:
        return dict.fromkeys(sizes, 0)
    shares = {k: divmod(total * n, population) for k, n in sizes.items()}
    allocation = {k: q for k, (q, _r) in shares.items()}
    left = total - sum(allocation.values())
    order = sorted(sizes, key=lambda k: (-shares[k][1], -sizes[k], k))
    for key in order[:left]:
        allocation[key] += 1
    return allocation


@dataclass(frozen=True)
class SampleResult:
    """The stored `Sample`, the contacts drawn and what inviting them did."""

    sample: Sample
    drawn: list[int]
    invited: CreatedInvitations


def _frame(session: Session, contact_list: ContactList, by: Sequence[str]) -> dict[str, list[int]]:
    """Contacts that may be invited, grouped by stratum key, each group in id order."""
    groups: dict[str, list[int]] = {}
    seen_attributes: set[str] = set()
    rows = session.execute(
        select(Contact.id, Contact.attributes)
        .where(Contact.list_id == contact_list.id, not_opted_out())
        .order_by(Contact.id)
    )
    for contact_id, attributes in rows:
        seen_attributes.update(attributes)
        key = stratum_key({name: attributes.get(name, "") for name in by})
        groups.setdefault(key, []).append(contact_id)
    unknown = [name for name in by if name not in seen_attributes]
    if groups and unknown:
        raise InputError(
            [
                Problem(
                    "by",
                    f"unknown attribute {name!r}; list {contact_list.name!r} has "
                    f"{', '.join(sorted(seen_attributes)) or 'no attributes'}",
                )
                for name in unknown
            ]
        )
    return dict(sorted(groups.items()))


def _allocate(
    groups: Mapping[str, list[int]],
    size: int | None,
    per_stratum: int | Mapping[str, int] | None,
) -> tuple[str, dict[str, int], dict[str, Any]]:
    sizes = {k: len(v) for k, v in groups.items()}
    available = sum(sizes.values())
    if (size is None) == (per_stratum is None):
        raise InputError([Problem("size", "give either a sample size or a count per stratum")])
    if size is not None:
        if not 0 < size <= available:
            raise InputError(
                [
                    Problem(
                        "size",
                        f"got {size}; expected 1 to {available} (contacts that can be invited)",
                    )
                ]
            )
        return "proportional", largest_remainder(size, sizes), {"size": size}
    if isinstance(per_stratum, int):
        if per_stratum <= 0:
            raise InputError([Problem("per_stratum", f"got {per_stratum}; expected >= 1")])
        return (
            "fixed",
            {k: min(per_stratum, n) for k, n in sizes.items()},
            {"per_stratum": per_stratum},
        )
    assert per_stratum is not None
    unknown = [k for k in per_stratum if k not in sizes]
    if unknown:
        raise InputError([Problem("per_stratum", f"no contacts in stratum {k}") for k in unknown])
    return (
        "fixed",
        {k: min(int(per_stratum.get(k, 0)), n) for k, n in sizes.items()},
        {"counts": dict(per_stratum)},
    )


def _draw(groups: Mapping[str, list[int]], allocation: Mapping[str, int], seed: int) -> list[int]:
    # One generator for the whole draw, strata visited in key order: the same list, seed and
    # design give the same people (numpy Generator, PCG64).
    import numpy as np  # here, so creating the app does not load numpy (issue 10)

    rng = np.random.default_rng(seed)
    drawn: list[int] = []
    for key, members in groups.items():
        n = allocation.get(key, 0)
        if n:
            chosen = rng.choice(np.asarray(members, dtype=np.int64), size=n, replace=False)
            drawn.extend(sorted(int(c) for c in chosen))
    return drawn


def draw_sample(
    session: Session,
    campaign: Campaign,
    contact_list: ContactList,
    by: Sequence[str],
    *,
    size: int | None = None,
    per_stratum: int | Mapping[str, int] | None = None,
    seed: int | None = None,
    channel: str | None = None,
    expires_at: datetime | None = None,
    actor_id: int | None = None,
) -> SampleResult:
    """Draw a stratified random sample from `contact_list` and invite it to `campaign`.

    Strata are the combinations of the attributes `by` (none: one stratum). With `size`, the
    sample is allocated in proportion to stratum sizes (`largest_remainder`); with
    `per_stratum`, each stratum gets that many (or all it has), or the count given per stratum
    key. The frame is the list minus opted-out contacts; strata are then sampled without
    replacement. Drawn contacts already invited to the campaign, or in a stratum whose quota is
    full, are not invited again. The seed (random when not given) is stored, so
    `sample_members` reproduces the draw.
    """
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    if not 0 <= seed <= MAX_SEED:
        raise InputError([Problem("seed", f"got {seed}; expected 0 to {MAX_SEED}")])
    groups = _frame(session, contact_list, by)
    if not groups:
        raise InputError([Problem("list", f"list {contact_list.name!r} has nobody to invite")])
    allocation_kind, allocation, requested = _allocate(groups, size, per_stratum)
    drawn = _draw(groups, allocation, seed)
    strata_of = {c: key for key, members in groups.items() for c in members}
    quotas = quotas_of(session, campaign.id)
    sample = Sample(
        campaign_id=campaign.id,
        list_id=contact_list.id,
        seed=seed,
        strata=list(by),
        allocation=allocation_kind,
        requested=requested,
        size=len(drawn),
        counts={},
    )
    session.add(sample)
    session.flush()
    invited = create_invitations(
        session,
        campaign,
        drawn,
        strata={c: strata_of[c] for c in drawn},
        sample_id=sample.id,
        channel=channel,
        expires_at=expires_at,
    )
    invited_by_stratum: dict[str | None, int] = {
        stratum: n
        for stratum, n in session.execute(
            select(Invitation.stratum, func.count())
            .where(Invitation.sample_id == sample.id)
            .group_by(Invitation.stratum)
        )
    }
    sample.counts = {
        key: {
            "population": len(members),
            "allocated": allocation.get(key, 0),
            "invited": invited_by_stratum.get(key, 0),
            "quota_open": open_for(quotas, stratum_values(key)),
        }
        for key, members in groups.items()
    }
    session.flush()
    record(
        session,
        actor_id,
        "invitations.sample",
        "sample",
        sample.id,
        campaign=campaign.slug,
        seed=sample.seed,
        size=sample.size,
    )
    return SampleResult(sample=sample, drawn=drawn, invited=invited)


def sample_members(session: Session, sample: Sample) -> list[int]:
    """Redo a stored sample's draw from its seed and design: the same contacts, provided the
    list and its opt-outs have not changed since."""
    contact_list = session.get(ContactList, sample.list_id)
    if contact_list is None:
        return []
    groups = _frame(session, contact_list, [str(s) for s in sample.strata])
    requested = sample.requested
    _kind, allocation, _req = _allocate(
        groups,
        requested.get("size"),
        requested.get("per_stratum", requested.get("counts")),
    )
    return _draw(groups, allocation, sample.seed)
