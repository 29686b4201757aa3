"""The docker compose stack and its image, checked statically against the settings the app reads
(no Docker engine runs where the tests do)."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from minsheng.config import SETTINGS
from minsheng.jobs import QUEUES

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
APP_SERVICES = ("web", "worker", "beat")
DECLARED = {setting.env for setting in SETTINGS}
VARIABLE = re.compile(r"\b(MINSHENG_[A-Z0-9_]+)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_has_web_worker_beat_postgres_and_redis(compose):
    assert {*APP_SERVICES, "postgres", "redis"} <= set(compose["services"])


def test_app_services_are_configured_only_by_declared_minsheng_variables(compose):
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment, f"service {name} sets no environment"
        undeclared = sorted(set(environment) - DECLARED)
        assert not undeclared, f"service {name} sets undeclared variables: {undeclared}"


def test_every_minsheng_variable_mentioned_in_docker_files_is_declared():
    for path in (DOCKER / "compose.yaml", DOCKER / ".env.example", DOCKER / "Dockerfile"):
        used = set(VARIABLE.findall(path.read_text(encoding="utf-8")))
        assert used, f"{path.name} mentions no MINSHENG_* variable"
        undeclared = sorted(used - DECLARED)
        assert not undeclared, f"{path.name} uses undeclared variables: {undeclared}"


def test_env_example_lists_the_secrets_the_stack_needs(compose):
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    listed = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    required = set(re.findall(r"\$\{(\w+):\?", (DOCKER / "compose.yaml").read_text()))
    assert required, "compose requires no variable; the secret key must be required"
    assert required <= listed


def test_web_runs_gunicorn_on_the_wsgi_module_and_the_worker_consumes_every_queue(compose):
    web = compose["services"]["web"]["command"]
    assert "gunicorn -c python:minsheng.gunicorn_config " in web and "minsheng.wsgi:app" in web
    assert "minsheng db upgrade" in web
    source = (Path(__file__).resolve().parents[2] / "minsheng" / "wsgi.py").read_text()
    assert re.search(r"^app = create_app\(\)$", source, re.MULTILINE)

    worker = compose["services"]["worker"]["command"].split()
    assert worker[:4] == ["celery", "-A", "minsheng.worker", "worker"]
    queues = worker[worker.index("-Q") + 1].split(",")
    assert sorted(queues) == sorted(QUEUES)
    assert compose["services"]["beat"]["command"].split()[:4] == [
        "celery", "-A", "minsheng.worker", "beat",
    ]  # fmt: skip


def test_image_has_cjk_fonts_weasyprint_libraries_and_a_non_root_user():
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "FROM python:3.11-slim-bookworm" in dockerfile
    for package in ("fonts-noto-cjk", "libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"):
        assert package in dockerfile
    # `minsheng backup` runs pg_dump, which must not be older than the compose database.
    server = re.search(r"image: postgres:(\d+)", (DOCKER / "compose.yaml").read_text())
    assert server and f"postgresql-client-{server.group(1)}" in dockerfile
    assert "i18n compile" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_compose_requires_both_keys_and_never_turns_development_on(compose):
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"MINSHENG_SECRET_KEY", "MINSHENG_PII_KEY"} <= required
    for name in APP_SERVICES:
        assert "MINSHENG_DEVELOPMENT" not in compose["services"][name]["environment"]
    # The image's own environment (the build may set it for one command, never for the image).
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env_lines = [line for line in dockerfile.splitlines() if line.startswith("ENV ")]
    assert env_lines and not any("MINSHENG_DEVELOPMENT" in line for line in env_lines)


def test_the_image_and_compose_serve_with_the_gunicorn_config_and_it_preloads_and_recycles(compose):
    # Both ways the image starts the web server (the compose command and the image's own CMD)
    # load minsheng/gunicorn_config.py, and that file keeps the settings a quick restart needs.
    cmd = re.search(r"^CMD (\[.*\])$", (DOCKER / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd, "the Dockerfile has no one-line CMD"
    image = " ".join(json.loads(cmd.group(1)))
    for command in (compose["services"]["web"]["command"], image):
        assert "gunicorn -c python:minsheng.gunicorn_config " in command, command
        assert "--bind" not in command and "--access-logfile" not in command, command
    config = runpy.run_path(str(ROOT / "minsheng" / "gunicorn_config.py"))
    assert config["preload_app"] is True and config["bind"] == "0.0.0.0:8000"
    assert config["max_requests"] > 0 and 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["accesslog"] == "-" and "%(f)s" not in config["access_log_format"]
