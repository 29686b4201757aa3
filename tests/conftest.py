"""Shared fixtures: one migrated database per run, each test inside a rolled-back savepoint.

The database is SQLite in a temporary folder unless `MINSHENG_TEST_DATABASE_URL` names another
(CI runs the suite again on PostgreSQL). The schema is built by `alembic upgrade head`, never by
`create_all`, so the migrations are tested on every run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, create_engine
from sqlalchemy.orm import Session

from minsheng.app import create_app
from minsheng.db import get_database, make_engine
from minsheng.dbtool import upgrade
from minsheng.i18n import compile_catalogs
from minsheng.jobs import get_celery
from minsheng.throttle import limiter

# Fuzzing in every run, bounded: a few hundred examples per property keep all the property tests
# under a minute on one core; `--hypothesis-profile=long` digs deeper by hand.
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
settings.register_profile("long", parent=settings.get_profile("ci"), max_examples=5000)
settings.load_profile("ci")

HERE = Path(__file__).parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`integration/` and `e2e/` tests get their marker from their folder."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(HERE).parts
        if parts[0] in ("integration", "e2e"):
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("MINSHENG_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    else:
        _reset_postgres(url)
    upgrade(url)
    compile_catalogs()
    yield url


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def base_config(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        "BROKER_URL": "",
    }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's, in a thread) on 127.0.0.1 for this run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def s3_settings(s3_endpoint: str) -> dict[str, str]:
    """File store settings for a new, empty bucket on the test S3 server."""
    from minsheng.files import S3Store

    settings = {
        "FILE_STORE": "s3",
        "S3_BUCKET": f"minsheng-{uuid.uuid4().hex[:12]}",
        "S3_PREFIX": "instance-a/",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test-access-key",
        "S3_SECRET_ACCESS_KEY": "test-secret-key",
    }
    store = S3Store(
        settings["S3_BUCKET"],
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="test-access-key",
        secret_access_key="test-secret-key",
    )
    store.client.create_bucket(Bucket=settings["S3_BUCKET"])
    return settings


@pytest.fixture(scope="session")
def make_app(base_config: dict[str, Any]) -> Callable[..., Flask]:
    """Build an app with extra settings (e.g. CSRF on) over the test defaults."""

    def _make(**overrides: Any) -> Flask:
        built = create_app({**base_config, **overrides})
        _BUILT.append(built)
        return built

    return _make


# Apps built by `make_app` during one test, besides the shared test app: their engines are
# disposed when the test ends, or their pooled connections would be collected (and warn) during a
# later, unrelated test.
_BUILT: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_built_apps() -> Iterator[None]:
    yield
    while _BUILT:
        get_database(_BUILT.pop()).engine.dispose()


@pytest.fixture(scope="session")
def _session_app(make_app: Callable[..., Flask]) -> Flask:
    shared = make_app()
    _BUILT.remove(shared)
    return shared


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Any]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Any) -> Iterator[Connection]:
    """A connection in an outer transaction that is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


def _bind(app: Flask, connection: Connection) -> Callable[[], Session]:
    def factory() -> Session:
        return Session(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )

    get_database(app).session_factory = factory
    return factory


@pytest.fixture()
def app(_session_app: Flask, connection: Connection) -> Iterator[Flask]:
    _bind(_session_app, connection)
    with _session_app.app_context():
        # Every test starts with no request counted, as the database starts with no row.
        limiter.reset()
        # Building any other app (a settings test, a CLI run) makes its Celery app the current
        # one, and shared tasks run under the current one: each test starts under the test app's,
        # eager, whatever an earlier test left behind.
        celery = get_celery(_session_app)
        celery.set_current()
        celery.set_default()
        celery.conf.task_always_eager = True
        yield _session_app


@pytest.fixture()
def bind_app(connection: Connection) -> Callable[[Flask], Flask]:
    """Point another app (from `make_app`) at this test's rolled-back connection."""

    def _bind_other(other: Flask) -> Flask:
        _bind(other, connection)
        return other

    return _bind_other


@pytest.fixture()
def broker(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A worker setup (not eager) whose broker can be taken down: every send is recorded in
    `sent` as (task name, args) instead of running, and refused while `up` is False."""
    from celery.canvas import Signature
    from kombu.exceptions import OperationalError as BrokerDown

    from minsheng.jobs import get_celery

    conf = get_celery(app).conf
    conf.task_always_eager = False
    state: dict[str, Any] = {"up": True, "sent": []}

    def apply_async(signature: Signature[Any], *args: Any, **kwargs: Any) -> None:
        if not state["up"]:
            raise BrokerDown("connection refused")
        state["sent"].append((signature.task, tuple(signature.args)))

    monkeypatch.setattr(Signature, "apply_async", apply_async)
    yield state
    conf.task_always_eager = True


@pytest.fixture()
def session(app: Flask) -> Iterator[Session]:
    from minsheng.db import get_session

    yield get_session()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture()
def instance_folder(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshots and other instance files go to a folder of this test: ids are reused between
    rolled-back tests, so a snapshot left by one would answer for another."""
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(tmp_path))
    return tmp_path


@pytest.fixture()
def campaign(request: pytest.FixtureRequest, session: Session, instance_folder: Path) -> Any:
    """The demo campaign (`examples/transport.yaml`) loaded with its questionnaire and
    committed; a test or module marked `@pytest.mark.campaign_file(path)` gets that file's."""
    from tests.factories import CampaignFactory

    marker = request.node.get_closest_marker("campaign_file")
    loaded = CampaignFactory(file=marker.args[0]) if marker else CampaignFactory()
    session.commit()
    return loaded


@pytest.fixture()
def login(client: FlaskClient, session: Session) -> Callable[..., Any]:
    """`login("organizer")` creates a user with that role and logs the test client in."""
    from minsheng.accounts.users import get_or_create_department
    from tests.factories import PASSWORD, UserFactory

    def _login(role: str = "organizer", department_code: str | None = None) -> Any:
        dept = None
        if role == "department":
            code = department_code or "dept"
            dept = get_or_create_department(session, code, code)
        user = UserFactory(role=role, department=dept)
        session.commit()
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return user

    return _login
