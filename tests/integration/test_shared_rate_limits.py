"""Rate limits shared on Redis (issue 11, point 4): several web workers count one address
together, so a flood spread over them is slowed as a whole, while another address still gets its
answers stored. Each worker is a process of its own, as under gunicorn."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from campaigns.definition import read_campaign_file
from campaigns.models import Campaign
from forms.models import Response
from forms.publishing import load_campaign
from tests.forms.test_api import ANSWERS
from tests.integration.conftest import ROOT

EXAMPLE = ROOT / "examples" / "transport.yaml"
LIMITS = {"RATE_LIMIT_PER_ADDRESS": "6 per minute", "RATE_LIMIT_PER_LINK": "1000 per minute"}

# The other worker: an app of its own in another process, posting `count` submissions from
# `address` through its test client and printing the status codes.
OTHER_WORKER = """
import json, sys
from minsheng.app import create_app
url, address, count, answers = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
client = create_app().test_client()
codes = [
    client.post(
        url,
        json={"answers": answers, "submission_id": f"other-{address}-{n:04d}"},
        environ_base={"REMOTE_ADDR": address},
    ).status_code
    for n in range(count)
]
print(json.dumps(codes))
"""


@pytest.fixture()
def slug(it_engine: Engine) -> Iterator[str]:
    """A campaign of its own (the demo file under a fresh slug), committed; removed after."""
    name = f"shared-limits-{uuid.uuid4().hex[:8]}"
    with Session(it_engine) as session:
        definition = dataclasses.replace(read_campaign_file(str(EXAMPLE)), slug=name)
        campaign, _ = load_campaign(session, definition)
        session.commit()
        campaign_id = campaign.id
    yield name
    with Session(it_engine) as session:
        session.execute(delete(Response).where(Response.campaign_id == campaign_id))
        session.commit()


def _other_worker(settings: dict[str, str], url: str, address: str, count: int) -> list[int]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINSHENG_")}
    env.update({f"MINSHENG_{key}": value for key, value in {**settings, **LIMITS}.items()})
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", OTHER_WORKER, url, address, str(count), json.dumps(ANSWERS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    codes: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return codes


def _stored(engine: Engine, slug: str) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Response)
                .join(Campaign, Campaign.id == Response.campaign_id)
                .where(Campaign.slug == slug)
            )
            or 0
        )


def test_two_workers_share_one_limit_and_a_neighbour_still_gets_through(
    make_app, it_settings, it_engine, slug, tmp_path: Path
):
    url = f"/api/v1/campaigns/{slug}/responses"
    # Addresses of this run only: the counters on Redis outlive the test.
    flooder = f"203.0.113.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"
    neighbour = f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"
    here = make_app(**it_settings, **LIMITS).test_client()

    first = [
        here.post(
            url,
            json={"answers": ANSWERS, "submission_id": f"here-{flooder}-{n:04d}"},
            environ_base={"REMOTE_ADDR": flooder},
        ).status_code
        for n in range(4)
    ]
    there = _other_worker(it_settings, url, flooder, 6)
    again = here.post(
        url,
        json={"answers": ANSWERS, "submission_id": f"here-{flooder}-late"},
        environ_base={"REMOTE_ADDR": flooder},
    )
    neighbour_reply = here.post(
        url,
        json={"answers": ANSWERS, "submission_id": f"here-{neighbour}-0001"},
        environ_base={"REMOTE_ADDR": neighbour},
    )

    # Six per minute for the address, whichever worker answers: four here, two there.
    assert first == [201] * 4
    assert there == [201, 201, 429, 429, 429, 429]
    assert again.status_code == 429
    assert "Retry-After" in again.headers
    assert neighbour_reply.status_code == 201, neighbour_reply.json
    assert _stored(it_engine, slug) == 7
