"""Asking for a report: the `minsheng report render` command, and the organizer page whose request
runs the `exporters.render_report` task through `enqueue_after_commit` (eager in the embedded
default, the same code a Redis worker runs)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from exporters.models import Report
from exporters.reports import report_download_name
from exporters.tasks import render_report
from minsheng.audit import AuditEvent, events_for
from minsheng.files import file_store
from minsheng.jobs import Job
from tests.factories import PASSWORD


def test_cli_render_prints_the_path_of_the_pdf(runner, session, campaign, add_responses, tmp_path):
    add_responses(60)
    result = runner.invoke(args=["report", "render", "transport-2026", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.parent == tmp_path
    assert path.suffix == ".pdf" and path.read_bytes().startswith(b"%PDF")
    report = session.scalars(select(Report)).one()
    # Requested like a request from the organizer page, and the copy out of the store audited
    # as a download by the operator.
    events = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "report")).all()
    assert [(e.action, e.actor_id, e.object_id, e.detail) for e in events] == [
        ("report.request", None, str(report.id), {"campaign": "transport-2026"}),
        ("report.download", None, str(report.id), {"file": report_download_name(report)}),
    ]


def test_cli_render_names_an_unknown_campaign(runner, tmp_path):
    result = runner.invoke(args=["report", "render", "no-such-campaign", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "no campaign 'no-such-campaign'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_organizer_requests_a_report_downloads_it_and_a_rerun_renders_nothing_new(
    client, login, session, campaign, add_responses
):
    add_responses(80)
    organizer = login("organizer")
    response = client.post("/campaigns/transport-2026/reports", data={"audience": "staff"})
    assert response.status_code == 302

    report = session.scalars(select(Report)).one()
    session.refresh(report)
    assert report.status == "done", report.error
    job = session.get(Job, report.job_id)
    assert (job.state, job.progress) == ("done", 1.0)

    page = client.get("/campaigns/transport-2026/reports").get_data(as_text=True)
    assert "下载 PDF" in page
    download_url = f"/campaigns/transport-2026/reports/{report.id}/download"
    assert f'href="{download_url}"' in page
    with client.get(download_url) as download:
        assert download.status_code == 200
        assert download.mimetype == "application/pdf"
        assert download.get_data().startswith(b"%PDF")
    downloaded = [
        e for e in events_for(session, "report", report.id) if e.action != "report.request"
    ]
    assert [(e.action, e.actor_id, e.detail["file"]) for e in downloaded] == [
        ("report.download", organizer.id, f"transport-2026-report-{report.id}.pdf")
    ]

    # A redelivery (acks_late after a worker crash) goes through the same public task.
    assert report.file_key == f"reports/transport-2026/{report.id}.pdf"
    path = Path(file_store().location(report.file_key))
    written = path.stat().st_mtime_ns
    assert render_report.delay(report.id).get() == report.file_key
    assert path.stat().st_mtime_ns == written
    # No half-written temporary file is left beside it (other tests' reports may be there).
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")]


def test_a_missing_font_marks_the_report_failed_with_the_fix(
    other_app, session, campaign, add_responses
):
    add_responses(10)
    app = other_app(CJK_FONT_FAMILY="Nonexistent Sans CJK XX")
    from flask_login import FlaskLoginClient

    app.test_client_class = FlaskLoginClient
    from minsheng.accounts.users import create_user

    user = create_user(session, "organizer-font", PASSWORD, "organizer")
    session.commit()
    with app.test_client(user=user) as other:
        assert other.post("/campaigns/transport-2026/reports", data={}).status_code == 302
    report = session.scalars(select(Report)).one()
    session.refresh(report)
    assert report.status == "failed"
    assert "apt-get install fonts-noto-cjk" in report.error
    assert session.get(Job, report.job_id).state == "failed"


def test_other_roles_cannot_request_reports(client, login, campaign):
    login("expert")
    assert client.post("/campaigns/transport-2026/reports", data={}).status_code == 403
    assert client.get("/campaigns/transport-2026/reports").status_code == 403


def test_a_rendered_report_is_marked_running_once(client, login, session, campaign, add_responses):
    # The task claims the report's job (one start, one lease); rendering must not claim or
    # restart it a second time, which would count two attempts and reset its progress.
    add_responses(40)
    login("organizer")
    response = client.post("/campaigns/transport-2026/reports", data={"audience": "staff"})
    assert response.status_code == 302
    report = session.scalars(select(Report)).one()
    session.refresh(report)
    assert report.status == "done", report.error
    job = session.get(Job, report.job_id)
    session.refresh(job)
    assert (job.state, job.attempts, job.progress) == ("done", 1, 1.0)


def test_the_old_download_url_redirects_and_another_campaign_slug_is_not_found(
    client, login, session, campaign
):
    from exporters.reports import request_report
    from tests.factories import CampaignFactory

    report = request_report(session, campaign)
    CampaignFactory(slug="parks-2026")
    session.commit()
    login("organizer")
    old = client.get(f"/reports/{report.id}/download?inline=1")
    assert old.status_code == 308
    assert old.headers["Location"] == (
        f"/campaigns/transport-2026/reports/{report.id}/download?inline=1"
    )
    assert client.get(f"/campaigns/parks-2026/reports/{report.id}/download").status_code == 404
    assert client.get("/reports/999999/download").status_code == 404
    login("expert")
    assert client.get(f"/reports/{report.id}/download").status_code == 403


def test_an_unknown_edition_is_shown_under_its_field_and_nothing_is_queued(
    client, login, session, campaign
):
    login("organizer")
    page = client.post("/campaigns/transport-2026/reports?lang=en", data={"audience": "everyone"})
    assert page.status_code == 422
    assert '<p class="error" id="audience-error">Not a valid choice.' in page.text
    assert '<a href="#audience">Edition: Not a valid choice.' in page.text
    assert "{&#39;" not in page.text
    assert session.scalars(select(Report)).all() == []
