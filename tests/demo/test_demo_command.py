"""`minsheng demo`: the demo campaign with synthetic responses, an organizer login and its PDF."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from campaigns.store import get_campaign
from forms.models import Response

ROOT = Path(__file__).resolve().parents[2]


def _printed(output: str) -> tuple[str, str, Path]:
    login = re.search(r"organizer login: (\S+) / (\S+)", output)
    report = re.search(r"PDF report: (.+\.pdf)$", output, re.MULTILINE)
    assert login and report, output
    return login.group(1), login.group(2), Path(report.group(1))


def test_demo_loads_responses_prints_a_working_login_and_renders_the_pdf(
    runner, session, client, app
):
    example = ROOT / "examples" / "transport.yaml"
    result = runner.invoke(args=["demo", "--responses", "150", "--file", str(example)])
    assert result.exit_code == 0, result.output
    assert "campaign transport-2026: 150 responses (150 added now)" in result.output

    campaign = get_campaign(session, "transport-2026")
    stored = session.scalar(
        select(func.count()).select_from(Response).where(Response.campaign_id == campaign.id)
    )
    assert stored == 150

    username, password, pdf = _printed(result.output)
    assert pdf.is_relative_to(Path(app.config["FILE_STORE_DIR"]) / "reports" / "transport-2026")
    assert pdf.read_bytes().startswith(b"%PDF")
    reply = client.post("/login", data={"username": username, "password": password})
    assert reply.status_code == 302


def test_running_the_demo_again_adds_nothing_and_gives_a_new_password(runner, session, client):
    first = runner.invoke(args=["demo", "--responses", "120"])
    second = runner.invoke(args=["demo", "--responses", "120"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "120 responses (0 added now)" in second.output
    assert session.scalar(select(func.count()).select_from(Response)) == 120

    _, old_password, _ = _printed(first.output)
    username, new_password, _ = _printed(second.output)
    assert old_password != new_password
    refused = client.post("/login", data={"username": username, "password": old_password})
    assert refused.status_code != 302
    accepted = client.post("/login", data={"username": username, "password": new_password})
    assert accepted.status_code == 302
