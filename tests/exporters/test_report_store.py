"""Two web nodes: a report rendered by one is downloaded from another that has a different
instance folder but the same file store (a folder both mount, or an S3 bucket on a real
S3-compatible server on 127.0.0.1); a node with a store of its own answers 404, as before."""

from __future__ import annotations

import pytest
from flask_login import FlaskLoginClient

from exporters.reports import produce_report, request_report
from minsheng.accounts.users import create_user
from minsheng.db import get_session
from tests.factories import PASSWORD


@pytest.fixture(params=["local", "s3"])
def shared_store(request, tmp_path) -> dict[str, str]:
    if request.param == "local":
        return {"FILE_STORE": "local", "FILE_STORE_DIR": str(tmp_path / "shared")}
    return request.getfixturevalue("s3_settings")


def _client(app, user):
    app.test_client_class = FlaskLoginClient
    return app.test_client(user=user)


def test_a_second_node_with_another_instance_folder_serves_the_report(
    other_app, session, campaign, add_responses, tmp_path, shared_store
):
    add_responses(20)
    organizer = create_user(session, "organizer-nodes", PASSWORD, "organizer")
    expert = create_user(session, "expert-nodes", PASSWORD, "expert")
    session.commit()
    node_b = other_app(INSTANCE_PATH=str(tmp_path / "b"), **shared_store)
    alone = other_app(INSTANCE_PATH=str(tmp_path / "c"))
    node_a = other_app(INSTANCE_PATH=str(tmp_path / "a"), **shared_store)
    with node_a.app_context():
        worker_session = get_session()
        report = request_report(worker_session, worker_session.merge(campaign))
        worker_session.commit()
        key = produce_report(worker_session, report)
        worker_session.commit()
        report_id = report.id
    assert key == f"reports/transport-2026/{report_id}.pdf"
    assert not (tmp_path / "b").joinpath("files").exists()

    with (
        _client(node_b, organizer) as client,
        client.get(f"/campaigns/transport-2026/reports/{report_id}/download") as got,
    ):
        assert got.status_code == 200
        assert got.mimetype == "application/pdf"
        assert got.headers["Content-Disposition"] == (
            f"attachment; filename=transport-2026-report-{report_id}.pdf"
        )
        body = got.get_data()
        assert body.startswith(b"%PDF") and int(got.headers["Content-Length"]) == len(body)
    with _client(node_b, expert) as client:
        assert (
            client.get(f"/campaigns/transport-2026/reports/{report_id}/download").status_code == 403
        )
    with (
        _client(alone, organizer) as client,
        client.get(f"/campaigns/transport-2026/reports/{report_id}/download") as got,
    ):
        assert got.status_code == 404
