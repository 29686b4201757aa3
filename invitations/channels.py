"""Channels that carry an invitation to a person: e-mail over SMTP and SMS through an HTTP gateway.

Each channel sorts failures into temporary (retry later, with backoff) and permanent (record on
the invitation, never retry), so the sending code needs no knowledge of SMTP reply codes or
gateway status codes. Each also calls `hand_over` at the last moment before the message can no
longer be taken back, where the sender commits its claim (`invitations.sending`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formatdate
from typing import Any, Protocol

CHANNEL_NAMES = ("email", "sms")


class ChannelError(Exception):
    """A message could not be handed over."""


class TemporaryFailure(ChannelError):
    """Try again later; `retry_after` (seconds) is what the other side asked for, if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(ChannelError):
    """Never retry: the address or number is refused (a synchronous bounce) or the request is
    malformed. `bounce` is true when the recipient itself was refused."""

    def __init__(self, message: str, bounce: bool = False) -> None:
        super().__init__(message)
        self.bounce = bounce


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message for one recipient.

    `message_id` is stable for a send step, so a gateway that de-duplicates by it, or a reader
    threading e-mails, sees a retry as the same message.
    """

    to: str
    text: str
    message_id: str
    subject: str = ""
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """What the channel said when it accepted the message."""

    provider_id: str
    segments: int = 1


def _nothing() -> None:
    return None


class Channel(Protocol):
    """Anything that can send one message; `open`/`close` bracket a batch so a connection is
    reused for many messages. `send` calls `hand_over` once, right before the point after which
    the message is delivered even if this process dies; an exception from it sends nothing."""

    name: str

    def open(self) -> None: ...

    def send(
        self, message: OutgoingMessage, hand_over: Callable[[], None] = _nothing
    ) -> Receipt: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    mail_from: str = "minsheng@localhost"
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        return cls(
            host=str(config["SMTP_HOST"]),
            port=int(config["SMTP_PORT"]),
            user=str(config["SMTP_USER"]),
            password=str(config["SMTP_PASSWORD"]),
            starttls=bool(config["SMTP_STARTTLS"]),
            mail_from=str(config["MAIL_FROM"]),
        )


def _smtp_code_failure(code: int, detail: str, recipient: bool) -> ChannelError:
    # RFC 5321 section 4.2.1: 4yz is a transient negative reply, 5yz a permanent one.
    if 400 <= code < 500:
        return TemporaryFailure(f"SMTP {code}: {detail}")
    return PermanentFailure(f"SMTP {code}: {detail}", bounce=recipient)


class SmtpChannel:
    """E-mail through an SMTP server (`smtplib`), one connection per batch.

    A refused recipient (5xx at RCPT) is a bounce; 4xx replies, lost connections and timeouts are
    temporary. A dropped connection is reopened once per message before giving up.
    """

    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        if self._smtp is not None:
            return
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"SMTP login refused for {s.user!r}: {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach SMTP server {s.host}:{s.port}: {exc}") from exc
        # `send` writes the final dot on its own after the hand-over: with Nagle's algorithm the
        # kernel holds that small write until the server acknowledges the message, which a
        # server delays by up to 40 ms (delayed ACK), so every message waited that long (about
        # 23 messages a second per connection against 1,300 without it; issue 10, point 6).
        if smtp.sock is not None:
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._smtp = smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def compose(self, message: OutgoingMessage) -> bytes:
        """The message as SMTP DATA: plain text with an HTML alternative when there is one,
        UTF-8 in base64, the subject as an RFC 2047 encoded word.

        Written out directly rather than through `email.generator`: flattening the MIME objects
        took more time than the SMTP exchange itself (issue 10, point 6). Header values lose any
        line break, so no value can add a header of its own.
        """
        domain = self.settings.mail_from.rpartition("@")[2] or "localhost"
        headers = {
            "From": self.settings.mail_from,
            "To": message.to,
            "Subject": Header(message.subject, "utf-8").encode(),
            "Date": formatdate(localtime=False),
            "Message-ID": f"<{message.message_id}@{domain}>",
            **message.headers,
            "MIME-Version": "1.0",
        }
        lines = [f"{name}: {_one_line(value)}" for name, value in headers.items()]
        if message.html is None:
            lines.extend(_part_headers("plain"))
            lines.extend(("", _base64(message.text)))
        else:
            # base64 never contains "=_", so the boundary cannot occur inside a part.
            boundary = f"=_{secrets.token_hex(12)}"
            lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
            for subtype, body in (("plain", message.text), ("html", message.html)):
                lines.extend(("", f"--{boundary}", *_part_headers(subtype), "", _base64(body)))
            lines.extend(("", f"--{boundary}--"))
        return "\r\n".join(lines).encode("utf-8") + b"\r\n"

    def send(self, message: OutgoingMessage, hand_over: Callable[[], None] = _nothing) -> Receipt:
        """Hand `message` to the server in two steps: everything but the final dot of DATA,
        then `hand_over()`, then the dot. A server delivers nothing without the dot (RFC 5321,
        section 4.1.1.4), so a process that dies before it leaves no message behind, and the
        claim `hand_over` commits covers only the one small write after which it is delivered.
        """
        data = self.compose(message)
        domain = self.settings.mail_from.rpartition("@")[2] or "localhost"
        for attempt in (1, 2):
            self.open()
            assert self._smtp is not None
            try:
                self._transfer(self._smtp, message.to, data)
                break
            except smtplib.SMTPRecipientsRefused as exc:
                code, detail = next(iter(exc.recipients.values()))
                raise _smtp_code_failure(code, _text(detail), recipient=True) from exc
            except smtplib.SMTPSenderRefused as exc:
                raise _smtp_code_failure(exc.smtp_code, _text(exc.smtp_error), False) from exc
            except smtplib.SMTPDataError as exc:
                raise _smtp_code_failure(exc.smtp_code, _text(exc.smtp_error), False) from exc
            except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP connection lost: {exc}") from exc
            except smtplib.SMTPException as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc}") from exc
        smtp = self._smtp
        assert smtp is not None
        try:
            hand_over()
        except BaseException:
            # Dropped without the dot: the server discards the message.
            self._smtp = None
            smtp.close()
            raise
        try:
            smtp.send(b".\r\n")
            code, detail = smtp.getreply()
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            self._smtp = None
            raise TemporaryFailure(f"SMTP connection lost after the message: {exc}") from exc
        if code != 250:
            raise _smtp_code_failure(code, _text(detail), recipient=False)
        return Receipt(provider_id=f"<{message.message_id}@{domain}>")

    def _transfer(self, smtp: smtplib.SMTP, to: str, data: bytes) -> None:
        """MAIL, RCPT, DATA and the message without its final dot (what `sendmail` does up to
        there); a refusal resets the transaction so the connection serves the next message."""
        smtp.ehlo_or_helo_if_needed()
        code, detail = smtp.mail(self.settings.mail_from)
        if code != 250:
            self._reset(smtp, code)
            raise smtplib.SMTPSenderRefused(code, detail, self.settings.mail_from)
        code, detail = smtp.rcpt(to)
        if code not in (250, 251):
            self._reset(smtp, code)
            raise smtplib.SMTPRecipientsRefused({to: (code, detail)})
        code, detail = smtp.docmd("DATA")
        if code != 354:
            self._reset(smtp, code)
            raise smtplib.SMTPDataError(code, detail)
        # RFC 5321 section 4.5.2: a line starting with a dot gets a second one.
        body = _LEADING_DOT.sub(b"..", data)
        smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")

    def _reset(self, smtp: smtplib.SMTP, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self._smtp = None
            smtp.close()
            return
        try:
            smtp.rset()
        except smtplib.SMTPServerDisconnected:
            self._smtp = None


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _one_line(value: str) -> str:
    return " ".join(value.splitlines())


def _part_headers(subtype: str) -> tuple[str, ...]:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
    )


def _base64(text: str) -> str:
    # RFC 2045 section 6.8: lines of at most 76 characters.
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", "\r\n").rstrip()


def _text(detail: bytes | str) -> str:
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else detail


class SmsGateway(Protocol):
    """An SMS provider behind one call; adapters translate its answers into our failures."""

    def submit(self, phone: str, text: str, message_id: str) -> str:
        """Hand over one SMS; return the provider's message id."""
        ...


class HttpSmsGateway:
    """A JSON-over-HTTP gateway: `POST <url>` with a bearer token and
    `{"to", "text", "client_ref"}`; it answers `{"id": ...}`.

    429 is throttling (temporary, honouring `Retry-After` in seconds), 5xx and network errors are
    temporary, any other 4xx is permanent (a bad number is a bounce: 400/404/422 naming `to`).
    """

    def __init__(self, url: str, token: str, timeout: float = 15.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"SMS gateway URL {url!r}: expected an http(s) URL")
        self.url = url
        self.token = token
        self.timeout = timeout

    def submit(self, phone: str, text: str, message_id: str) -> str:
        body = json.dumps({"to": phone, "text": text, "client_ref": message_id}).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": message_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                payload = json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise _gateway_failure(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TemporaryFailure(f"SMS gateway unreachable: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise TemporaryFailure("SMS gateway answered with something that is not JSON") from exc
        return str(payload.get("id", message_id))


def _gateway_failure(exc: urllib.error.HTTPError) -> ChannelError:
    detail = exc.read().decode("utf-8", "replace")[:200]
    if exc.code == 429:
        return TemporaryFailure(
            f"SMS gateway throttled (429): {detail}",
            retry_after=_retry_after(exc.headers.get("Retry-After")),
        )
    if exc.code >= 500:
        return TemporaryFailure(f"SMS gateway error {exc.code}: {detail}")
    return PermanentFailure(
        f"SMS gateway refused ({exc.code}): {detail}",
        bounce=exc.code in (400, 404, 422) and "to" in detail,
    )


def _retry_after(value: str | None) -> float | None:
    # RFC 9110 section 10.2.3 also allows an HTTP date; gateways send seconds, so only those count.
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def sms_segments(text: str) -> int:
    """Number of SMS segments `text` takes.

    Text in the GSM 03.38 basic alphabet fits 160 characters in one segment and 153 per segment
    when concatenated; anything else (Chinese) is sent as UCS-2: 70 characters in one segment,
    67 per segment when concatenated (3GPP TS 23.040, the 6-byte concatenation header). Characters
    outside the BMP count twice in UCS-2.
    """
    if not text:
        return 0
    if all(ch in _GSM7 for ch in text):
        size = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        return 1 if size <= 160 else -(-size // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else -(-units // 67)


_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
_GSM7 = frozenset(_GSM7_BASIC) | _GSM7_EXTENDED


class SmsChannel:
    """SMS through a gateway adapter; refuses text longer than `max_segments` before sending."""

    name = "sms"

    def __init__(self, gateway: SmsGateway, max_segments: int = 3) -> None:
        self.gateway = gateway
        self.max_segments = max_segments

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, message: OutgoingMessage, hand_over: Callable[[], None] = _nothing) -> Receipt:
        segments = sms_segments(message.text)
        if segments > self.max_segments:
            raise PermanentFailure(
                f"SMS text takes {segments} segments; at most {self.max_segments} allowed"
            )
        hand_over()  # a gateway call cannot be taken back halfway: the claim comes first
        provider_id = self.gateway.submit(message.to, message.text, message.message_id)
        return Receipt(provider_id=provider_id, segments=segments)


def channel_from_config(name: str, config: Mapping[str, Any]) -> Channel:
    """The configured channel called `name` (`email` or `sms`)."""
    if name == "email":
        return SmtpChannel(SmtpSettings.from_config(config))
    if name == "sms":
        url = str(config["SMS_GATEWAY_URL"])
        if not url:
            raise ChannelError("SMS channel disabled: MINSHENG_SMS_GATEWAY_URL is empty")
        return SmsChannel(HttpSmsGateway(url, str(config["SMS_GATEWAY_TOKEN"])))
    raise ValueError(f"unknown channel {name!r}; expected one of {', '.join(CHANNEL_NAMES)}")
