"""`minsheng contacts import` and the organizer's target-list pages: upload, import progress and
result with the error file, the list's contacts masked, and the old URLs moved to /contacts/."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from contacts.import_jobs import run_import
from contacts.models import Contact, ContactImport, ContactUpload
from minsheng.audit import AuditEvent, events_for
from tests.invitations.builders import csv_bytes, people
from tests.page_parts import error_summary, input_tag


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


def test_upload_page_imports_and_offers_the_masked_error_file(client, login, session):
    organizer = login("organizer")
    page = client.post(
        "/contacts/lists/",
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
    (event,) = events_for(session, "contact_import", session.scalar(select(ContactImport.id)))
    assert (event.action, event.actor_id) == ("contact_import.download", organizer.id)


def test_list_page_shows_contacts_masked_only(client, login, session):
    login("organizer")
    client.post(
        "/contacts/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(3))), "p.csv"), "list_name": "m"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    list_id = session.scalar(select(Contact.list_id))
    text = client.get(f"/contacts/lists/{list_id}").get_data(as_text=True)
    assert "139****0002" in text and "r***@example.com" in text and "居**" in text
    for plain in ("13900000002", "resident2@example.com", "居民2"):
        assert plain not in text


def test_pages_need_an_organizer(client, login):
    assert client.get("/contacts/lists/").status_code == 302
    login("expert")
    assert client.get("/contacts/lists/").status_code == 403


def test_upload_of_a_file_without_contact_columns_shows_why_on_the_job_page(client, login, session):
    login("organizer")
    page = client.post(
        "/contacts/lists/",
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
        "/contacts/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(5))), "p.csv"), "list_name": "p"},
        content_type="multipart/form-data",
    )
    job_id = int(page.headers["Location"].rsplit("/", 1)[1])
    run_import(session, job_id)
    assert session.scalar(select(func.count()).select_from(Contact)) == 5
    assert session.scalar(select(func.count()).select_from(ContactImport)) == 1
    assert session.scalar(select(func.count()).select_from(ContactUpload)) == 0


def test_an_upload_without_a_list_name_says_so_under_the_field(client, login, session):
    login("organizer")
    page = client.post(
        "/contacts/lists/?lang=en",
        data={"file": (io.BytesIO(csv_bytes(people(2))), "p.csv"), "required": "district"},
        content_type="multipart/form-data",
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="list_name-error">This field is required.' in text
    assert 'aria-describedby="list_name-error"' in input_tag(text, "list_name")
    assert 'value="district"' in input_tag(text, "required")
    assert '<a href="#list_name">Target list: This field is required.' in error_summary(text)
    assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_old_target_list_urls_answer_308_to_the_contacts_pages(client, login, session):
    for old, new in (
        ("/invitations/lists/", "/contacts/lists/"),
        ("/invitations/lists/3?page=2", "/contacts/lists/3?page=2"),
        ("/invitations/imports/5", "/contacts/imports/5"),
        ("/invitations/imports/5/errors.csv", "/contacts/imports/5/errors.csv"),
        ("/invitations/imports/jobs/7?lang=en", "/contacts/imports/jobs/7?lang=en"),
    ):
        moved = client.get(old)
        assert (moved.status_code, moved.headers["Location"]) == (308, new), old
    login("organizer")
    page = client.post(
        "/invitations/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(3))), "p.csv"), "list_name": "old"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert page.status_code == 200  # posted again to /contacts/lists/, imported, result shown
    assert 'class="n-imported">3<' in page.get_data(as_text=True)


def test_an_upload_on_the_page_and_an_import_on_the_cli_are_each_audited_once(
    runner, client, login, session, tmp_path
):
    organizer = login("organizer")
    client.post(
        "/contacts/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(4))), "p.csv"), "list_name": "a"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    source = tmp_path / "more.csv"
    source.write_bytes(csv_bytes(people(6)))
    cli = runner.invoke(args=["contacts", "import", str(source), "--list", "a"])
    assert cli.exit_code == 0, cli.output
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("contacts.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_id, e.detail.get("imported")) for e in events] == [
        ("contacts.upload", organizer.id, None),
        ("contacts.import", None, 4),  # by the worker, for the upload above
        ("contacts.import", None, 2),  # the CLI: four of its six people were already on the list
    ]
