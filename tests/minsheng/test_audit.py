"""The audit log's hash chain: `minsheng audit verify` passes an intact chain and names the first
broken link of a changed, removed or forged event; the database refuses UPDATE and DELETE on it
(on SQLite as on PostgreSQL, where the whole suite runs again)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from minsheng.audit import GENESIS, AuditEvent, event_hash, record, verify_chain


@pytest.fixture()
def events(session):
    """Five events on top of whatever the database holds, committed to the test's savepoint."""
    made = [
        record(session, None, "campaign.create", "campaign", i, slug=f"c{i}", tags=("a", "b"))
        for i in range(5)
    ]
    session.commit()
    return made


def _without_triggers(connection) -> None:
    """Drop the append-only triggers inside the test's rolled-back transaction, as someone with
    the database owner's rights could, to change a row behind the application's back."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER audit_events_append_only ON audit_events")
    else:
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")


def test_events_link_to_the_one_before_and_the_chain_verifies(runner, session, events):
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash
    # Stored as the database gives it back: the tuple is a list, and the hash covers that.
    session.expire_all()
    assert session.get(AuditEvent, events[0].id).detail == {"slug": "c0", "tags": ["a", "b"]}
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    total = session.scalar(select(func.count()).select_from(AuditEvent))
    assert f"audit chain intact: {total} events, head #{events[-1].id} {events[-1].hash}" in (
        result.output
    )


def test_an_empty_log_is_an_intact_chain(session):
    found = verify_chain(session)
    assert (found.intact, found.events, found.head_hash) == (True, 0, GENESIS)


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_the_database_refuses_to_change_or_remove_an_event(session, connection, events, operation):
    statement = (
        update(AuditEvent).where(AuditEvent.id == events[1].id).values(action="nothing")
        if operation == "update"
        else delete(AuditEvent).where(AuditEvent.id == events[1].id)
    )
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        connection.execute(statement)
    savepoint.rollback()


def test_a_changed_event_is_the_first_broken_link(runner, session, connection, events):
    _without_triggers(connection)
    connection.execute(
        update(AuditEvent).where(AuditEvent.id == events[2].id).values(object_id="999")
    )
    session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit chain broken at event #{events[2].id}" in result.output
    assert "the event was changed" in result.output


def test_a_removed_event_breaks_the_link_of_the_next(runner, session, connection, events):
    _without_triggers(connection)
    connection.execute(delete(AuditEvent).where(AuditEvent.id == events[1].id))
    session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit chain broken at event #{events[2].id}" in result.output
    assert "removed or changed" in result.output


def test_a_rehashed_forgery_still_breaks_the_chain_after_it(session, connection, events):
    # Someone changes an event and recomputes its own hash: the next event's link gives it away.
    _without_triggers(connection)
    forged = events[2]
    changed_at = forged.at - timedelta(days=1)
    fields = {
        "at": changed_at,
        "actor_id": forged.actor_id,
        "action": forged.action,
        "object_type": forged.object_type,
        "object_id": forged.object_id,
        "detail": forged.detail,
        "prev_hash": forged.prev_hash,
    }
    connection.execute(
        update(AuditEvent)
        .where(AuditEvent.id == forged.id)
        .values(at=changed_at, hash=event_hash(**fields))
    )
    session.expire_all()
    found = verify_chain(session)
    assert found.broken_at == events[3].id
    assert found.head_id == forged.id


def test_two_events_can_not_extend_the_same_head(session, connection, events):
    head = events[-1]
    fields = {
        "at": head.at,
        "actor_id": None,
        "action": "forged",
        "object_type": "campaign",
        "object_id": "1",
        "detail": {},
        "prev_hash": head.prev_hash,
    }
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError):
        connection.execute(
            AuditEvent.__table__.insert().values(**fields, hash=event_hash(**fields))
        )
    savepoint.rollback()


def test_an_earlier_head_must_still_be_in_the_chain(runner, session, connection, events):
    earlier = events[2].hash
    result = runner.invoke(args=["audit", "verify", "--earlier-head", earlier])
    assert result.exit_code == 0, result.output
    # Cut the chain after event 1 and append anew: intact again, but the earlier head is gone.
    _without_triggers(connection)
    connection.execute(delete(AuditEvent).where(AuditEvent.id > events[1].id))
    session.expire_all()
    record(session, None, "campaign.create", "campaign", 99)
    session.commit()
    assert verify_chain(session).intact
    result = runner.invoke(args=["audit", "verify", "--earlier-head", earlier])
    assert result.exit_code == 1
    assert f"holds no event with the earlier head {earlier}" in result.output
