"""Background summaries through the product: queued from the results page or the API, followed
there, and a failed one shows why with a retry button that runs it again."""

from __future__ import annotations

from datetime import datetime, timedelta

import analysis.summary
from analysis.summary import summarize
from minsheng.jobs import Job
from reviews.experts import assign_expert
from tests.factories import CampaignFactory


def _jobs(session):
    session.expire_all()
    return session.query(Job).filter_by(kind="analysis.summarize_campaign").all()


def test_api_queues_a_summary_and_serves_its_result(client, login, session, answered):
    campaign, answers = answered
    login("organizer")
    response = client.post(
        f"/api/v1/campaigns/{campaign.slug}/summary-jobs", json={"segments": ["district"]}
    )
    assert response.status_code == 202
    location = response.headers["Location"]
    # The embedded default runs the task in-process once the job is committed.
    job = client.get(location).get_json()
    assert job["state"] == "done" and job["progress"] == 1.0
    assert job["segments"] == ["district"]
    assert job["summary"] == summarize(session, campaign, segments=("district",)).to_dict()
    assert job["summary"]["n_responses"] == len(answers)
    # RFC 3339 times, as the OpenAPI document says (`format: date-time`).
    assert datetime.fromisoformat(job["created_at"]).utcoffset() == timedelta(0)
    assert datetime.fromisoformat(job["finished_at"]) >= datetime.fromisoformat(job["created_at"])


def test_unknown_segments_are_refused_before_anything_is_queued(client, login, session, answered):
    campaign, _ = answered
    login("organizer")
    url = f"/api/v1/campaigns/{campaign.slug}/summary-jobs"
    response = client.post(url, json={"segments": ["district", "no_such_column"]})
    assert response.status_code == 422
    assert any("no_such_column" in e["location"] for e in response.get_json()["errors"])
    assert client.post(url, json={"segments": "district"}).status_code == 422
    assert _jobs(session) == []


def test_a_department_gets_the_suppressed_result(client, login, session, answered):
    campaign, _ = answered
    user = login("department")
    campaign.departments.append(user.department)
    session.commit()
    body = client.post(f"/api/v1/campaigns/{campaign.slug}/summary-jobs", json={}).get_json()
    job = client.get(body["url"]).get_json()
    assert job["summary"]["suppression"]["threshold"] >= 1


def test_another_campaigns_job_is_not_found_through_this_one(client, login, session, answered):
    campaign, _ = answered
    other = CampaignFactory(slug="other-campaign")
    session.commit()
    login("organizer")
    body = client.post(f"/api/v1/campaigns/{campaign.slug}/summary-jobs", json={}).get_json()
    assert (
        client.get(f"/api/v1/campaigns/{other.slug}/summary-jobs/{body['id']}").status_code == 404
    )


def test_an_expert_not_assigned_cannot_queue_one(client, login, session, answered):
    campaign, _ = answered
    login("expert")
    url = f"/api/v1/campaigns/{campaign.slug}/summary-jobs"
    assert client.post(url, json={}).status_code == 403


def test_results_page_queues_a_summary_and_lists_it(client, login, session, answered):
    campaign, _ = answered
    assign_expert(session, campaign, login("expert"))
    session.commit()
    page = client.get(f"/campaigns/{campaign.slug}/results")
    assert page.status_code == 200 and 'id="summary-jobs"' in page.text
    response = client.post(
        f"/campaigns/{campaign.slug}/results", data={"segments": ["district", "channel"]}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert 'data-state="done"' in page.text and "district, channel" in page.text
    (job,) = _jobs(session)
    assert job.result["segments"] == ["district", "channel"]


def test_a_failed_summary_shows_why_and_its_retry_runs_it_again(
    client, login, session, answered, monkeypatch
):
    campaign, _ = answered
    login("organizer")
    real = analysis.summary.summarize

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while reading the snapshot")

    monkeypatch.setattr(analysis.summary, "summarize", broken)
    queued = client.post(f"/api/v1/campaigns/{campaign.slug}/summary-jobs", json={})
    assert queued.status_code == 202
    (job,) = _jobs(session)
    assert job.state == "failed"
    monkeypatch.setattr(analysis.summary, "summarize", real)

    page = client.get(f"/campaigns/{campaign.slug}/results")
    assert 'data-state="failed"' in page.text
    assert "disk full while reading the snapshot" in page.text
    assert f"/jobs/{job.id}/retry" in page.text

    retried = client.post(f"/jobs/{job.id}/retry")
    assert retried.status_code == 302
    assert retried.headers["Location"].endswith(f"/campaigns/{campaign.slug}/results")
    session.refresh(job)
    assert job.state == "done" and job.result["n_responses"] > 0


def test_the_api_retries_a_failed_summary_and_refuses_one_that_did_not_fail(
    client, login, session, answered, monkeypatch
):
    campaign, _ = answered
    login("organizer")
    url = f"/api/v1/campaigns/{campaign.slug}/summary-jobs"
    done = client.post(url, json={}).get_json()
    assert client.post(f"{url}/{done['id']}/retry").status_code == 422

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(analysis.summary, "summarize", broken)
    assert client.post(url, json={}).status_code == 202
    failed = max(job.id for job in _jobs(session))
    assert client.get(f"{url}/{failed}").get_json()["retryable"] is True
    monkeypatch.undo()
    response = client.post(f"{url}/{failed}/retry")
    assert response.status_code == 202
    assert client.get(f"{url}/{failed}").get_json()["state"] == "done"


def test_the_openapi_document_describes_the_summary_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post"} <= set(paths["/campaigns/{slug}/summary-jobs"])
    assert "get" in paths["/campaigns/{slug}/summary-jobs/{job_id}"]
    assert "get" in paths["/campaigns/{slug}/summary"]
