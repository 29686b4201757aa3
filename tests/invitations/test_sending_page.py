"""The organizer's sending page: start the invitation message or the reminders due, and follow
each run's progress, counted from what was actually delivered."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from invitations.models import Delivery
from minsheng.audit import AuditEvent

from .local_servers import smtp_server
from .sending_helpers import invited_campaign


def test_organizer_sends_the_invitations_and_sees_the_run_finish(
    app, client, login, session, monkeypatch
):
    camp, ids = invited_campaign(session, 4)
    login("organizer")
    url = f"/campaigns/{camp.slug}/sending"
    assert "尚未从本页发送过消息" in client.get(url).get_data(as_text=True)
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        reply = client.post(url, data={"kind": "invitation", "channel": "email"})
        assert reply.status_code == 302
        again = client.post(url, data={"kind": "invitation", "channel": "email"})
    assert len(sink.messages) == 4  # the embedded default ran the batches at commit
    assert again.status_code == 200
    assert "没有需要发送的消息" in again.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert '<progress max="100" value="100">' in page
    assert "邀请消息" in page
    states = session.scalars(select(Delivery.state).where(Delivery.invitation_id.in_(ids)))
    assert sorted(states) == ["sent"] * 4
    assert session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "invitations.send_invitation")
    ).all() == ["invitations.send_invitation"]


def test_a_run_in_progress_shows_its_share_and_refreshes(app, client, login, session):
    from invitations.send_runs import plan_send_run, send_progress
    from invitations.tasks import queue_send_run

    camp, ids = invited_campaign(session, 3)
    job = queue_send_run(session, plan_send_run(session, camp, "invitation", "email"))
    assert job is not None
    # Not committed yet, so nothing was queued: one delivery written by hand stands for a worker
    # that has finished one of three.
    session.add(Delivery(invitation_id=ids[0], campaign_id=camp.id, channel="email", state="sent"))
    session.flush()
    progress = send_progress(session, job, camp)
    assert (progress.planned, progress.finished, progress.done) == (3, 1, False)
    assert round(progress.fraction, 3) == 0.333
    session.rollback()


def test_department_users_cannot_send(client, login, session):
    camp, _ = invited_campaign(session, 1)
    login("department")
    assert client.get(f"/campaigns/{camp.slug}/sending").status_code == 403


def test_a_failed_run_shows_why_and_its_organizer_retries_the_failed_batch(
    app, client, login, session, broker, monkeypatch
):
    from datetime import timedelta

    from sqlalchemy import update

    from invitations.send_runs import plan_send_run, run_batches
    from invitations.tasks import queue_send_run, send_batch_task
    from minsheng.db import utcnow
    from minsheng.jobs import Job, reap_jobs

    camp, _ = invited_campaign(session, 3)
    run_job = queue_send_run(
        session, plan_send_run(session, camp, "invitation", "email", batch_size=2)
    )
    session.commit()
    first, second = (args for _, args in broker["sent"])
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        send_batch_task(*first)
        # The second batch's worker died on every attempt: the reaper fails it for good.
        session.execute(
            update(Job)
            .where(Job.id == second[3])
            .values(state="running", attempts=3, lease_until=utcnow() - timedelta(seconds=1))
        )
        assert reap_jobs(session, max_attempts=3, queue_timeout=timedelta(hours=1)).failed == 1
        session.commit()

        login("organizer")
        url = f"/campaigns/{camp.slug}/sending"
        page = client.get(url).get_data(as_text=True)
        assert "1 of 2 batches failed: its worker stopped responding" in page
        assert "一批 1 份邀请发送失败" in page
        assert f"/jobs/{second[3]}/retry" in page
        assert 'http-equiv="refresh"' not in page  # a failed run is finished

        assert client.post(f"/jobs/{second[3]}/retry").headers["Location"].endswith(url)
        (task, again) = broker["sent"][-1]
        assert (task, again) == ("invitations.send_batch", second)
        send_batch_task(*again)
    session.expire_all()
    assert session.get(Job, run_job.id).state == "done"
    assert [b.state for b in run_batches(session, run_job)] == ["done", "done"]
    assert len(sink.messages) == 3
    assert "batches failed" not in client.get(url).get_data(as_text=True)


def test_a_finished_run_that_skipped_someone_who_answered_meanwhile_stops_refreshing(
    app, client, login, session, monkeypatch
):
    from invitations.models import Invitation
    from invitations.send_runs import plan_send_run
    from invitations.tasks import queue_send_run
    from invitations.tokens import mark_completed

    camp, ids = invited_campaign(session, 3)
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        queue_send_run(session, plan_send_run(session, camp, "invitation", "email"))
        # Planned, then answered (through a poster's link) before the batch ran.
        mark_completed(session, session.get(Invitation, ids[0]))
        session.commit()  # the batch runs here and skips the one who answered
    assert len(sink.messages) == 2
    login("organizer")
    page = client.get(f"/campaigns/{camp.slug}/sending").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page


def test_organizer_sends_again_where_a_dead_worker_left_the_outcome_uncertain(
    app, client, login, session, monkeypatch
):
    from sqlalchemy import update

    camp, ids = invited_campaign(session, 3)
    login("organizer")
    url = f"/campaigns/{camp.slug}/sending"
    with smtp_server() as (sink, port):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        assert client.post(url, data={"kind": "invitation", "channel": "email"}).status_code == 302
        # A worker killed between the hand-over and the outcome: the engine cannot know whether
        # these two left, and never sends them again by itself.
        session.execute(
            update(Delivery).where(Delivery.invitation_id.in_(ids[:2])).values(state="uncertain")
        )
        session.commit()
        page = client.get(url).get_data(as_text=True)
        assert "2 人可能没有收到消息" in page
        assert client.post(url, data={"kind": "invitation", "channel": "email"}).status_code == 200
        assert len(sink.messages) == 3  # the invitation run leaves uncertain steps alone
        reply = client.post(url, data={"kind": "uncertain", "channel": "email"})
        assert reply.status_code == 302
        again = client.post(url, data={"kind": "uncertain", "channel": "email"})
    assert len(sink.messages) == 5  # the two uncertain ones once more, nobody else
    per_person = Counter(m["To"] for m in sink.messages)
    assert sorted(per_person.values()) == [1, 2, 2]
    assert "没有需要发送的消息" in again.get_data(as_text=True)
    states = session.scalars(select(Delivery.state).where(Delivery.invitation_id.in_(ids)))
    assert sorted(states) == ["sent"] * 3
    page = client.get(url).get_data(as_text=True)
    assert "可能没有收到消息" not in page
    assert "对可能未送达者重新发送" in page
    assert session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "invitations.send_uncertain")
    ).all() == ["invitations.send_uncertain"]
