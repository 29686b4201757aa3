"""The invitation state machine as scenario lists: paths that must go through, moves that must be
refused, and one rule for a bounce whether it comes at send time or in a receipt later."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from invitations.lifecycle import STATES, advance, advance_many
from invitations.models import Delivery, Invitation
from invitations.receipts import record_receipt
from invitations.sending import send_batch
from invitations.tokens import create_invitation
from tests.factories import CampaignFactory

from .local_servers import smtp_server
from .sending_helpers import email_context, invited_campaign

MUST_SUCCEED = [
    ("sent", "delivered", "opened", "started", "completed"),
    ("sent", "bounced"),
    # the receiving server accepted the message, then sent a bounce report
    ("sent", "delivered", "bounced"),
    # the invitation message was opened, a reminder to the same address bounced
    ("sent", "opened", "bounced"),
    ("sent", "delivered", "opened", "bounced"),
    # the person answers through the link of a message sent before the address died
    ("sent", "bounced", "started", "completed"),
    ("bounced", "completed"),
    # a receipt that overtakes the sender's own record
    ("delivered", "opened"),
    # printed letters: no message at all
    ("started", "completed"),
    ("completed",),
]

MUST_BE_REFUSED = [
    # one invitation gives one response, and nothing moves it afterwards
    (("completed",), "completed"),
    (("completed",), "started"),
    (("completed",), "bounced"),
    (("started", "completed"), "opened"),
    # a person who started holds a working link: a late bounce or receipt changes nothing
    (("started",), "bounced"),
    (("started",), "delivered"),
    (("started",), "opened"),
    (("started",), "sent"),
    # reports that arrive late never move an invitation back
    (("sent", "opened"), "delivered"),
    (("sent", "opened"), "sent"),
    (("sent", "delivered"), "sent"),
    (("sent",), "sent"),
    # a dead address is not revived by a receipt or an open
    (("sent", "bounced"), "delivered"),
    (("sent", "bounced"), "opened"),
    (("sent", "bounced"), "sent"),
    (("sent", "bounced"), "bounced"),
]


def _invitation(session):
    invitation, _token = create_invitation(session, CampaignFactory())
    return invitation


@pytest.mark.parametrize("path", MUST_SUCCEED, ids="-".join)
def test_allowed_paths_go_through(session, path):
    invitation = _invitation(session)
    for state in path:
        assert advance(session, invitation, state), f"{invitation.status} -> {state} refused"
        assert invitation.status == state


@pytest.mark.parametrize(
    ("path", "target"), MUST_BE_REFUSED, ids=lambda v: "-".join(v) if isinstance(v, tuple) else v
)
def test_refused_moves_leave_the_invitation_where_it_was(session, path, target):
    invitation = _invitation(session)
    for state in path:
        assert advance(session, invitation, state)
    assert not advance(session, invitation, target)
    assert invitation.status == path[-1]


def test_unknown_status_is_refused_naming_the_known_ones(session):
    invitation = _invitation(session)
    with pytest.raises(ValueError, match="unknown invitation status 'read'; expected one of"):
        advance(session, invitation, "read")
    assert STATES[0] == "created" and STATES[-1] == "completed"


def test_bulk_advance_moves_only_the_invitations_the_table_allows(session):
    camp = CampaignFactory()
    invitations = [create_invitation(session, camp)[0] for _ in range(4)]
    ids = [i.id for i in invitations]
    advance(session, invitations[1], "completed")
    advance(session, invitations[2], "started")
    moved = advance_many(session, [*ids, ids[0]], "sent")
    assert moved == {ids[0], ids[3]}
    session.expire_all()
    assert [i.status for i in invitations] == ["sent", "completed", "started", "sent"]
    assert advance_many(session, [], "sent") == set()


def test_bounce_at_send_time_and_bounce_receipt_follow_the_same_rule(app, session):
    camp, ids = invited_campaign(session, 6)
    with smtp_server() as (_sink, port):
        send_batch(session, email_context(app, port), ids, step=0)
    # before the reminder: two opened, two started; one of each bounces at send time, the
    # others by a receipt on the invitation message
    for i in ids[:2]:
        advance(session, i, "opened")
    for i in ids[2:4]:
        advance(session, i, "started")
    session.commit()
    with smtp_server() as (sink, port):
        for i in (ids[0], ids[2]):
            sink.refuse[f"resident{ids.index(i)}@example.com"] = "550 5.1.1 No such user"
        send_batch(session, email_context(app, port), [ids[0], ids[2]], step=1)
    for i in (ids[1], ids[3]):
        record_receipt(session, f"minsheng-{camp.id}-{i}-0", "bounced", "550 user unknown")
    session.commit()
    session.expire_all()
    statuses = [session.get(Invitation, i).status for i in ids[:4]]
    assert statuses == ["bounced", "bounced", "started", "started"]
    bounced_steps = session.scalars(
        select(Delivery.invitation_id).where(Delivery.state == "bounced")
    )
    assert sorted(bounced_steps) == ids[:4]
