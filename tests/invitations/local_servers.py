"""Real servers on 127.0.0.1 for channel tests: an SMTP server (aiosmtpd) that keeps what arrives
and refuses chosen recipients, and an HTTP server that answers like an SMS gateway."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """Keeps every accepted message; `refuse` maps a recipient to the reply given at RCPT."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class GatewayState:
    """What the gateway received and how it should answer next.

    `script` is a list of (status, headers, body) answers used in order before falling back to
    200; `bad_numbers` are refused with 422 like a real gateway refusing an unknown number.
    """

    token: str = "gw-token"
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    bad_numbers: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: GatewayState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    answer: tuple[int, dict[str, str], dict[str, Any]] = (
                        401,
                        {},
                        {"error": "bad token"},
                    )
                elif state.script:
                    answer = state.script.pop(0)
                elif body.get("to") in state.bad_numbers:
                    answer = (422, {}, {"error": "invalid 'to' number"})
                else:
                    state.received.append(body)
                    answer = (200, {}, {"id": f"gw-{len(state.received)}"})
            status, headers, payload = answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def sms_gateway() -> Iterator[tuple[GatewayState, str]]:
    state = GatewayState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    finally:
        server.shutdown()
        server.server_close()
