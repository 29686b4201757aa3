"""Report rendering on a real Celery worker through Redis: the task is enqueued after the commit
that creates the report row, runs in another process, and a second delivery renders nothing new."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.synthetic import add_synthetic_responses
from exporters.models import Report
from exporters.reports import request_report
from exporters.tasks import render_report
from forms.publishing import load_campaign_file
from minsheng.jobs import Job, enqueue_after_commit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transport.yaml"
TIMEOUT = 180.0
SUCCEEDED = re.compile(r"Task exporters\.render_report\[[^\]]+\] succeeded.*")


def _wait_for(condition, what, worker):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{worker.output()}"
        time.sleep(0.2)


def test_report_is_rendered_by_the_worker_after_commit(
    it_engine, worker, worker_celery, redis_app, it_instance
):
    assert worker_celery.conf.task_always_eager is False
    with Session(it_engine) as session:
        campaign, version = load_campaign_file(session, str(EXAMPLE))
        add_synthetic_responses(session, campaign, version, 300, seed=8, until=date(2026, 6, 30))
        report = request_report(session, campaign)
        enqueue_after_commit(session, render_report.s(report.id))
        report_id, job_id = report.id, report.job_id
        assert "Task exporters.render_report[" not in worker.output()
        session.commit()  # only now does the task leave for the worker

    def done() -> bool:
        with Session(it_engine) as session:
            status = session.scalar(select(Report.status).where(Report.id == report_id))
        assert status != "failed", worker.output()
        return status == "done"

    _wait_for(done, "the report", worker)
    with Session(it_engine) as session:
        stored = session.get_one(Report, report_id)
        job = session.get_one(Job, job_id)
        key = stored.file_key or ""
        assert job.state == "done" and job.result == {"key": key}
    path = it_instance / "files" / key
    assert key.startswith("reports/") and key.endswith(f"/{report_id}.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    assert [path.name in line for line in SUCCEEDED.findall(worker.output())] == [True]

    # A second delivery (a retry after a lost acknowledgement) finds the report done.
    modified = path.stat().st_mtime_ns
    render_report.delay(report_id)
    _wait_for(lambda: len(SUCCEEDED.findall(worker.output())) == 2, "the second delivery", worker)
    assert path.stat().st_mtime_ns == modified
    assert sorted(p.name for p in path.parent.glob("*.pdf")) == [path.name]
