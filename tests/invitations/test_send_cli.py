"""The sending commands: `minsheng invitations send|remind|posters` through the embedded worker."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from invitations.models import Delivery
from invitations.send_runs import recent_runs
from minsheng.audit import AuditEvent
from minsheng.db import utcnow

from .local_servers import smtp_server
from .sending_helpers import build_worked_campaign, invited_campaign


def test_send_command_sends_through_the_embedded_worker(app, runner, session, monkeypatch):
    camp, _ids = invited_campaign(session, 3)
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        result = runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
        again = runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
    assert result.exit_code == 0, result.output
    assert "batch 1/1 (3/3): sent 3, bounced 0, failed 0" in result.output
    assert "nothing to send" in again.output
    assert len(sink.messages) == 3
    missing = runner.invoke(args=["invitations", "send", "nope", "--channel", "email"])
    assert missing.exit_code == 2
    assert "no campaign 'nope'" in missing.output


def test_resend_uncertain_command_sends_only_the_uncertain_steps_once_more(
    app, runner, session, monkeypatch
):
    camp, ids = invited_campaign(session, 3)
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
        session.execute(
            update(Delivery).where(Delivery.invitation_id == ids[1]).values(state="uncertain")
        )
        session.commit()
        result = runner.invoke(args=["invitations", "resend-uncertain", camp.slug])
        again = runner.invoke(args=["invitations", "resend-uncertain", camp.slug])
    assert result.exit_code == 0, result.output
    assert "batch 1/1 (1/1): sent 1, bounced 0, failed 0" in result.output
    assert "no uncertain steps" in again.output
    assert len(sink.messages) == 4
    assert sink.messages[3]["To"] in {m["To"] for m in sink.messages[:3]}


def test_remind_command_reports_when_nothing_is_due(app, runner, session):
    camp, _ids = invited_campaign(session, 1)
    result = runner.invoke(args=["invitations", "remind", camp.slug])
    assert result.exit_code == 0, result.output
    assert "no reminders due" in result.output


def test_posters_command_writes_one_page_per_point(runner, session, tmp_path):
    camp, _ = invited_campaign(session, 0)
    out = tmp_path / "posters.pdf"
    result = runner.invoke(args=["invitations", "posters", camp.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (3 posters)" in result.output
    assert Path(out).read_bytes().startswith(b"%PDF")
    bad = runner.invoke(args=["invitations", "posters", camp.slug, "-o", str(out), "--point", "x"])
    assert bad.exit_code == 2
    assert "no collection point 'x'; points: jinjiang-chunxi, jinniu-tea, wenjiang-station" in (
        bad.output
    )


@pytest.fixture()
def worked_campaign(app, session):
    return build_worked_campaign(app, session)


def test_funnel_command_prints_stages_and_rates(runner, worked_campaign):
    camp, _ids = worked_campaign
    result = runner.invoke(args=["invitations", "funnel", camp.slug])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("total\tcreated=12 sent=11 delivered=10 bounced=1 opened=7")
    assert lines[0].endswith("RR1=33.3% RR2=50.0%")
    assert "AAPOR dispositions\tI=4 P=2 R=2 NC=0 O=0 UH=3 UO=1" in lines
    assert any(line.startswith("stratum district=锦江区\tcreated=3") for line in lines)
    as_json = runner.invoke(args=["invitations", "funnel", camp.slug, "--json"])
    assert json.loads(as_json.output)["total"]["dispositions"]["UO"] == 1


def test_remind_command_sends_the_reminders_that_are_due(app, runner, session, monkeypatch):
    policy = {"sending": {"reminders": {"max": 1, "interval_hours": 72}}}
    camp, _ids = invited_campaign(session, 2, settings=policy)
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
        assert "no reminders due" in runner.invoke(args=["invitations", "remind", camp.slug]).output
        session.execute(update(Delivery).values(sent_at=utcnow() - timedelta(days=4)))
        session.commit()
        result = runner.invoke(args=["invitations", "remind", camp.slug])
        again = runner.invoke(args=["invitations", "remind", camp.slug])
    assert result.exit_code == 0, result.output
    assert "batch 1/1 (2/2): sent 2" in result.output
    assert "no reminders due" in again.output  # at most one reminder in this campaign
    subjects = sorted(m["Subject"] for m in sink.messages)
    assert [s[:2] for s in subjects] == ["提醒", "提醒", "邀请", "邀请"]


def test_send_command_refuses_a_campaign_whose_templates_cannot_be_sent(runner, session):
    templates = {"invitation": {"sms": {"en": {"text": "{{ link }}"}}}}
    camp, _ = invited_campaign(session, 1, settings={"sending": {"templates": templates}})
    result = runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
    assert result.exit_code == 2
    assert "settings.sending.templates.invitation.sms.en: template en/invitation.sms" in (
        result.output
    )
    assert "has no opt-out link" in result.output


def test_a_send_from_the_cli_is_recorded_as_a_run_and_audited_once(
    app, runner, session, monkeypatch
):
    camp, _ = invited_campaign(session, 2)
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        result = runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
        again = runner.invoke(args=["invitations", "send", camp.slug, "--channel", "email"])
    assert result.exit_code == 0 and again.exit_code == 0, result.output + again.output
    assert len(sink.messages) == 2
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("invitations.send_%"))
    ).all()
    assert [(e.action, e.object_id, e.detail["planned"]) for e in events] == [
        ("invitations.send_invitation", str(camp.id), 2)
    ]
    (run,) = recent_runs(session, camp)
    assert run.id == events[0].detail["job_id"]
