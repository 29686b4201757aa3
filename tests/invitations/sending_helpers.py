"""Campaigns with contacts and invitations, and send contexts on local servers, for the sending,
funnel and worker tests."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from contacts.lists import get_or_create_list, import_contacts
from contacts.models import Contact
from contacts.pii import current_keys
from invitations.channels import HttpSmsGateway, SmsChannel, SmtpChannel, SmtpSettings
from invitations.lifecycle import advance
from invitations.models import Invitation
from invitations.optout import record_opt_out
from invitations.quotas import stratum_key
from invitations.ratelimits import LocalTokenBucket
from invitations.sending import SendContext, send_batch
from invitations.tokens import create_invitations, mark_completed, mark_started
from tests.factories import CampaignFactory

from .builders import csv_bytes, people
from .local_servers import sms_gateway, smtp_server

LINK_RE = re.compile(r"https?://\S+/i/([A-Za-z0-9_-]{43})")
OPT_OUT_RE = re.compile(r"https?://\S+/o/([0-9a-z]+\.[A-Za-z0-9_-]{12})")


def invited_campaign(session, count: int, settings: dict[str, Any] | None = None, start: int = 0):
    """The example campaign with `count` invited contacts (stratum = district); returns the
    campaign and its invitation ids in order."""
    camp = CampaignFactory()
    if settings:
        camp.settings = {**camp.settings, **settings}
    contact_list = get_or_create_list(session, f"list-{camp.slug}-{start}")
    import_contacts(session, contact_list, csv_bytes(people(count, start)), "people.csv")
    contacts = list(
        session.execute(
            select(Contact.id, Contact.attributes)
            .where(Contact.list_id == contact_list.id)
            .order_by(Contact.id)
        )
    )
    strata = {cid: stratum_key({"district": attrs["district"]}) for cid, attrs in contacts}
    create_invitations(session, camp, [cid for cid, _ in contacts], strata=strata)
    session.commit()
    ids = list(
        session.scalars(
            select(Invitation.id).where(Invitation.campaign_id == camp.id).order_by(Invitation.id)
        )
    )
    return camp, ids


def email_context(app, port: int, channel: SmtpChannel | None = None) -> SendContext:
    return SendContext(
        channel=channel or SmtpChannel(SmtpSettings("127.0.0.1", port)),
        limiter=LocalTokenBucket(10_000),
        base_url=app.config["BASE_URL"],
        secret=app.config["SECRET_KEY"],
        keys=current_keys(),
    )


def sms_context(app, url: str, token: str) -> SendContext:
    return SendContext(
        channel=SmsChannel(HttpSmsGateway(url, token)),
        limiter=LocalTokenBucket(10_000),
        base_url=app.config["BASE_URL"],
        secret=app.config["SECRET_KEY"],
        keys=current_keys(),
    )


def build_worked_campaign(app, session):
    """12 invitations in 4 districts, 8 sent by e-mail (one bounced), 3 by SMS, one never sent;
    then opens, starts, completions and an opt-out."""
    camp, ids = invited_campaign(session, 12)
    with smtp_server() as (sink, port):
        sink.refuse["resident7@example.com"] = "550 5.1.1 No such user"
        send_batch(session, email_context(app, port), ids[:8], step=0)
    with sms_gateway() as (gateway, url):
        send_batch(session, sms_context(app, url, gateway.token), ids[8:11], step=0)
    inv = [session.get(Invitation, i) for i in ids]
    for i in (0, 1, 2, 8):
        mark_completed(session, inv[i])
    for i in (3, 9):
        mark_started(session, inv[i])
    advance(session, inv[4], "opened")
    record_opt_out(session, inv[5], channel="email")
    session.commit()
    return camp, ids
