"""`minsheng contacts import`, `minsheng invitations sample|quota|status` and the organizer pages
for target lists and samples, with personal data masked everywhere."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from contacts.import_jobs import run_import
from contacts.models import Contact, ContactImport, ContactUpload
from invitations.models import Invitation, Sample
from tests.factories import CampaignFactory

from .builders import csv_bytes, people, xlsx_bytes


def bad_file_rows():
    rows = people(8)
    rows.append(["坏号码", "10086", "", "锦江区", "18-34"])  # row 10
    rows.append(["无区", "13600000000", "", "", "18-34"])  # row 11
    return rows


def test_cli_import_prints_counts_and_writes_the_error_file(runner, session, tmp_path):
    source = tmp_path / "residents.csv"
    source.write_bytes(csv_bytes(bad_file_rows(), "gb18030"))
    errors = tmp_path / "out" / "errors.csv"
    errors.parent.mkdir()
    args = [
        "contacts",
        "import",
        str(source),
        "--list",
        "成华区居民",
        "--required-attr",
        "district",
        "--errors-out",
        str(errors),
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "8 imported, 2 skipped of 10 rows" in result.output
    assert str(errors) in result.output
    lines = list(csv.reader(io.StringIO(errors.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["row", "column", "value", "reason"]
    assert [line[:2] for line in lines[1:]] == [["10", "手机号"], ["11", "district"]]
    again = runner.invoke(args=args)
    assert "0 imported, 10 skipped of 10 rows" in again.output
    assert session.scalar(select(func.count()).select_from(Contact)) == 8


def test_cli_import_refuses_a_file_without_contact_columns_with_status_2(runner, tmp_path):
    source = tmp_path / "x.csv"
    source.write_bytes(csv_bytes([["district"], ["锦江区"]]))
    result = runner.invoke(args=["contacts", "import", str(source), "--list", "x"])
    assert result.exit_code == 2
    assert "no mobile phone or e-mail column" in result.output


def test_cli_sample_then_status_counts_invitations(runner, session, tmp_path):
    CampaignFactory()
    session.commit()
    source = tmp_path / "p.xlsx"
    source.write_bytes(xlsx_bytes(people(60)))
    assert runner.invoke(args=["contacts", "import", str(source), "--list", "p"]).exit_code == 0
    quota = runner.invoke(
        args=[
            "invitations",
            "quota",
            "transport-2026",
            "--stratum",
            "district=锦江区",
            "--max",
            "50",
        ]
    )
    assert quota.exit_code == 0, quota.output
    result = runner.invoke(
        args=[
            "invitations",
            "sample",
            "transport-2026",
            "--list",
            "p",
            "--by",
            "district,age_group",
            "--size",
            "24",
            "--seed",
            "42",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "seed 42, 24 drawn, 24 invited" in result.output
    assert "age_group=18-34, district=锦江区\tpopulation 5\tallocated 2" in result.output
    status = runner.invoke(args=["invitations", "status", "transport-2026"])
    assert "transport-2026: 24 invitations" in status.output
    assert "created\t24" in status.output
    assert "quota district=锦江区\t0/50\topen" in status.output
    bad = runner.invoke(
        args=["invitations", "sample", "transport-2026", "--list", "nope", "--size", "3"]
    )
    assert bad.exit_code == 2 and "no list 'nope'; lists: p" in bad.output


def test_upload_page_imports_and_offers_the_masked_error_file(client, login, session):
    login("organizer")
    page = client.post(
        "/invitations/lists/",
        data={
            "file": (io.BytesIO(csv_bytes(bad_file_rows(), "utf-8-sig")), "residents.csv"),
            "list_name": "居民名单",
            "required": "district",
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    job_page = client.get(page.headers["Location"])
    assert job_page.status_code == 302  # the embedded worker has already finished
    result = client.get(job_page.headers["Location"])
    text = result.get_data(as_text=True)
    assert 'class="n-imported">8<' in text and 'class="n-skipped">2<' in text
    assert "1***6" in text and "10086" not in text
    assert "下载错误清单（CSV）" in text
    download = client.get(job_page.headers["Location"] + "/errors.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    body = download.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    assert "required attribute 'district' empty" in body.decode("utf-8-sig")


def test_list_page_shows_contacts_masked_only(client, login, session):
    login("organizer")
    client.post(
        "/invitations/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(3))), "p.csv"), "list_name": "m"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    list_id = session.scalar(select(Contact.list_id))
    text = client.get(f"/invitations/lists/{list_id}").get_data(as_text=True)
    assert "139****0002" in text and "r***@example.com" in text and "居**" in text
    for plain in ("13900000002", "resident2@example.com", "居民2"):
        assert plain not in text


def test_sample_page_draws_and_shows_strata(client, login, session):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    client.post(
        "/invitations/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(40))), "p.csv"), "list_name": "s"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    list_id = session.scalar(select(Contact.list_id))
    page = client.post(
        f"/invitations/campaigns/{camp.slug}/sample",
        data={"list_id": list_id, "by": "district", "allocation": "fixed", "count": 2, "seed": 5},
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    detail = client.get(page.headers["Location"]).get_data(as_text=True)
    assert 'class="n-drawn">8<' in detail and "district=锦江区" in detail
    assert session.scalar(select(Sample.seed)) == 5
    assert session.scalar(select(func.count()).select_from(Invitation)) == 8
    status = client.get(f"/invitations/campaigns/{camp.slug}").get_data(as_text=True)
    assert "Sample" in status or "样本" in status
    too_many = client.post(
        f"/invitations/campaigns/{camp.slug}/sample",
        data={"list_id": list_id, "allocation": "proportional", "count": 1000},
    )
    assert too_many.status_code == 422
    assert "expected 1 to 40" in too_many.get_data(as_text=True)


def test_pages_need_an_organizer(client, login):
    assert client.get("/invitations/lists/").status_code == 302
    login("expert")
    assert client.get("/invitations/lists/").status_code == 403


def test_upload_of_a_file_without_contact_columns_shows_why_on_the_job_page(client, login, session):
    login("organizer")
    page = client.post(
        "/invitations/lists/",
        data={
            "file": (io.BytesIO(csv_bytes([["district"], ["锦江区"]])), "d.csv"),
            "list_name": "d",
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert page.status_code == 422
    assert "no mobile phone or e-mail column" in page.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ContactUpload)) == 0


def test_running_the_import_task_again_imports_nothing_more(client, login, session):
    login("organizer")
    page = client.post(
        "/invitations/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(5))), "p.csv"), "list_name": "p"},
        content_type="multipart/form-data",
    )
    job_id = int(page.headers["Location"].rsplit("/", 1)[1])
    run_import(session, job_id)
    assert session.scalar(select(func.count()).select_from(Contact)) == 5
    assert session.scalar(select(func.count()).select_from(ContactImport)) == 1
    assert session.scalar(select(func.count()).select_from(ContactUpload)) == 0


def test_organizer_sets_a_quota_on_the_status_page(client, login, session):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    saved = client.post(
        f"/invitations/campaigns/{camp.slug}/quotas",
        data={"stratum": "district=锦江区，age_group=18-34", "maximum": 30},
    )
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "age_group=18-34, district=锦江区" in page


def test_a_quota_set_on_the_page_or_the_cli_is_audited_once_with_the_same_detail(
    runner, client, login, session
):
    from minsheng.audit import AuditEvent

    camp = CampaignFactory()
    session.commit()
    cli = runner.invoke(
        args=["invitations", "quota", camp.slug, "--stratum", "district=锦江区", "--max", "5"]
    )
    assert cli.exit_code == 0, cli.output
    organizer = login("organizer")
    page = client.post(
        f"/invitations/campaigns/{camp.slug}/quotas",
        data={"stratum": "district=锦江区", "maximum": 7},
    )
    assert page.status_code == 302
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "invitations.quota").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.detail["maximum"]) for e in events] == [(None, 5), (organizer.id, 7)]
    assert events[0].detail.keys() == events[1].detail.keys()
