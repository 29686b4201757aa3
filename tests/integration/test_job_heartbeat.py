"""A job at work keeps its lease while a step reports no progress for longer than the lease (a
long PDF layout on a busy machine), so the reaper does not start it again beside the live one;
once the work stops beating, the job is taken back."""

from __future__ import annotations

import time
from datetime import timedelta

from celery import _state as celery_state

from minsheng.db import get_database, get_session
from minsheng.jobs import Job, claim_job, lease_heartbeat, reap_jobs

REAP = {"max_attempts": 3, "queue_timeout": timedelta(minutes=30)}


def test_a_job_at_work_keeps_its_lease_without_progress_and_loses_it_when_the_beat_stops(
    make_app, it_settings
):
    previous = celery_state.get_current_app()
    app = make_app(**it_settings, JOB_LEASE_SECONDS=3)
    try:
        with app.app_context():
            session = get_session()
            job = Job(kind="tests.heartbeat", target="t")
            session.add(job)
            session.commit()
            assert claim_job(session, job.id) is not None
            session.commit()

            with lease_heartbeat(session, job.id):
                time.sleep(4.5)  # longer than the lease, with no progress reported
                reaped = reap_jobs(session, **REAP)
                session.commit()
                assert (reaped.requeued, reaped.failed) == (0, 0)

            time.sleep(3.5)  # the work stopped beating, as a dead worker's does
            # Taken back: with no message to send again, it fails with the reason.
            assert reap_jobs(session, **REAP).failed == 1
            session.commit()
            session.refresh(job)
            assert job.state == "failed" and "stopped responding" in job.message
            session.close()
        get_database(app).engine.dispose()
    finally:
        previous.set_current()
        previous.set_default()
