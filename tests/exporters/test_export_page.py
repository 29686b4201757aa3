"""The campaign's Exports tab: an organizer asks for an export, the `exporters.export_responses`
task writes it into the file store (eager in the embedded default, the code a worker runs), the
download is audited; departments get only the anonymised package; raw text is for admins."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pyreadstat
from sqlalchemy import select

from exporters.models import DataExport
from exporters.tasks import export_responses
from minsheng.audit import events_for
from minsheng.files import file_store
from minsheng.jobs import Job, retry_job
from tests.exporters.test_exports import HOSTILE, _submit

PAGE = "/campaigns/transport-2026/exports"


def test_organizer_exports_spss_from_the_page_and_the_download_is_audited(
    client, login, session, campaign, add_responses, tmp_path
):
    add_responses(25)
    organizer = login("organizer")
    page = client.get("/campaigns/transport-2026/reports").get_data(as_text=True)
    assert f'href="{PAGE}"' in page  # the campaign tab
    assert client.post(PAGE, data={"format": "sav"}).status_code == 302
    export = session.scalars(select(DataExport)).one()
    session.refresh(export)
    assert export.status == "done", export.error
    assert session.get(Job, export.job_id).state == "done"
    assert export.file_key == f"exports/transport-2026/{export.id}.sav"

    page = client.get(PAGE).get_data(as_text=True)
    url = f"{PAGE}/{export.id}/download"
    assert f'href="{url}"' in page and "SPSS" in page
    with client.get(url) as download:
        assert download.status_code == 200
        (tmp_path / "got.sav").write_bytes(download.get_data())
    frame, meta = pyreadstat.read_sav(str(tmp_path / "got.sav"))
    assert len(frame) == 25 and meta.variable_value_labels["district"]
    actions = [(e.action, e.actor_id) for e in events_for(session, "export", export.id)]
    assert actions == [("export.request", organizer.id), ("export.download", organizer.id)]
    # A redelivered task writes nothing new.
    path = Path(file_store().location(export.file_key))
    written = path.stat().st_mtime_ns
    assert export_responses.delay(export.id).get() == export.file_key
    assert path.stat().st_mtime_ns == written


def test_department_is_offered_and_given_only_the_anonymised_package(
    client, login, session, campaign, add_responses
):
    add_responses(30)
    login("organizer")
    client.post(PAGE, data={"format": "csv"})
    client.get("/logout")
    login("department", department_code="transport")
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'value="datapackage"' in text and 'value="csv"' not in text
    assert "/download" not in text  # the organizer's CSV is not even listed
    refused = client.post(PAGE, data={"format": "csv"})
    assert refused.status_code == 422
    csv_export = session.scalars(select(DataExport).where(DataExport.format == "csv")).one()
    assert client.get(f"{PAGE}/{csv_export.id}/download").status_code == 403
    assert client.post(PAGE, data={"format": "datapackage"}).status_code == 302
    package = session.scalars(select(DataExport).where(DataExport.format == "datapackage")).one()
    with client.get(f"{PAGE}/{package.id}/download") as download:
        assert download.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(download.get_data())).namelist()
    assert sorted(names) == ["datapackage.json", "responses.csv"]


def test_unlinked_department_and_experts_get_no_exports(client, login, campaign):
    login("department", department_code="health")
    assert client.get(PAGE).status_code == 403
    client.get("/logout")
    login("expert")
    assert client.get(PAGE).status_code == 403


def test_only_an_admin_gets_raw_text_and_asking_is_audited(
    client, login, session, campaign, add_responses
):
    _submit(session, campaign, HOSTILE, "hostile-page")
    login("organizer")
    assert 'name="raw"' not in client.get(PAGE).get_data(as_text=True)
    client.post(PAGE, data={"format": "csv", "raw": "y"})
    masked = session.scalars(select(DataExport)).one()
    assert masked.raw is False  # the box is not there for an organizer; nothing unmasked
    client.get("/logout")
    admin = login("admin")
    assert client.post(PAGE, data={"format": "csv", "raw": "y"}).status_code == 302
    raw = session.scalars(select(DataExport).where(DataExport.raw.is_(True))).one()
    with client.get(f"{PAGE}/{raw.id}/download") as download:
        assert "13812345678" in download.get_data().decode("utf-8-sig")
    actions = [(e.action, e.actor_id) for e in events_for(session, "export", raw.id)]
    assert ("export.raw", admin.id) in actions and ("export.download", admin.id) in actions
    client.get("/logout")
    login("organizer")
    assert client.get(f"{PAGE}/{raw.id}/download").status_code == 403


def test_a_failed_export_shows_why_and_is_retried(client, login, session, campaign, monkeypatch):
    login("admin")
    monkeypatch.setitem(client.application.config, "CJK_FONT_FAMILY", "No Such Font Family")
    assert client.post(PAGE, data={"format": "codebook-pdf"}).status_code == 302
    export = session.scalars(select(DataExport)).one()
    session.refresh(export)
    assert export.status == "failed" and "fonts-noto-cjk" in export.error
    page = client.get(PAGE).get_data(as_text=True)
    assert "fonts-noto-cjk" in page and "/retry" in page
    monkeypatch.undo()
    job = session.get(Job, export.job_id)
    retry_job(session, job)
    session.commit()
    session.refresh(export)
    assert export.status == "done", export.error
    with file_store().open(export.file_key) as stored:
        assert stored.stream.read(4) == b"%PDF"
