"""The escalation beat job on a real Celery worker through Redis and PostgreSQL: sent twice for
the same day (as beat does hourly, or after a restart), it reaches each level of the ladder once
and leaves one in-app notice per recipient."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms.publishing import load_campaign_file
from minsheng.accounts.models import User
from minsheng.jobs import get_celery
from recommendations.assignments import accept, assign_to_departments
from recommendations.models import Escalation, Notice, Recommendation
from recommendations.proposals import decide
from recommendations.tasks import escalate_overdue_task

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transport.yaml"
TIMEOUT = 120.0
SUCCEEDED = re.compile(r"Task recommendations\.escalate_overdue\[[^\]]+\] succeeded")


def _wait_for_runs(worker, runs):
    deadline = time.monotonic() + TIMEOUT
    while len(SUCCEEDED.findall(worker.output())) < runs:
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"the escalation did not run:\n{worker.output()}"
        time.sleep(0.2)


def test_the_beat_job_on_a_worker_climbs_once_per_level(
    it_engine, worker, worker_celery, redis_app
):
    assert worker_celery.conf.task_always_eager is False
    schedule = get_celery(redis_app).conf.beat_schedule["recommendations.escalate_overdue"]
    assert schedule["task"] == "recommendations.escalate_overdue"
    with Session(it_engine) as session:
        campaign, _ = load_campaign_file(session, str(EXAMPLE))
        transport = next(d for d in campaign.departments if d.code == "transport")
        handler = User(
            username="it-transport", display_name="交通局经办人", password_hash="x",
            role="department", department=transport, email="it-transport@dept.example",
        )  # fmt: skip
        session.add(handler)
        recommendation = Recommendation(
            campaign_id=campaign.id, title="延长地铁末班车", text="延长", source="expert"
        )
        session.add(recommendation)
        session.flush()
        decide(session, recommendation, "adopted")
        (assignment,) = assign_to_departments(
            session, recommendation, transport, deadline=date(2026, 7, 15), today=date(2026, 7, 1)
        )
        accept(session, assignment, handler)
        session.commit()
        assignment_id, handler_id = assignment.id, handler.id

    before = len(SUCCEEDED.findall(worker.output()))
    escalate_overdue_task.delay(today="2026-07-21")  # 4 working days overdue: levels 1 and 2
    _wait_for_runs(worker, before + 1)
    escalate_overdue_task.delay(today="2026-07-21")
    _wait_for_runs(worker, before + 2)

    with Session(it_engine) as session:
        levels = session.scalars(
            select(Escalation.level)
            .where(Escalation.assignment_id == assignment_id)
            .order_by(Escalation.level)
        ).all()
        notices = session.scalar(select(func.count(Notice.id)).where(Notice.user_id == handler_id))
    assert levels == [1, 2]
    # Level 1 goes to the department's own users; nobody is named for level 2 here.
    assert notices == 1
