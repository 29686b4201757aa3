"""The audit chain on PostgreSQL with real commits: concurrent transactions all append (the
advisory lock queues them instead of letting two extend one head), the chain verifies, and the
trigger refuses UPDATE, DELETE and TRUNCATE even in committed work."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from minsheng.audit import AuditEvent, record, verify_chain

THREADS = 8
EVENTS_EACH = 5


def _append(engine: Engine, worker: int, gate: threading.Barrier) -> list[int]:
    with Session(engine) as session:
        gate.wait(timeout=30)
        made = [
            record(session, None, "test.append", "worker", worker, n=n).id
            for n in range(EVENTS_EACH)
        ]
        session.commit()
        return made


def test_concurrent_appends_all_land_in_one_intact_chain(it_engine):
    with Session(it_engine) as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    gate = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(_append, it_engine, w, gate) for w in range(THREADS)]
        made = [future.result(timeout=60) for future in futures]
    assert all(len(ids) == EVENTS_EACH for ids in made)
    with Session(it_engine) as session:
        found = verify_chain(session)
        assert found.intact, found.reason
        assert found.events == before + THREADS * EVENTS_EACH
        # Each transaction's events are consecutive: the lock is held until it commits.
        for ids in made:
            assert ids == list(range(ids[0], ids[0] + EVENTS_EACH))


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(action="nothing"),
        delete(AuditEvent),
        text("TRUNCATE audit_events"),
    ],
    ids=["update", "delete", "truncate"],
)
def test_the_trigger_refuses_changes_to_committed_events(it_engine, statement):
    with Session(it_engine) as session:
        record(session, None, "test.keep", "worker", 0)
        session.commit()
    with Session(it_engine) as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(statement)
        session.commit()
    with Session(it_engine) as session:
        assert verify_chain(session).intact
