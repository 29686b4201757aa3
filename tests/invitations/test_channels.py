"""E-mail over a real local SMTP server and SMS through a local HTTP gateway."""

from __future__ import annotations

import socket

import pytest

from invitations.channels import (
    HttpSmsGateway,
    OutgoingMessage,
    PermanentFailure,
    SmsChannel,
    SmtpChannel,
    SmtpSettings,
    TemporaryFailure,
    channel_from_config,
    sms_segments,
)
from tests.invitations.local_servers import free_port, sms_gateway, smtp_server


def _message(to: str, **extra) -> OutgoingMessage:
    return OutgoingMessage(
        to=to,
        subject=extra.pop("subject", "邀请您参与交通出行专项征集"),
        text=extra.pop("text", "您好，请点击链接 http://x/i/abc"),
        html=extra.pop("html", "<p>您好</p>"),
        message_id=extra.pop("message_id", "inv-1-invitation"),
        **extra,
    )


def test_email_arrives_with_text_html_and_unsubscribe_header():
    with smtp_server() as (sink, port):
        channel = SmtpChannel(SmtpSettings("127.0.0.1", port, mail_from="noreply@city.example"))
        channel.open()
        receipt = channel.send(
            _message("li@example.com", headers={"List-Unsubscribe": "<http://x/o/t>"})
        )
        channel.close()
    (mail,) = sink.to("li@example.com")
    assert mail["Subject"] == "邀请您参与交通出行专项征集"
    assert mail["List-Unsubscribe"] == "<http://x/o/t>"
    assert mail["Message-ID"] == "<inv-1-invitation@city.example>" == receipt.provider_id
    assert "http://x/i/abc" in mail.get_body(("plain",)).get_content()
    assert "<p>您好</p>" in mail.get_body(("html",)).get_content()


def test_one_connection_carries_many_messages():
    with smtp_server() as (sink, port):
        channel = SmtpChannel(SmtpSettings("127.0.0.1", port))
        channel.open()
        for n in range(5):
            channel.send(_message(f"p{n}@example.com", message_id=f"m{n}"))
        channel.close()
    assert sorted(m["To"] for m in sink.messages) == [f"p{n}@example.com" for n in range(5)]


def test_the_final_dot_of_a_message_is_not_held_back_waiting_for_an_acknowledgement():
    # The dot is written on its own after the hand-over; with Nagle's algorithm it waited for the
    # server's delayed ACK, 40 ms a message. Checked on the socket: a timing would be flaky here.
    with smtp_server() as (sink, port):
        channel = SmtpChannel(SmtpSettings("127.0.0.1", port))
        channel.open()
        sock = channel._smtp.sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        channel.send(_message("li@example.com"))
        channel.close()
    assert len(sink.to("li@example.com")) == 1


def test_refused_recipient_is_a_permanent_bounce_and_4xx_is_temporary():
    with smtp_server() as (sink, port):
        sink.refuse["gone@example.com"] = "550 5.1.1 No such user"
        sink.refuse["busy@example.com"] = "451 4.3.0 Try again later"
        channel = SmtpChannel(SmtpSettings("127.0.0.1", port))
        with pytest.raises(PermanentFailure) as bounced:
            channel.send(_message("gone@example.com"))
        with pytest.raises(TemporaryFailure) as later:
            channel.send(_message("busy@example.com"))
        channel.send(_message("ok@example.com"))
        channel.close()
    assert bounced.value.bounce is True
    assert "550" in str(bounced.value)
    assert "451" in str(later.value)
    assert [m["To"] for m in sink.messages] == ["ok@example.com"]


def test_unreachable_smtp_server_is_temporary():
    channel = SmtpChannel(SmtpSettings("127.0.0.1", free_port(), timeout=2))
    with pytest.raises(TemporaryFailure, match="cannot reach SMTP server"):
        channel.send(_message("a@example.com"))


def test_sms_reaches_gateway_with_bearer_token_and_counts_segments():
    with sms_gateway() as (state, url):
        channel = SmsChannel(HttpSmsGateway(url, state.token))
        receipt = channel.send(_message("13812345678", text="民" * 71, message_id="inv-9-sms"))
    assert state.received == [{"to": "13812345678", "text": "民" * 71, "client_ref": "inv-9-sms"}]
    assert receipt.provider_id == "gw-1"
    assert receipt.segments == 2


def test_gateway_throttling_is_temporary_with_retry_after():
    with sms_gateway() as (state, url):
        state.script.append((429, {"Retry-After": "7"}, {"error": "slow down"}))
        state.script.append((503, {}, {"error": "maintenance"}))
        channel = SmsChannel(HttpSmsGateway(url, state.token))
        with pytest.raises(TemporaryFailure) as throttled:
            channel.send(_message("13812345678"))
        with pytest.raises(TemporaryFailure) as down:
            channel.send(_message("13812345678"))
        channel.send(_message("13812345678"))
    assert throttled.value.retry_after == 7.0
    assert down.value.retry_after is None
    assert len(state.received) == 1


def test_gateway_4xx_is_permanent_and_a_refused_number_is_a_bounce():
    with sms_gateway() as (state, url):
        state.bad_numbers.add("13800000000")
        bad_token = SmsChannel(HttpSmsGateway(url, "wrong"))
        with pytest.raises(PermanentFailure) as unauthorized:
            bad_token.send(_message("13812345678"))
        channel = SmsChannel(HttpSmsGateway(url, state.token))
        with pytest.raises(PermanentFailure) as refused:
            channel.send(_message("13800000000"))
    assert unauthorized.value.bounce is False
    assert "401" in str(unauthorized.value)
    assert refused.value.bounce is True
    assert state.received == []


def test_sms_longer_than_allowed_segments_is_refused_before_sending():
    with sms_gateway() as (state, url):
        channel = SmsChannel(HttpSmsGateway(url, state.token), max_segments=2)
        with pytest.raises(PermanentFailure, match="3 segments; at most 2"):
            channel.send(_message("13812345678", text="字" * 150))
    assert state.received == []


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("民" * 70, 1),
        ("民" * 71, 2),
        ("民" * 134, 2),
        ("民" * 135, 3),
        ("Hello 你好", 1),
        ("[" * 80, 1),
        ("[" * 81, 2),
    ],
)
def test_sms_segments_follow_gsm7_and_ucs2_limits(text, segments):
    assert sms_segments(text) == segments


def test_sms_channel_needs_a_gateway_url():
    with pytest.raises(Exception, match="SMS_GATEWAY_URL is empty"):
        channel_from_config("sms", {"SMS_GATEWAY_URL": "", "SMS_GATEWAY_TOKEN": ""})
    with pytest.raises(ValueError, match="unknown channel 'fax'; expected one of email, sms"):
        channel_from_config("fax", {})
