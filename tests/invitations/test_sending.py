"""Sending through real channels: each send step reaches a person once at most, failures are
recorded per invitation, reminders follow the campaign's policy and stop on answer or opt-out."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from contacts.lists import opt_out_contact
from contacts.models import Contact, OptOut
from invitations.channels import SmtpChannel, SmtpSettings
from invitations.messages import MessageError, preview_message, template_problems
from invitations.models import Delivery, Invitation, InvitationToken, OptOutEvent
from invitations.ratelimits import LocalTokenBucket
from invitations.reminders import plan_reminders
from invitations.sending import (
    give_up,
    plan_first_messages,
    resolve_stale,
    retry_delay,
    send_batch,
)
from invitations.tokens import create_invitations, mark_completed, resolve_invitation
from minsheng.db import utcnow
from tests.page_parts import inline_code

from .local_servers import free_port, sms_gateway, smtp_server
from .sending_helpers import (
    LINK_RE,
    OPT_OUT_RE,
    email_context,
    invited_campaign,
    sms_context,
)


def _deliveries(session, step=0):
    rows = session.scalars(select(Delivery).where(Delivery.step == step).order_by(Delivery.id))
    return {d.invitation_id: d for d in rows}


def test_each_person_gets_one_email_with_a_working_link_and_an_opt_out(app, session):
    camp, ids = invited_campaign(session, 5)
    (batch,) = plan_first_messages(session, camp, "email")
    assert batch == ids
    with smtp_server() as (sink, port):
        result = send_batch(session, email_context(app, port), batch, step=0)
        again = send_batch(session, email_context(app, port), batch, step=0)
    assert (result.sent, again.sent, again.skipped) == (5, 0, 5)
    # the second run issued no new links for people who already had their message
    assert session.scalar(select(func.count()).select_from(InvitationToken)) == 5
    assert len(sink.messages) == 5
    mail = sink.to("resident0@example.com")[0]
    assert mail["Subject"] == "邀请您参与“交通出行专项征集”"
    text = mail.get_body(("plain",)).get_content()
    assert "居民0，您好" in text
    token = LINK_RE.search(text).group(1)
    assert resolve_invitation(session, token).id == ids[0]
    assert OPT_OUT_RE.search(text)
    assert mail["List-Unsubscribe"].startswith("<http")
    assert "/t/" in mail.get_body(("html",)).get_content()
    assert {d.state for d in _deliveries(session).values()} == {"sent"}
    assert {i.status for i in session.scalars(select(Invitation))} == {"sent"}
    assert plan_first_messages(session, camp, "email") == []


class DiesAfterHandingOver(SmtpChannel):
    """An SMTP channel whose process is killed right after the server accepted message n."""

    def __init__(self, settings, die_at):
        super().__init__(settings)
        self.count = 0
        self.die_at = die_at

    def send(self, message, hand_over=lambda: None):
        receipt = super().send(message, hand_over)
        self.count += 1
        if self.count == self.die_at:
            raise SystemExit("worker killed")
        return receipt


def test_batch_run_again_after_a_worker_died_sends_no_second_message(app, session):
    _camp, ids = invited_campaign(session, 6)
    with smtp_server() as (sink, port):
        dying = DiesAfterHandingOver(SmtpSettings("127.0.0.1", port), die_at=3)
        with pytest.raises(SystemExit):
            send_batch(session, email_context(app, port, dying), ids, step=0)
        session.rollback()
        assert len(sink.messages) == 3
        result = send_batch(session, email_context(app, port), ids, step=0)
    assert (result.sent, result.skipped) == (3, 3)
    recipients = [m["To"] for m in sink.messages]
    assert sorted(recipients) == sorted(set(recipients))
    assert len(recipients) == 6
    states = {i: d.state for i, d in _deliveries(session).items()}
    assert states[ids[2]] == "sending"  # handed over, but the worker died before recording it
    assert resolve_stale(session, now=utcnow()) == 0
    assert resolve_stale(session, now=utcnow() + timedelta(minutes=16)) == 1
    session.expire_all()
    assert _deliveries(session)[ids[2]].state == "uncertain"
    # the statuses the dead run had not moved yet were caught up by the second run
    statuses = {i.id: i.status for i in session.scalars(select(Invitation))}
    assert statuses == {i: "created" if i == ids[2] else "sent" for i in ids}


def test_refused_address_is_a_bounce_and_a_4xx_is_retried_later(app, session):
    _camp, ids = invited_campaign(session, 3)
    with smtp_server() as (sink, port):
        sink.refuse["resident0@example.com"] = "550 5.1.1 No such user"
        sink.refuse["resident1@example.com"] = "451 4.7.1 Greylisted, try again"
        result = send_batch(session, email_context(app, port), ids, step=0)
        assert (result.sent, result.bounced, result.retry) == (1, 1, [ids[1]])
        session.expire_all()
        rows = _deliveries(session)
        assert rows[ids[0]].state == "bounced" and "550" in rows[ids[0]].error
        assert rows[ids[1]].state == "retry"
        assert session.get(Invitation, ids[0]).status == "bounced"

        del sink.refuse["resident1@example.com"]
        retried = send_batch(session, email_context(app, port), result.retry, step=0)
    assert retried.sent == 1
    session.expire_all()
    assert _deliveries(session)[ids[1]].state == "sent"
    assert _deliveries(session)[ids[1]].attempts == 2
    assert [m["To"] for m in sink.messages] == ["resident2@example.com", "resident1@example.com"]


def test_retries_that_never_succeed_end_as_failed(app, session):
    _camp, ids = invited_campaign(session, 1)
    with smtp_server() as (sink, port):
        sink.refuse["resident0@example.com"] = "421 4.3.2 Service not available"
        result = send_batch(session, email_context(app, port), ids, step=0)
    assert result.retry == ids
    assert give_up(session, result.retry, step=0) == 1
    session.commit()
    session.expire_all()
    delivery = _deliveries(session)[ids[0]]
    assert delivery.state == "failed"
    assert delivery.error.startswith("gave up after repeated temporary failures: SMTP 421")


def test_unreachable_mail_server_hands_the_whole_batch_back_for_retry(app, session):
    _camp, ids = invited_campaign(session, 3)
    result = send_batch(session, email_context(app, free_port()), ids, step=0)
    assert (result.sent, result.retry) == (0, ids)
    assert _deliveries(session) == {}  # nothing claimed, so the retry sends all three


def test_sms_throttling_stops_the_batch_and_hands_the_rest_back(app, session):
    _camp, ids = invited_campaign(session, 4)
    with sms_gateway() as (gateway, url):
        gateway.script = [(200, {}, {"id": "a"}), (429, {"Retry-After": "30"}, {"error": "slow"})]
        result = send_batch(session, sms_context(app, url, gateway.token), ids, step=0)
        assert (result.sent, result.retry, result.retry_after) == (1, ids[1:], 30.0)
        again = send_batch(session, sms_context(app, url, gateway.token), result.retry, step=0)
    assert again.sent == 3
    assert len(gateway.received) == 3  # the first answer was scripted, so not recorded there
    texts = [m["text"] for m in gateway.received]
    assert all(t.startswith("【民声征集】") and "/i/" in t and "/o/" in t for t in texts)
    assert retry_delay(0, 30.0) >= 30.0
    assert 30.0 <= retry_delay(0) <= 37.5
    assert retry_delay(20) <= 4500


def test_opted_out_answered_and_addressless_invitations_are_not_sent(app, session):
    camp, ids = invited_campaign(session, 4)
    first = session.get(Invitation, ids[0])
    opt_out_contact(session, session.get(Contact, first.contact_id))
    mark_completed(session, session.get(Invitation, ids[1]))
    session.get(Contact, session.get(Invitation, ids[2]).contact_id).phone_enc = None
    session.commit()
    assert plan_first_messages(session, camp, "email") == [[ids[2], ids[3]]]
    assert plan_first_messages(session, camp, "sms") == [[ids[3]]]


def test_reminders_go_to_non_responders_at_most_n_times_spaced_by_the_interval(app, session):
    policy = {"sending": {"reminders": {"max": 2, "interval_hours": 48}}}
    camp, ids = invited_campaign(session, 3, settings=policy)
    with smtp_server() as (sink, port):
        send_batch(session, email_context(app, port), ids, step=0)
        now = utcnow()
        assert plan_reminders(session, camp, now=now + timedelta(hours=47)) == []
        mark_completed(session, session.get(Invitation, ids[0]))
        session.commit()
        due = plan_reminders(session, camp, now=now + timedelta(hours=49))
        assert due == [("email", 1, ids[1:])]
        send_batch(session, email_context(app, port), ids[1:], step=1)
        # the interval counts from the last message, not from the first
        first_reminder = utcnow()
        assert plan_reminders(session, camp, now=first_reminder + timedelta(hours=47)) == []
        later = first_reminder + timedelta(hours=49)
        assert plan_reminders(session, camp, now=later) == [("email", 2, ids[1:])]
        send_batch(session, email_context(app, port), ids[1:], step=2)
        assert plan_reminders(session, camp, now=later + timedelta(days=30)) == []
    subjects = [m["Subject"] for m in sink.to("resident1@example.com")]
    assert subjects[0].startswith("邀请您参与")
    assert subjects[1:] == ["提醒：“交通出行专项征集”期待您的建议"] * 2
    assert len(sink.to("resident0@example.com")) == 1


def test_reminders_stop_after_opting_out(app, client, session):
    policy = {"sending": {"reminders": {"max": 3, "interval_hours": 1}}}
    camp, ids = invited_campaign(session, 2, settings=policy)
    with smtp_server() as (sink, port):
        send_batch(session, email_context(app, port), ids, step=0)
    text = sink.to("resident0@example.com")[0].get_body(("plain",)).get_content()
    ref = OPT_OUT_RE.search(text).group(1)

    page = client.get(f"/o/{ref}")
    assert page.status_code == 200
    assert "退订" in page.text
    assert session.scalar(select(OptOutEvent.id)) is None  # a GET (link scanner) changes nothing
    done = client.post(f"/o/{ref}")
    assert done.status_code == 200
    assert "不会再收到" in done.text
    assert client.post(f"/o/{ref}").status_code == 200
    assert client.get(f"/o/{ref[:-2]}xx").status_code == 404

    session.expire_all()
    assert session.scalar(select(OptOutEvent.invitation_id)) == ids[0]
    assert len(session.scalars(select(OptOut)).all()) == 2  # phone and e-mail hashes
    due = plan_reminders(session, camp, now=utcnow() + timedelta(hours=2))
    assert due == [("email", 1, [ids[1]])]

    # The opt-out holds in every other campaign: the same person is not invited again.
    other, _ = invited_campaign(session, 0, start=0)
    contact_id = session.get(Invitation, ids[0]).contact_id
    created = create_invitations(session, other, [contact_id])
    assert (created.created, created.skipped_opted_out) == (0, 1)


def test_open_pixel_marks_the_message_and_invitation_opened(app, client, session):
    _camp, ids = invited_campaign(session, 1)
    with smtp_server() as (sink, port):
        send_batch(session, email_context(app, port), ids, step=0)
    html = sink.messages[0].get_body(("html",)).get_content()
    path = html.split('src="')[-1].split('"')[0].split("5000", 1)[1]
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "image/gif"
    assert client.get("/t/1.forged.gif").status_code == 200  # always the image, never recorded
    session.expire_all()
    assert _deliveries(session)[ids[0]].opened_at is not None
    assert session.get(Invitation, ids[0]).status == "opened"


def test_reminders_are_a_declared_periodic_job(app, runner):
    result = runner.invoke(args=["jobs", "schedule"])
    assert "invitations.send_reminders\tinvitations.send_reminders\tevery 1:00:00" in result.output


def test_local_rate_limit_spaces_messages():
    bucket = LocalTokenBucket(rate=50, burst=1)
    started = time.monotonic()
    for _ in range(6):
        bucket.wait()
    assert time.monotonic() - started >= 5 / 50 * 0.9


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("kind", ["invitation", "reminder"])
def test_every_message_has_an_opt_out_link_and_sms_fit_two_segments(app, session, kind, language):
    camp, _ = invited_campaign(session, 0)
    email = preview_message(camp, kind, "email", language)
    sms = preview_message(camp, kind, "sms", language)
    for text in (email.text, email.html, sms.text):
        assert "/o/" in text
    assert ("交通" if language == "zh_CN" else "Transport") in email.subject
    assert 1 <= sms.segments <= 2
    with pytest.raises(MessageError, match="unknown message kind 'letter'"):
        preview_message(camp, "letter", "sms", language)


def test_organizer_previews_messages_with_sms_segment_count(app, client, session, login):
    camp, _ = invited_campaign(session, 0)
    login("organizer")
    page = client.get(f"/campaigns/{camp.slug}/messages?kind=reminder&channel=sms")
    assert page.status_code == 200
    assert "【民声征集】提醒" in page.text
    assert "SMS" in page.text or "短信" in page.text
    email = client.get(f"/campaigns/{camp.slug}/messages?language=en")
    assert "You are invited: Transport and Mobility Campaign" in email.text
    bad = client.get(f"/campaigns/{camp.slug}/messages?channel=fax")
    assert bad.status_code == 400


def test_the_html_preview_is_a_framed_document_of_its_own_with_inline_styles_and_no_script(
    client, session, login
):
    camp, _ = invited_campaign(session, 0)
    login("admin")
    page = client.get(f"/campaigns/{camp.slug}/messages?kind=reminder&language=en")
    frame = re.search(r'<iframe[^>]*\bsrc="([^"]+)"[^>]*>', page.text)
    assert frame and 'sandbox=""' in frame.group(0)
    assert inline_code(page.text) == []  # the page itself: no srcdoc, no style attribute
    html = client.get(frame.group(1).replace("&amp;", "&"))
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "<body style=" in html.text and "Answer the questionnaire" in html.text
    assert "If you have already answered" in html.text  # the reminder, as asked
    policy = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy and "frame-ancestors 'self'" in policy
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"
    bad = client.get(f"/campaigns/{camp.slug}/messages/email.html?language=fr")
    assert bad.status_code == 400


def test_gateway_receipts_settle_delivered_and_bounced_messages(app, client, session, monkeypatch):
    camp, ids = invited_campaign(session, 3)
    with sms_gateway() as (gateway, url):
        send_batch(session, sms_context(app, url, gateway.token), ids, step=0)
    refs = [m["client_ref"] for m in gateway.received]
    assert refs == [f"minsheng-{camp.id}-{i}-0" for i in ids]
    # A worker died after handing the third message over: its step is still `sending`.
    session.execute(
        update(Delivery).where(Delivery.invitation_id == ids[2]).values(state="sending")
    )
    session.commit()
    monkeypatch.setitem(app.config, "SMS_GATEWAY_TOKEN", gateway.token)
    reports = [
        {"message_id": refs[0], "status": "delivered"},
        {"message_id": refs[1], "status": "bounced", "reason": "空号 (number not in service)"},
        {"message_id": refs[2], "status": "delivered"},
    ]
    url = "/api/v1/invitations/receipts"
    assert client.post(url, json=reports).status_code == 401
    wrong = client.post(url, json=reports, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    answer = client.post(url, json=reports, headers={"Authorization": f"Bearer {gateway.token}"})
    assert answer.get_json() == {"recorded": 3}

    session.expire_all()
    statuses = [session.get(Invitation, i).status for i in ids]
    assert statuses == ["delivered", "bounced", "delivered"]
    rows = _deliveries(session)
    assert [rows[i].state for i in ids] == ["sent", "bounced", "sent"]
    assert rows[ids[1]].error == "空号 (number not in service)"

    bad = client.post(
        url,
        json=[{"message_id": "abc", "status": "read"}, {"message_id": refs[0], "status": "x"}],
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert bad.status_code == 422
    locations = [e["location"] for e in bad.get_json()["errors"]]
    assert locations == ["[0].message_id", "[0].status", "[1].status"]


SMS_TEMPLATE = "【{{ sender }}】{{ title }}邀您建言：{{ link }} 退订{{ opt_out_link }}"


def test_campaign_templates_replace_the_packaged_ones_and_are_checked(app, session):
    templates = {
        "invitation": {
            "sms": {
                "zh_CN": {
                    "text": "【{{ sender }}】{{ title }}邀您建言：{{ link }} 退订{{ opt_out_link }}"
                }
            },
            "email": {"zh_CN": {"subject": "{{ title }}·诚邀参与"}},
        },
        "reminder": {
            "sms": {"en": {"text": "Hi {{ nme }}, {{ link }} stop: {{ opt_out_link }}"}},
            "email": {"en": {"text": "Please answer: {{ link }}"}},
        },
    }
    camp, ids = invited_campaign(
        session, 1, settings={"sending": {"sender": "成都市民声办", "templates": templates}}
    )
    sms = preview_message(camp, "invitation", "sms", "zh_CN")
    assert sms.text.startswith("【成都市民声办】交通出行专项征集邀您建言：http")
    assert preview_message(camp, "invitation", "email", "zh_CN").subject == (
        "交通出行专项征集·诚邀参与"
    )
    problems = {p.location: p.message for p in template_problems(camp)}
    assert set(problems) == {
        "settings.sending.templates.reminder.sms.en",
        "settings.sending.templates.reminder.email.en",
    }
    assert "'nme' is undefined" in problems["settings.sending.templates.reminder.sms.en"]
    assert "no opt-out link" in problems["settings.sending.templates.reminder.email.en"]

    # A template that does not render fails its step instead of sending something broken.
    camp.settings = {
        "sending": {"templates": {"invitation": {"email": {"zh_CN": {"subject": "{{ x.y }}"}}}}}
    }
    session.commit()
    with smtp_server() as (sink, port):
        result = send_batch(session, email_context(app, port), ids, step=0)
    assert (result.sent, result.failed, sink.messages) == (0, 1, [])
    assert "'x' is undefined" in _deliveries(session)[ids[0]].error


def test_campaign_templates_run_in_a_sandbox(app, session):
    escape = "{{ link.__class__.__mro__[1].__subclasses__() }} {{ opt_out_link }}"
    templates = {"invitation": {"sms": {"zh_CN": {"text": escape}}}}
    camp, _ = invited_campaign(session, 0, settings={"sending": {"templates": templates}})
    with pytest.raises(MessageError, match=r"campaign template zh_CN/invitation\.sms\.txt"):
        preview_message(camp, "invitation", "sms", "zh_CN")
