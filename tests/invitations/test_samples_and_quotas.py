"""`minsheng invitations sample|quota|status` and the organizer's pages of a campaign's samples
and quotas under /campaigns/<slug>/invitations; the old /invitations/... URLs answer 308."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from contacts.models import Contact
from invitations.models import Invitation, Sample
from minsheng.audit import AuditEvent
from tests.factories import CampaignFactory

from .builders import csv_bytes, people, xlsx_bytes


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


def test_sample_page_draws_and_shows_strata(client, login, session):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    client.post(
        "/contacts/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(40))), "p.csv"), "list_name": "s"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    list_id = session.scalar(select(Contact.list_id))
    page = client.post(
        f"/campaigns/{camp.slug}/invitations/sample",
        data={"list_id": list_id, "by": "district", "allocation": "fixed", "count": 2, "seed": 5},
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    detail = client.get(page.headers["Location"]).get_data(as_text=True)
    assert 'class="n-drawn">8<' in detail and "district=锦江区" in detail
    assert session.scalar(select(Sample.seed)) == 5
    assert session.scalar(select(func.count()).select_from(Invitation)) == 8
    status = client.get(f"/campaigns/{camp.slug}/invitations").get_data(as_text=True)
    assert "Sample" in status or "样本" in status
    too_many = client.post(
        f"/campaigns/{camp.slug}/invitations/sample",
        data={"list_id": list_id, "allocation": "proportional", "count": 1000},
    )
    assert too_many.status_code == 422
    assert "expected 1 to 40" in too_many.get_data(as_text=True)


def test_organizer_sets_a_quota_on_the_status_page(client, login, session):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    saved = client.post(
        f"/campaigns/{camp.slug}/invitations/quotas",
        data={"stratum": "district=锦江区，age_group=18-34", "maximum": 30},
    )
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "age_group=18-34, district=锦江区" in page


def test_a_quota_set_on_the_page_or_the_cli_is_audited_once_with_the_same_detail(
    runner, client, login, session
):
    camp = CampaignFactory()
    session.commit()
    cli = runner.invoke(
        args=["invitations", "quota", camp.slug, "--stratum", "district=锦江区", "--max", "5"]
    )
    assert cli.exit_code == 0, cli.output
    organizer = login("organizer")
    page = client.post(
        f"/campaigns/{camp.slug}/invitations/quotas",
        data={"stratum": "district=锦江区", "maximum": 7},
    )
    assert page.status_code == 302
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "invitations.quota").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.detail["maximum"]) for e in events] == [(None, 5), (organizer.id, 7)]
    assert events[0].detail.keys() == events[1].detail.keys()


def _sample_through_the_page(client, session, camp) -> int:
    client.post(
        "/contacts/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(12))), "p.csv"), "list_name": "r"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = client.post(
        f"/campaigns/{camp.slug}/invitations/sample",
        data={
            "list_id": session.scalar(select(Contact.list_id)),
            "allocation": "proportional",
            "count": 4,
            "seed": 3,
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    sample_id = session.scalar(select(Sample.id))
    assert page.headers["Location"] == f"/campaigns/{camp.slug}/invitations/samples/{sample_id}"
    return sample_id


def test_old_invitation_urls_answer_308_to_the_campaign_pages(client, login, session):
    camp = CampaignFactory()
    session.commit()
    old, new = f"/invitations/campaigns/{camp.slug}", f"/campaigns/{camp.slug}/invitations"
    for suffix in ("", "/sample", "/quotas"):
        moved = client.get(f"{old}{suffix}?lang=en&x=1")
        assert moved.status_code == 308
        assert moved.headers["Location"] == f"{new}{suffix}?lang=en&x=1"
    # A slug no campaign can have still moves, escaped, to where the 404 is answered.
    odd = client.get("/invitations/campaigns/a%20b%3F/sample")
    assert odd.headers["Location"] == "/campaigns/a%20b%3F/invitations/sample"
    organizer = login("organizer")
    saved = client.post(
        f"{old}/quotas", data={"stratum": "district=锦江区", "maximum": 9}, follow_redirects=True
    )
    assert saved.status_code == 200  # the POST was posted again to the new URL, then redirected
    assert "district=锦江区" in saved.get_data(as_text=True)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "invitations.quota"))
    assert [(e.actor_id, e.detail["maximum"]) for e in events] == [(organizer.id, 9)]
    sample_id = _sample_through_the_page(client, session, camp)
    moved = client.get(f"/invitations/samples/{sample_id}?lang=en")
    assert moved.status_code == 308
    assert moved.headers["Location"] == f"{new}/samples/{sample_id}?lang=en"
    assert 'class="n-drawn">4<' in client.get(moved.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/invitations/samples/{sample_id + 1}").status_code == 404


def test_a_sample_is_found_only_under_its_own_campaign(client, login, session):
    camp = CampaignFactory()
    other = CampaignFactory(slug="other-2026")
    session.commit()
    login("organizer")
    sample_id = _sample_through_the_page(client, session, camp)
    assert client.get(f"/campaigns/{other.slug}/invitations/samples/{sample_id}").status_code == 404


def test_the_old_sample_url_asks_for_a_login_before_naming_the_campaign(client, session):
    camp = CampaignFactory()
    session.commit()
    moved = client.get("/invitations/samples/1")
    assert moved.status_code == 302 and "/login" in moved.headers["Location"]
    assert camp.slug not in moved.headers["Location"]


def test_a_sample_drawn_on_the_page_or_the_cli_is_audited_once(runner, client, login, session):
    camp = CampaignFactory()
    session.commit()
    organizer = login("organizer")
    first = _sample_through_the_page(client, session, camp)
    cli = runner.invoke(
        args=["invitations", "sample", camp.slug, "--list", "r", "--size", "4", "--seed", "8"]
    )
    assert cli.exit_code == 0, cli.output
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "invitations.sample").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [
        (organizer.id, str(first)),
        (None, str(first + 1)),
    ]
