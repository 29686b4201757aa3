"""The SQLAlchemy `Base`, the engine and the per-request session.

Domain functions take a `Session` argument; views get theirs from `get_session()` and commit once.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from minsheng.text import json_loads

if TYPE_CHECKING:
    from flask import Flask

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The zone the app tells days and times in: Babel's default, Celery beat's clock, working-day
#: deadlines; a campaign file may name its own for its reports and exports (`Campaign.timezone`).
LOCAL_TIMEZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    """Timezone-aware now; used as a callable column default, never evaluated at import."""
    return datetime.now(UTC)


def local_date(moment: datetime, zone: str = LOCAL_TIMEZONE) -> date:
    """The calendar day of a stored (UTC) moment in ``zone``: 07:30 on 1 March in Beijing is
    still 28 February in UTC (issue 12). A naive moment is taken as UTC, as SQLite returns an
    aggregate such as ``min(submitted_at)``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).date()


def local_time_text(moment: datetime | None, zone: str = LOCAL_TIMEZONE) -> str:
    """A stored (UTC) moment as people of ``zone`` read it on a page, ``2026-03-01 07:30``
    (the `localtime` template filter, given a campaign: in the campaign's zone)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware datetime (UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class JSONObject(TypeDecorator[dict[str, Any]]):
    """A JSON column that holds an object: a value that is not one (an array, a number, text,
    written straight into the database) is read as an empty object, so no reader of answers,
    drafts or results meets a list where it expects a mapping (issue 11)."""

    impl = JSON()
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        return {}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names follow `NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONObject(),
        list[Any]: JSON(),
    }


def make_engine(url: str) -> Engine:
    """Engine for `url`; SQLite gets WAL and foreign keys so the demo behaves like production."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_deserializer=json_loads)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN
            # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, json_deserializer=json_loads)
    _ping_idle_connections(engine)
    return engine


# A pooled connection is checked before it is handed out, so one dropped by a database restart or
# a firewall is replaced before a request uses it, without `pool_pre_ping`'s round trip on every
# checkout (issue 10, point 7). A restarting server tells each client ("terminating connection due
# to administrator command") and closes the socket, so a socket with something to read is dead
# and is pinged (which fails) whatever its age; a firewall drops silently, so one idle longer
# than this is pinged too. A connection that breaks while in use is still noticed by SQLAlchemy,
# which then replaces every connection of the pool.
PING_IDLE_SECONDS = 10.0


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's documented pessimistic disconnect handling, limited to connections that may
    be dead: a `DisconnectionError` raised at checkout makes the pool discard it and connect
    again."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in")
        if since is None:
            return  # connected just now
        if time.monotonic() - since <= PING_IDLE_SECONDS and not _server_has_spoken(dbapi_conn):
            return  # in use a moment ago, and the server has not said goodbye since
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection no longer answers") from exc


def _server_has_spoken(dbapi_conn: Any) -> bool:
    """True when the server wrote to or closed an idle connection's socket: between
    transactions it says nothing unless it is going away. A system call, not a round trip; a
    driver without `fileno()` relies on the idle rule alone."""
    fileno = getattr(dbapi_conn, "fileno", None)
    if fileno is None:
        return False
    try:
        poller = select.poll()
        poller.register(fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # a closed connection has no socket left to poll: let the ping decide
        return True


class Database:
    """The app's engine and session factory (`app.extensions["minsheng.db"]`).

    Tests replace `session_factory` with one bound to a connection in an outer transaction, so each
    test runs in a savepoint that is rolled back.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.session_factory: Callable[[], Session] = sessionmaker(
            self.engine, expire_on_commit=False
        )


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"])
    app.extensions["minsheng.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        from flask import g

        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_database(app: Flask | None = None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["minsheng.db"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The session of the current app context (request, task or command), created on first use."""
    from flask import g

    session: Session | None = g.get("db_session")
    if session is None:
        session = get_database().session_factory()
        g.db_session = session
    return session
