"""Reminders and the escalation ladder (督办) in working days: once per level and breach, the
right recipients, e-mail to a real local SMTP server and in-app notices."""

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
from recommendations.assignments import (
    accept,
    assign_to_departments,
    decide_extension,
    reply,
    request_extension,
)
from recommendations.escalation import (
    add_ladder_contact,
    escalate_overdue,
    escalation_level,
    notices_for,
    notify_escalations,
    recipients,
)
from recommendations.models import Escalation
from recommendations.proposals import decide
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
    ("days", "level"), [(-3, 0), (0, 0), (1, 1), (3, 1), (4, 2), (7, 3), (10, 4), (90, 4)]
)
def test_escalation_level_by_working_days_overdue(days, level):
    assert escalation_level(days, ladder_days=3) == level


def test_an_overdue_item_climbs_the_ladder_once_per_level_not_once_per_day(session, assigned):
    # Both replies are due Wednesday 15 July 2026; the ladder climbs every 3 working days.
    reminders = escalate_overdue(session, date(2026, 7, 13))
    assert [(e.level, e.clock) for e in reminders] == [(0, "reply"), (0, "reply")]
    first = escalate_overdue(session, date(2026, 7, 16))
    assert [(e.level, e.days_overdue) for e in first] == [(1, 1), (1, 1)]
    assert escalate_overdue(session, date(2026, 7, 16)) == []
    assert escalate_overdue(session, date(2026, 7, 17)) == []  # a new day is no new level
    assert {e.level for e in escalate_overdue(session, date(2026, 7, 21))} == {2}
    # A run missed for a week adds every level reached, each once.
    assert sorted(e.level for e in escalate_overdue(session, date(2026, 7, 29))) == [3, 3, 4, 4]
    assert escalate_overdue(session, date(2026, 8, 20)) == []  # the top of the ladder
    assert len(session.scalars(select(Escalation)).all()) == 10
    assert all(a.overdue and a.escalation_level == 4 for a in assigned.assignments)


def test_a_granted_extension_is_a_new_deadline_and_a_pending_one_pauses_the_ladder(
    session, assigned
):
    transport = assigned.assignments[0]
    escalate_overdue(session, date(2026, 7, 16))
    user = department_user(session, "transport")
    request_extension(
        session, transport, user, date(2026, 7, 31), "资金待批", today=date(2026, 7, 16)
    )
    assert [e.assignment_id for e in escalate_overdue(session, date(2026, 7, 22))] == [
        assigned.assignments[1].id  # planning's level 2; transport's clock is paused
    ]
    decide_extension(session, transport, UserFactory(role="organizer"), True)

    def mine(day):
        return [e for e in escalate_overdue(session, day) if e.assignment_id == transport.id]

    assert mine(date(2026, 7, 27)) == []  # 4 working days to go
    (late,) = mine(date(2026, 8, 3))
    assert (late.assignment_id, late.due_on, late.level) == (transport.id, date(2026, 7, 31), 1)


def test_clocks_count_working_days_across_the_spring_festival_and_national_day(
    session, make_recommendation, departments
):
    before_festival = make_recommendation("春节前交办")
    decide(session, before_festival, "adopted")
    (lead,) = assign_to_departments(
        session, before_festival, departments["transport"], today=date(2026, 2, 13)
    )
    assert lead.accept_due == date(2026, 2, 24)
    # The holiday week is no breach: only the reminder, from 2 working days before the day.
    assert [e.level for e in escalate_overdue(session, date(2026, 2, 20))] == [0]
    assert escalate_overdue(session, date(2026, 2, 24)) == []
    (breach,) = escalate_overdue(session, date(2026, 2, 25))
    assert (breach.clock, breach.level, breach.days_overdue) == ("accept", 1, 1)

    before_national_day = make_recommendation("国庆前到期")
    decide(session, before_national_day, "adopted")
    (due,) = assign_to_departments(
        session,
        before_national_day,
        departments["planning"],
        deadline=date(2026, 9, 30),
        today=date(2026, 9, 1),
    )
    accept(session, due, department_user(session, "planning"))
    # 8 October is 8 calendar days but 1 working day past 30 September: level 1, not 2.
    late = [e for e in escalate_overdue(session, date(2026, 10, 8)) if e.assignment_id == due.id]
    assert [(e.level, e.days_overdue) for e in late] == [(1, 1)]


def test_completed_and_not_yet_due_assignments_are_not_escalated(session, assigned):
    transport, planning = assigned.assignments
    reply(session, planning, department_user(session, "planning"), "协办完成")
    assert [e.level for e in escalate_overdue(session, date(2026, 7, 15))] == [0]
    (only,) = escalate_overdue(session, date(2026, 7, 20))
    assert only.assignment_id == transport.id
    assert not planning.overdue


def test_notices_go_up_the_ladder_to_the_right_people_only(session, assigned, people):
    head = UserFactory(
        role="department",
        department=assigned.assignments[0].department,
        email="head@transport.example",
    )
    office = UserFactory(role="organizer", email="duban@gov.example")
    leader = UserFactory(role="organizer", email="leader@gov.example")
    add_ladder_contact(session, 2, head, assigned.assignments[0].department_id)
    add_ladder_contact(session, 3, office)
    add_ladder_contact(session, 4, leader)
    with smtp_server() as (inbox, port):
        channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=port, mail_from="ms@example.org"))
        escalate_overdue(session, date(2026, 7, 16))
        result = notify_escalations(session, channel, "https://ms.example.org")
        assert (result.sent, result.failed) == (2, 0)
        assert notify_escalations(session, channel).sent == 0  # nothing left to notify
        (mail,) = inbox.to("transport@dept.example")
        assert mail["Subject"] == "【催办】延长地铁末班车运营时间"
        body = mail.get_content()
        assert "已超过答复期限 1 个工作日（期限 2026-07-15）" in body
        link = f"https://ms.example.org/campaigns/transport-2026/recommendations/{assigned.id}"
        assert link in body
        assert len(inbox.to("planning@dept.example")) == 1
        for nobody_yet in ("organizer@example.org", "admin@example.org", "duban@gov.example"):
            assert inbox.to(nobody_yet) == []

        escalate_overdue(session, date(2026, 7, 21))  # level 2: transport's head only
        notify_escalations(session, channel)
        # The head is a user of the department too: the level-1 notice, then their own.
        subjects = [m["Subject"] for m in inbox.to("head@transport.example")]
        assert subjects == ["【催办】延长地铁末班车运营时间", "【督办】延长地铁末班车运营时间"]
        assert inbox.to("duban@gov.example") == []
        escalate_overdue(session, date(2026, 7, 29))  # levels 3 and 4 for both
        notify_escalations(session, channel)
        assert len(inbox.to("duban@gov.example")) == 2
        assert len(inbox.to("leader@gov.example")) == 2
        assert inbox.to("organizer@example.org") == [] and inbox.to("admin@example.org") == []
    notices = notices_for(session, people["transport"])
    assert [n.text for n in notices] == ["【催办】延长地铁末班车运营时间"]
    assert notices_for(session, leader)[0].text == "【约谈】延长地铁末班车运营时间"


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


def test_cli_names_who_hears_of_each_level(runner, session, assigned, people):
    result = runner.invoke(args=["recommendations", "ladder", "3", people["organizer"].username])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(args=["recommendations", "ladder", "2", people["organizer"].username])
    assert refused.exit_code == 2 and "a department head names a department" in refused.output
    escalate_overdue(session, date(2026, 7, 24))  # 7 working days overdue: level 3
    level_three = session.scalars(select(Escalation).where(Escalation.level == 3)).first()
    assert recipients(session, level_three) == ["organizer@example.org"]
