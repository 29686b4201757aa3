"""The background summary: a `Job` row goes from queued to done with the summary as result."""

from __future__ import annotations

from analysis.summary import summarize
from analysis.tasks import request_summary, summarize_campaign
from minsheng.jobs import Job


def test_summary_job_runs_after_commit_and_stores_the_summary(session, answered):
    campaign, answers = answered
    job = request_summary(session, campaign, ["district"])
    assert job.state == "queued"
    session.commit()  # the embedded default runs the task in-process on commit
    session.refresh(job)
    assert job.state == "done" and job.progress == 1.0 and job.finished_at is not None
    assert job.result == summarize(session, campaign, segments=("district",)).to_dict()
    assert job.result["n_responses"] == len(answers)


def test_progress_is_recorded_while_the_summary_runs(session, answered, monkeypatch):
    campaign, _ = answered
    seen = []
    original = Job.__setattr__

    def spy(self, name, value):
        if name == "progress":
            seen.append(value)
        original(self, name, value)

    job = Job(kind="analysis.summarize_campaign", target=campaign.slug)
    session.add(job)
    session.commit()
    monkeypatch.setattr(Job, "__setattr__", spy)
    summarize_campaign.run(campaign.id, job.id, [])
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5
    assert 0.5 in seen


def test_a_finished_job_is_not_run_again(session, answered):
    campaign, _ = answered
    job = Job(kind="analysis.summarize_campaign", target=campaign.slug, state="done")
    job.result = {"kept": True}
    session.add(job)
    session.commit()
    summarize_campaign.run(campaign.id, job.id, [])
    assert job.result == {"kept": True}


def test_job_for_a_deleted_campaign_fails_with_a_message(session):
    job = Job(kind="analysis.summarize_campaign", target="gone")
    session.add(job)
    session.commit()
    summarize_campaign.run(987654, job.id, [])
    assert job.state == "failed" and "987654" in job.message
