"""Stratified samples: allocation, reproducibility from the seed, opt-outs and quotas."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from contacts.lists import get_or_create_list, import_contacts, opt_out_contact
from contacts.models import Contact
from invitations.models import Invitation
from invitations.quotas import set_quota, stratum_key
from invitations.sampling import draw_sample, largest_remainder, sample_members
from minsheng.errors import InputError
from tests.factories import CampaignFactory

from .builders import csv_bytes, people


@pytest.fixture()
def contact_list(session):
    contact_list = get_or_create_list(session, "residents")
    # 120 people: district cycles over 4, age group over 3 -> 12 strata of 10
    import_contacts(session, contact_list, csv_bytes(people(120)), "residents.csv")
    return contact_list


def invited_strata(session, sample):
    return Counter(
        session.scalars(select(Invitation.stratum).where(Invitation.sample_id == sample.id))
    )


def test_largest_remainder_sums_to_the_total_and_favours_larger_remainders():
    assert largest_remainder(10, {"a": 50, "b": 30, "c": 20}) == {"a": 5, "b": 3, "c": 2}
    assert largest_remainder(7, {"a": 50, "b": 30, "c": 20}) == {"a": 4, "b": 2, "c": 1}
    # shares 3.33 / 3.33 / 3.33: the extra unit goes by key order on ties
    assert largest_remainder(10, {"b": 1, "a": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert sum(largest_remainder(997, {str(i): i + 1 for i in range(40)}).values()) == 997


def test_proportional_sample_allocates_by_stratum_size(session, contact_list):
    camp = CampaignFactory()
    result = draw_sample(session, camp, contact_list, ["district"], size=40, seed=7)
    assert result.invited.created == 40
    counts = invited_strata(session, result.sample)
    assert set(counts.values()) == {10}
    assert result.sample.counts[stratum_key({"district": "锦江区"})] == {
        "population": 30,
        "allocated": 10,
        "invited": 10,
        "quota_open": True,
    }


def test_fixed_count_per_stratum_over_two_attributes(session, contact_list):
    camp = CampaignFactory()
    result = draw_sample(
        session, camp, contact_list, ["district", "age_group"], per_stratum=3, seed=1
    )
    counts = invited_strata(session, result.sample)
    assert len(counts) == 12 and set(counts.values()) == {3}


def test_same_seed_draws_the_same_people_and_another_seed_does_not(session, contact_list):
    camp = CampaignFactory()
    first = draw_sample(session, camp, contact_list, ["district"], size=20, seed=2026)
    assert sample_members(session, first.sample) == first.drawn
    again = draw_sample(session, camp, contact_list, ["district"], size=20, seed=2026)
    assert again.drawn == first.drawn
    assert again.invited.created == 0 and again.invited.skipped_invited == 20
    other = draw_sample(session, camp, contact_list, ["district"], size=20, seed=2027)
    assert other.drawn != first.drawn


def test_opted_out_contacts_are_never_drawn(session, contact_list):
    camp = CampaignFactory()
    out = list(session.scalars(select(Contact).where(Contact.list_id == contact_list.id)))[:30]
    for contact in out:
        opt_out_contact(session, contact)
    result = draw_sample(session, camp, contact_list, [], size=90, seed=3)
    assert not {c.id for c in out} & set(result.drawn)
    with pytest.raises(InputError, match="expected 1 to 90"):
        draw_sample(session, camp, contact_list, [], size=91, seed=3)


def test_full_quota_stops_invitations_in_its_stratum(session, contact_list):
    camp = CampaignFactory()
    quota = set_quota(session, camp, {"district": "锦江区"}, 0)
    assert quota.maximum == 0
    result = draw_sample(session, camp, contact_list, ["district"], per_stratum=5, seed=4)
    counts = invited_strata(session, result.sample)
    assert stratum_key({"district": "锦江区"}) not in counts
    assert result.invited.skipped_quota == 5 and result.invited.created == 15


def test_unknown_attribute_names_the_ones_the_list_has(session, contact_list):
    with pytest.raises(InputError) as caught:
        draw_sample(session, CampaignFactory(), contact_list, ["distrct"], size=5, seed=1)
    assert "unknown attribute 'distrct'" in str(caught.value)
    assert "age_group, district" in str(caught.value)
