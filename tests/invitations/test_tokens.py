"""Invitation links: random tokens stored only as hashes, bulk creation, expiry, resolution and
the one-response-per-invitation marks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from contacts.lists import get_or_create_list, import_contacts, opt_out_contact
from contacts.models import Contact
from invitations.models import Invitation
from invitations.quotas import quota_open, set_quota, stratum_key
from invitations.tokens import (
    create_invitation,
    create_invitations,
    invitation_url,
    issue_tokens,
    mark_completed,
    mark_started,
    resolve_invitation,
)
from minsheng.db import utcnow
from minsheng.errors import InputError
from tests.factories import CampaignFactory

from .builders import csv_bytes, people


def listed(session, count, name="list"):
    contact_list = get_or_create_list(session, name)
    import_contacts(session, contact_list, csv_bytes(people(count)), "p.csv")
    return list(
        session.scalars(
            select(Contact.id).where(Contact.list_id == contact_list.id).order_by(Contact.id)
        )
    )


def test_each_link_resolves_to_its_own_invitation_and_only_the_hash_is_stored(session):
    camp = CampaignFactory()
    ids = listed(session, 20)
    created = create_invitations(session, camp, ids, keep_tokens=True)
    assert created.created == 20
    tokens = [t for _c, t in created.tokens]
    assert len(set(tokens)) == 20
    assert all(len(t) >= 43 for t in tokens)  # 32 random bytes, urlsafe base64
    stored = b"".join(r[0] for r in session.execute(text("SELECT token_hash FROM invitations")))
    for contact_id, token in created.tokens:
        assert token.encode() not in stored
        invitation = resolve_invitation(session, token)
        assert invitation is not None and invitation.contact_id == contact_id


def test_unknown_and_expired_tokens_resolve_to_nothing(session):
    camp = CampaignFactory()
    _invitation, token = create_invitation(session, camp, expires_at=utcnow() + timedelta(days=1))
    assert resolve_invitation(session, token) is not None
    assert resolve_invitation(session, token, now=utcnow() + timedelta(days=2)) is None
    assert resolve_invitation(session, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert resolve_invitation(session, "") is None


def test_invitation_url_uses_the_configured_base_url(app):
    app.config["BASE_URL"] = "https://jianyi.example.gov.cn/"
    assert invitation_url("abc") == "https://jianyi.example.gov.cn/i/abc"


def test_opted_out_and_already_invited_contacts_are_not_invited_again(session):
    camp = CampaignFactory()
    ids = listed(session, 6)
    opt_out_contact(session, session.get(Contact, ids[0]))
    first = create_invitations(session, camp, ids[:3])
    again = create_invitations(session, camp, ids)
    assert (first.created, first.skipped_opted_out) == (2, 1)
    assert (again.created, again.skipped_invited, again.skipped_opted_out) == (3, 2, 1)
    assert session.scalar(select(func.count()).select_from(Invitation)) == 5


def test_reissued_links_lead_to_the_same_invitation(session):
    camp = CampaignFactory()
    invitation, first = create_invitation(session, camp)
    second = issue_tokens(session, [invitation.id])[invitation.id]
    assert second != first
    assert resolve_invitation(session, first).id == invitation.id
    assert resolve_invitation(session, second).id == invitation.id


def test_an_invitation_completes_once(session):
    camp = CampaignFactory(anonymous=False)
    invitation, _token = create_invitation(session, camp)
    mark_started(session, invitation)
    assert invitation.status == "started" and invitation.started_at is not None
    assert mark_completed(session, invitation)
    assert invitation.status == "completed"
    assert not mark_completed(session, invitation)
    mark_started(session, invitation)
    assert invitation.status == "completed"


def test_anonymous_campaign_keeps_only_the_day_of_completion(session):
    camp = CampaignFactory(anonymous=True)
    invitation, _token = create_invitation(session, camp)
    assert mark_completed(session, invitation)
    completed = invitation.completed_at
    assert (completed.hour, completed.minute, completed.second) == (0, 0, 0)


def test_completions_fill_the_quota_of_their_stratum_and_close_it(session):
    camp = CampaignFactory()
    set_quota(session, camp, {"district": "锦江区"}, 1)
    key = stratum_key({"district": "锦江区", "age_group": "18-34"})
    invitation, _ = create_invitation(session, camp, stratum=key)
    assert quota_open(session, camp, {"district": "锦江区"})
    assert mark_completed(session, invitation)
    assert not quota_open(session, camp, {"district": "锦江区", "age_group": "60+"})
    assert quota_open(session, camp, {"district": "青羊区"})


def test_letters_without_contacts_are_created_over_several_chunks_with_distinct_tokens(session):
    camp = CampaignFactory()
    created = create_invitations(session, camp, None, count=12_345)
    assert created.created == 12_345
    assert session.scalar(select(func.count(func.distinct(Invitation.token_hash)))) == 12_345


def test_a_single_invitation_to_someone_who_opted_out_is_refused(session):
    camp = CampaignFactory()
    contact = session.get(Contact, listed(session, 1)[0])
    opt_out_contact(session, contact)
    with pytest.raises(InputError, match="opted out"):
        create_invitation(session, camp, contact)
