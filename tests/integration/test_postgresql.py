"""The schema and the ingest promises on PostgreSQL, with real commits and concurrent sessions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.ingest import Submission, submit_response
from forms.models import QuestionnaireVersion, Response
from forms.publishing import load_campaign_file
from minsheng.dbtool import check, heads, upgrade
from tests.integration.conftest import fresh_database

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transport.yaml"
DURING_CAMPAIGN = date(2026, 6, 1)
ANSWERS = {
    "district": "wuhou",
    "age_group": "a30_44",
    "commute_mode": "metro",
    "commute_time": "m30_60",
    "problems": ["metro_crowding", "last_mile"],
    "sat_bus": "3",
    "sat_metro": "2",
    "sat_parking": "3",
    "suggestion": "建议地铁7号线早高峰加密班次。",
}


def test_migrations_build_the_whole_schema_on_postgresql(server_url):
    with fresh_database(server_url) as url:
        engine = create_engine(url)
        try:
            assert inspect(engine).get_table_names() == []
            upgrade(url)
            tables = set(inspect(engine).get_table_names())
            with engine.connect() as conn:
                version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        finally:
            engine.dispose()
        assert {"campaigns", "questionnaire_versions", "responses", "users", "jobs"} <= tables
        assert [version] == heads()
        check(url)  # raises when the models and the migrated schema differ


@pytest.fixture()
def campaign(it_engine: Engine) -> Iterator[tuple[int, int]]:
    """The demo campaign loaded and committed; its rows are deleted afterwards."""
    with Session(it_engine) as session:
        loaded, version = load_campaign_file(session, str(EXAMPLE))
        session.commit()
        ids = (loaded.id, version.id)
    yield ids
    with Session(it_engine) as session:
        session.execute(delete(Response).where(Response.campaign_id == ids[0]))
        session.commit()


def _submit(engine: Engine, ids: tuple[int, int], submission_id: str, gate: threading.Barrier):
    with Session(engine) as session:
        campaign = session.get_one(Campaign, ids[0])
        version = session.get_one(QuestionnaireVersion, ids[1])
        gate.wait(timeout=30)
        response, created = submit_response(
            session, campaign, version, ANSWERS, Submission(submission_id), today=DURING_CAMPAIGN
        )
        session.commit()
        return response.id, created


def test_concurrent_submits_of_one_submission_store_one_response(it_engine, campaign):
    threads = 8
    submission_id = uuid.uuid4().hex
    gate = threading.Barrier(threads)
    with ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(_submit, it_engine, campaign, submission_id, gate) for _ in range(threads)
        ]
        results = [future.result(timeout=60) for future in futures]

    assert len({response_id for response_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with Session(it_engine) as session:
        stored = session.scalar(
            select(func.count()).where(
                Response.campaign_id == campaign[0], Response.submission_id == submission_id
            )
        )
    assert stored == 1


def test_concurrent_submits_of_different_submissions_are_all_stored(it_engine, campaign):
    threads = 6
    gate = threading.Barrier(threads)
    with ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(_submit, it_engine, campaign, uuid.uuid4().hex, gate)
            for _ in range(threads)
        ]
        results = [future.result(timeout=60) for future in futures]

    assert all(created for _, created in results)
    with Session(it_engine) as session:
        stored = session.scalar(
            select(func.count()).select_from(Response).where(Response.campaign_id == campaign[0])
        )
    assert stored == threads


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(it_database_url, monkeypatch):
    from minsheng import db

    engine = db.make_engine(it_database_url)
    try:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        # The pooled connection is dropped by the server (a restart, a firewall) while idle.
        killer = create_engine(it_database_url)
        with killer.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        killer.dispose()
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


def test_a_connection_the_server_closed_a_moment_ago_is_replaced_before_use(it_database_url):
    from minsheng import db

    engine = db.make_engine(it_database_url)
    try:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        # What a restarting server does to every client: tell it and close the connection.
        killer = create_engine(it_database_url)
        with killer.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)}, 5000)")
        killer.dispose()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(it_database_url, monkeypatch):
    from minsheng import db

    engine = db.make_engine(it_database_url)
    pings = []
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or original(c))
    try:
        for _ in range(3):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 2").scalar() == 2
        assert pings == []
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 3")
        assert len(pings) == 1
    finally:
        engine.dispose()
