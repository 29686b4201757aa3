"""The campaign summary on a real Celery worker through Redis: the job row goes from queued to
done with the summary as result, read through the campaign's Parquet snapshot."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.summary import summarize
from analysis.tasks import request_summary
from campaigns.definition import read_campaign_file
from demo.synthetic import add_synthetic_responses
from forms.publishing import load_campaign
from minsheng.jobs import Job

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transport.yaml"
TIMEOUT = 180.0


def test_summary_job_runs_on_the_worker_and_stores_the_summary(
    it_engine, worker, worker_celery, redis_app, it_instance
):
    assert worker_celery.conf.task_always_eager is False
    definition = dataclasses.replace(read_campaign_file(EXAMPLE), slug="transport-summary-it")
    with Session(it_engine) as session:
        campaign, version = load_campaign(session, definition)
        add_synthetic_responses(session, campaign, version, 400, seed=5, until=date(2026, 6, 30))
        job = request_summary(session, campaign, ["district"])
        job_id, campaign_id = job.id, campaign.id
        session.commit()  # the task leaves for the worker only now

    deadline = time.monotonic() + TIMEOUT
    while True:
        with Session(it_engine) as session:
            state = session.scalar(select(Job.state).where(Job.id == job_id))
        assert state != "failed", worker.output()
        if state == "done":
            break
        assert worker.process.poll() is None, f"the worker died:\n{worker.output()}"
        assert time.monotonic() < deadline, f"timed out:\n{worker.output()}"
        time.sleep(0.2)

    with Session(it_engine) as session:
        job = session.get_one(Job, job_id)
        campaign = session.get_one(type(campaign), campaign_id)
        expected = summarize(session, campaign, segments=("district",)).to_dict()
        assert job.progress == 1.0 and job.finished_at is not None
        assert job.result == expected
        assert job.result["quality"]["n_received"] == 400
    assert (it_instance / "snapshots" / str(campaign_id) / "manifest.json").exists()
