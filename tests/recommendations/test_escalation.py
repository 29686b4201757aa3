"""Overdue escalation (督办): levels, idempotence, and e-mail to a real local SMTP server."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from invitations.channels import SmtpChannel, SmtpSettings
from minsheng.accounts.users import get_or_create_department
from minsheng.jobs import get_celery
from recommendations.assignments import reply
from recommendations.escalation import escalate_overdue, escalation_level, notify_escalations
from recommendations.models import Escalation
from recommendations.tasks import escalate_overdue_task
from tests.factories import UserFactory
from tests.recommendations.conftest import department_user


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture()
def people(session, departments):
    """Department users of transport and planning, an organizer and an admin, with e-mail."""
    made = {}
    for code in ("transport", "planning"):
        made[code] = UserFactory(
            role="department",
            department=get_or_create_department(session, code, code),
            email=f"{code}@dept.example",
        )
    made["organizer"] = UserFactory(role="organizer", email="organizer@example.org")
    made["admin"] = UserFactory(role="admin", email="admin@example.org")
    made["silent"] = UserFactory(role="organizer")  # no e-mail: never addressed
    session.commit()
    return made


@pytest.mark.parametrize(
    ("days", "level"), [(-3, 0), (0, 0), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (90, 3)]
)
def test_escalation_level_by_days_overdue(days, level):
    assert escalation_level(days) == level


def test_running_twice_a_day_escalates_once_per_level(session, assigned):
    first = escalate_overdue(session, date(2026, 7, 16))
    second = escalate_overdue(session, date(2026, 7, 16))
    assert [(e.level, e.days_overdue) for e in first] == [(1, 1), (1, 1)]
    assert second == []
    assert all(a.overdue and a.escalation_level == 1 for a in assigned.assignments)
    # A new day, and later a new level, escalate again.
    assert len(escalate_overdue(session, date(2026, 7, 17))) == 2
    assert {e.level for e in escalate_overdue(session, date(2026, 7, 22))} == {2}
    assert len(session.scalars(select(Escalation)).all()) == 6


def test_completed_and_not_yet_due_assignments_are_not_escalated(session, assigned):
    transport, planning = assigned.assignments
    reply(session, planning, department_user(session, "planning"), "协办完成")
    assert escalate_overdue(session, date(2026, 7, 15)) == []  # due today: not overdue
    (only,) = escalate_overdue(session, date(2026, 7, 20))
    assert only.assignment_id == transport.id
    assert not planning.overdue


def test_notices_go_to_the_department_then_organizers_and_admins(session, assigned, people):
    with smtp_server() as (inbox, port):
        channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=port, mail_from="ms@example.org"))
        escalate_overdue(session, date(2026, 7, 16))
        result = notify_escalations(session, channel, "https://ms.example.org")
        assert (result.sent, result.failed) == (2, 0)
        assert notify_escalations(session, channel).sent == 0  # nothing left to notify
        (mail,) = inbox.to("transport@dept.example")
        assert mail["Subject"] == "【催办】延长地铁末班车运营时间"
        body = mail.get_content()
        assert "已超过办理期限 1 天" in body
        link = f"https://ms.example.org/campaigns/transport-2026/recommendations/{assigned.id}"
        assert link in body
        assert len(inbox.to("planning@dept.example")) == 1
        assert inbox.to("organizer@example.org") == []

        escalate_overdue(session, date(2026, 7, 30))  # 15 days: level 3
        notify_escalations(session, channel)
        assert len(inbox.to("organizer@example.org")) == 2
        assert len(inbox.to("admin@example.org")) == 2
        assert len(inbox.to("transport@dept.example")) == 2
    notified = session.scalars(select(Escalation).where(Escalation.level == 3)).all()
    assert {tuple(e.notified_to) for e in notified} == {
        ("admin@example.org", "organizer@example.org", "transport@dept.example"),
        ("admin@example.org", "organizer@example.org", "planning@dept.example"),
    }


def test_an_unreachable_mail_server_leaves_the_escalation_for_the_next_run(
    session, assigned, people
):
    with smtp_server() as (_, port):
        pass  # the port is closed again
    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=port, timeout=2))
    escalate_overdue(session, date(2026, 7, 16))
    assert notify_escalations(session, channel).failed == 2
    assert session.scalars(select(Escalation.notified_at)).all() == [None, None]


def test_the_beat_task_escalates_and_mails_through_the_configured_server(
    make_app, bind_app, session, assigned, people
):
    with smtp_server() as (inbox, port):
        other = bind_app(make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port))
        schedule = get_celery(other).conf.beat_schedule
        assert schedule["recommendations.escalate_overdue"]["task"] == (
            "recommendations.escalate_overdue"
        )
        with other.app_context():
            first = escalate_overdue_task.run(today="2026-07-16")
        with other.app_context():
            second = escalate_overdue_task.run(today="2026-07-16")
        assert first == {"escalated": 2, "notified": 2, "failed": 0}
        assert second == {"escalated": 0, "notified": 0, "failed": 0}
        assert len(inbox.messages) == 2


def test_cli_runs_the_escalation(runner, session, assigned):
    result = runner.invoke(args=["recommendations", "escalate", "--today", "2026-07-16"])
    assert result.exit_code == 0, result.output
    assert "2 escalated" in result.output
    again = runner.invoke(args=["recommendations", "escalate", "--today", "2026-07-16"])
    assert "0 escalated" in again.output
