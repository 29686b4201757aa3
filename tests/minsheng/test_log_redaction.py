"""Logs other than the access log (issue 11, point 2): an exception on an invitation or resume
page, the development server's request lines and gunicorn's error log never carry the invitation
token, signed reference or resume code of the request; the route and the secret's name stay."""

from __future__ import annotations

import io
import logging
import re
import urllib.request
from urllib.error import HTTPError

import pytest
from flask import request

from forms import respondent
from tests.e2e.browser import serving

TOKEN = "Tok3nOfAnInvitation-x9"
CODE = "R3SUM-EC0DE"
REF = "S1gnedOptOutRef.abc"


@pytest.fixture()
def unpropagated(app, monkeypatch):
    """The app answering an exception with a 500 and a log record, as in production (tests
    otherwise let the exception reach the test)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    return app


def secrets_in(caplog) -> list[str]:
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    return [secret for secret in (TOKEN, CODE, REF) if secret in text]


def test_an_exception_on_an_invitation_link_is_logged_without_its_token(
    unpropagated, client, caplog, monkeypatch
):
    def fails(session, token):
        # What a database error quoting its parameters looks like.
        raise RuntimeError(f"no invitation for {token!r}; resume code {request.args['code']}")

    monkeypatch.setattr(respondent, "invitation_link", fails)
    with caplog.at_level(logging.ERROR, logger="minsheng"):
        response = client.get(f"/i/{TOKEN}?code={CODE}&lang=en")
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == "Exception on /i/<token> [GET]"
    assert "RuntimeError: no invitation for '<token>'; resume code <code>" in caplog.text
    assert "Traceback" in caplog.text  # the traceback is kept, only the secrets go
    assert secrets_in(caplog) == []


def test_a_resume_code_posted_in_the_form_is_not_in_the_exception_log(
    unpropagated, client, caplog, monkeypatch, campaign
):
    def fails(session, slug):
        raise RuntimeError(f"draft {request.form['code']} of {slug} is locked")

    monkeypatch.setattr(respondent, "resume_page", fails)
    with caplog.at_level(logging.ERROR, logger="minsheng"):
        response = client.post(f"/s/{campaign.slug}/resume", data={"code": CODE})
    assert response.status_code == 500
    assert f"RuntimeError: draft <code> of {campaign.slug} is locked" in caplog.text
    assert secrets_in(caplog) == []


def test_the_development_server_logs_routes_not_tokens_or_codes(make_app, caplog):
    app = make_app()
    paths = [f"/i/{TOKEN}?code={CODE}", f"/o/{REF}", f"/t/{REF}.gif", f"/s/x/resume?code={CODE}"]
    with caplog.at_level(logging.INFO, logger="werkzeug"), serving(app) as base:
        for path in paths:
            try:
                urllib.request.urlopen(base + path, timeout=10).close()
            except HTTPError as refused:
                refused.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    logged = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))  # the colours of a terminal
    assert '"GET /i/<token>?code=<code> HTTP/1.1" 404' in logged
    assert '"GET /o/<ref> HTTP/1.1"' in logged and '"GET /t/<ref>.gif HTTP/1.1"' in logged
    assert '"GET /s/x/resume?code=<code> HTTP/1.1" 404' in logged
    assert secrets_in(caplog) == [], logged


def test_gunicorn_error_log_lines_show_routes_not_tokens(app, caplog):
    with caplog.at_level(logging.ERROR, logger="gunicorn.error"):
        logging.getLogger("gunicorn.error").error(
            "Error handling request %s", f"/i/{TOKEN}?lang=en&code={CODE}"
        )
    assert caplog.records[-1].getMessage() == (
        "Error handling request /i/<token>?lang=en&code=<code>"
    )
    assert secrets_in(caplog) == []


def test_the_handlers_a_celery_worker_sets_up_get_the_redaction(app):
    """A worker replaces the root logger's handlers at start and tells so by Celery's
    `after_setup_logger` signal (`after_setup_task_logger` for the task logger)."""
    from celery.signals import after_setup_logger, after_setup_task_logger

    for signal in (after_setup_logger, after_setup_task_logger):
        stream = io.StringIO()
        logger = logging.getLogger(f"test.worker.{signal.name}")
        logger.propagate = False
        logger.handlers = [logging.StreamHandler(stream)]
        signal.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="")
        logger.error("task failed: %s", f"SMTP refused https://minsheng.example/i/{TOKEN}")
        assert stream.getvalue() == "task failed: SMTP refused https://minsheng.example/i/<token>\n"
