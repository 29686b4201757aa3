"""Campaigns with responses, built the way respondents build them: through `submit_response`."""

from __future__ import annotations

import random
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms.ingest import Submission, submit_response
from forms.publishing import current_version

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
TODAY = date(2026, 6, 1)

DISTRICTS = ["jinjiang", "qingyang", "wuhou", "pidu"]
AGES = ["a18_29", "a30_44", "a45_59", "a60_plus"]
MODES = ["metro", "bus", "car", "ebike", "walk"]
PROBLEMS = ["congestion", "parking", "bus_frequency", "metro_crowding", "safety"]
SUGGESTIONS = [
    "建议增加地铁末班车的班次",
    "希望公交站台增加遮阳棚和座椅",
    "小区周边停车位太少，建议建设立体停车场",
    "建议在学校门口设置家长接送临时停车区",
    "人行道被电动车占用，希望加强管理",
]


def random_answers(rng: random.Random) -> dict[str, Any]:
    return {
        "district": rng.choice(DISTRICTS),
        "age_group": rng.choice(AGES),
        "commute_mode": rng.choice(MODES),
        "commute_time": rng.choice(["lt15", "m15_30", "m30_60", "gt60"]),
        "problems": rng.sample(PROBLEMS, rng.randint(1, 3)),
        "sat_bus": str(rng.randint(1, 5)),
        "sat_metro": str(rng.choice([3, 4, 4, 5])),
        "sat_parking": str(rng.randint(1, 3)),
        **({"suggestion": rng.choice(SUGGESTIONS)} if rng.random() < 0.6 else {}),
    }


def add_responses(session, campaign, answers_list, channel="web", **extra):
    version = current_version(session, campaign)
    stored = []
    for answers in answers_list:
        response, _ = submit_response(
            session,
            campaign,
            version,
            answers,
            Submission(
                submission_id=uuid.uuid4().hex,
                channel=channel,
                **extra,
            ),
            today=TODAY,
        )
        stored.append(response)
    session.flush()
    return stored


@pytest.fixture()
def answered(session, campaign):
    """The demo campaign with 120 responses; returns (campaign, list of answer dicts)."""
    rng = random.Random(6)
    answers = [random_answers(rng) for _ in range(120)]
    add_responses(session, campaign, answers)
    session.commit()
    return campaign, answers
