"""Careless deployments are refused (issue 11): outside development and tests the app does not
start with the public development SECRET_KEY, a short one, or without a PII_KEY of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contacts.pii import generate_key
from minsheng.app import create_app
from minsheng.config import DEVELOPMENT_SECRET_KEY
from minsheng.errors import InputError

STRONG = "k" * 48
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def production(base_config):
    """The test settings as a production deployment would have them: no TESTING."""
    return {**base_config, "TESTING": False, "SECRET_KEY": STRONG, "PII_KEY": generate_key()}


def refusal(settings) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        create_app(settings)
    return {p.location: p.message for p in caught.value.problems}


def test_the_development_secret_key_stops_startup_naming_the_variable(production):
    problems = refusal({**production, "SECRET_KEY": DEVELOPMENT_SECRET_KEY})
    assert "got the built-in development value" in problems["MINSHENG_SECRET_KEY"]
    assert "at least 32 characters" in problems["MINSHENG_SECRET_KEY"]
    assert "MINSHENG_DEVELOPMENT=true" in problems["MINSHENG_DEVELOPMENT"]


def test_a_short_secret_key_stops_startup(production):
    problems = refusal({**production, "SECRET_KEY": "s3cret-but-short"})
    assert problems["MINSHENG_SECRET_KEY"].startswith("got 16 characters; expected a random")


def test_without_its_own_pii_key_the_app_does_not_start(production):
    problems = refusal({**production, "PII_KEY": ""})
    assert (
        "not set; expected a key of its own, urlsafe base64 of 32" in problems["MINSHENG_PII_KEY"]
    )
    assert "MINSHENG_SECRET_KEY" not in problems


def test_the_current_pii_key_listed_as_a_previous_one_is_refused(production):
    problems = refusal({**production, "PII_PREVIOUS_KEYS": (production["PII_KEY"],)})
    assert problems["MINSHENG_PII_PREVIOUS_KEYS"] == "holds PII_KEY itself; expected former keys"


def test_with_its_own_keys_the_app_starts_and_serves(production, bind_app):
    app = bind_app(create_app(production))
    assert app.test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize("mode", ["DEVELOPMENT", "DEBUG"])
def test_development_and_debug_accept_the_development_keys(production, mode, bind_app):
    settings = {**production, "SECRET_KEY": DEVELOPMENT_SECRET_KEY, "PII_KEY": "", mode: True}
    app = bind_app(create_app(settings))
    assert app.test_client().get("/healthz").status_code == 200


def test_a_malformed_pii_key_in_the_environment_stops_startup_with_the_accepted_form():
    from minsheng.config import load_settings

    with pytest.raises(InputError) as caught:
        load_settings(environ={"MINSHENG_PII_KEY": "not-a-key"})
    (problem,) = caught.value.problems
    assert problem.location == "MINSHENG_PII_KEY"
    assert "got ***; expected urlsafe base64 of 32 random bytes" in problem.message


def test_the_command_line_prints_the_refusal_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "FLASK_"))}
    env["MINSHENG_INSTANCE_PATH"] = str(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "minsheng", "db", "upgrade"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "error: MINSHENG_SECRET_KEY: got the built-in development value" in run.stderr
    assert "error: MINSHENG_PII_KEY: not set" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "minsheng.sqlite").exists()
