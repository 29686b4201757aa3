"""How a response through an invitation link is recorded: one response per invitation, no link
back to the contact in an anonymous campaign, and quotas that close the public link.

These tests call `forms.ingest.submit_response` the way the respondent pages do, so they pin the
contract between the two packages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contacts.lists import get_or_create_list, import_contacts
from contacts.models import Contact
from forms.ingest import Submission, submit_response
from forms.models import Response
from forms.publishing import current_version
from invitations.models import Invitation
from invitations.quotas import claim_quota, quota_attributes, quota_open, set_quota
from invitations.tokens import create_invitations, mark_completed, mark_started, resolve_invitation
from tests.factories import CampaignFactory

from .builders import csv_bytes, people

ANSWERS = {
    "district": "wuhou",
    "age_group": "a30_44",
    "commute_mode": "metro",
    "commute_time": "m30_60",
    "problems": ["parking"],
    "sat_bus": "3",
    "sat_metro": "4",
    "sat_parking": "2",
    "suggestion": "建议增加非机动车停放区。",
}


def respond(session, camp, token, submission_id):
    """What the `/i/<token>` page does on submit."""
    invitation = resolve_invitation(session, token)
    assert invitation is not None
    submission = Submission(
        submission_id=submission_id,
        channel="invitation",
        invitation_id=None if camp.anonymous else invitation.id,
    )
    response, new = submit_response(
        session, camp, current_version(session, camp), ANSWERS, submission
    )
    if new and not mark_completed(session, invitation):
        raise RuntimeError("this invitation has already been used to respond")
    return response, invitation


@pytest.fixture()
def invited(session):
    contact_list = get_or_create_list(session, "r")
    import_contacts(session, contact_list, csv_bytes(people(2)), "r.csv")
    return list(session.scalars(select(Contact.id).order_by(Contact.id)))


@pytest.mark.parametrize("anonymous", [True, False])
def test_response_links_back_to_the_invitation_only_when_not_anonymous(session, invited, anonymous):
    camp = CampaignFactory(anonymous=anonymous)
    tokens = create_invitations(session, camp, invited, keep_tokens=True).tokens
    response, invitation = respond(session, camp, tokens[0][1], "sub-00000001")
    assert invitation.status == "completed"
    assert response.invitation_id == (None if anonymous else invitation.id)


def test_a_second_response_through_the_same_anonymous_link_is_refused(session, invited):
    camp = CampaignFactory(anonymous=True)
    token = create_invitations(session, camp, invited, keep_tokens=True).tokens[0][1]
    respond(session, camp, token, "sub-00000001")
    # the page rolls back its transaction when refusing; a savepoint stands in for it here
    with pytest.raises(RuntimeError, match="already been used"), session.begin_nested():
        respond(session, camp, token, "sub-00000002")
    # a retry of the same submission is answered with the stored response, not refused
    again, _ = respond(session, camp, token, "sub-00000001")
    assert session.scalars(select(Response)).all() == [again]


def test_anonymous_invitation_times_keep_only_the_day(session, invited):
    camp = CampaignFactory(anonymous=True)
    create_invitations(session, camp, invited)
    invitation = session.scalars(select(Invitation)).first()
    mark_started(session, invitation)
    assert (invitation.started_at.hour, invitation.started_at.minute) == (0, 0)


def test_public_link_quota_admits_until_full_then_refuses_without_counting(session):
    camp = CampaignFactory()
    set_quota(session, camp, {"district": "wuhou"}, 2)
    assert quota_attributes(session, camp) == ["district"]
    answers = {"district": "wuhou", "age_group": "a30_44"}
    assert claim_quota(session, camp, answers)
    assert claim_quota(session, camp, answers)
    assert not quota_open(session, camp, answers)
    assert not claim_quota(session, camp, answers)
    assert claim_quota(session, camp, {"district": "jinjiang"})
    quota = set_quota(session, camp, {"district": "wuhou"}, 2)
    assert quota.completed == 2


def test_personal_data_of_invited_respondents_never_reaches_the_analysis_frame(session, invited):
    from analysis.loading import response_frame

    camp = CampaignFactory(anonymous=False)
    tokens = create_invitations(session, camp, invited, keep_tokens=True).tokens
    respond(session, camp, tokens[0][1], "sub-00000001")
    respond(session, camp, tokens[1][1], "sub-00000002")
    frame = response_frame(session, camp)
    assert len(frame) == 2
    shown = frame.astype(str).to_csv() + " ".join(map(str, frame.columns))
    for personal in ("13900000000", "13900000001", "resident0@example.com", "居民0", "居民1"):
        assert personal not in shown
    assert not {"name", "phone", "email", "contact_id", "invitation_id"} & set(frame.columns)
