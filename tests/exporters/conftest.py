"""Responses to the demo's transport campaign (the shared `campaign` fixture), a few hundred,
submitted the way the respondent page submits them (`forms.ingest.submit_response`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from forms.ingest import Submission, submit_response
from forms.publishing import current_version

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
DAY_IN_CAMPAIGN = date(2026, 6, 1)

DISTRICTS = ["jinjiang", "qingyang", "jinniu", "wuhou", "chenghua", "longquanyi", "wenjiang"]
MODES = {"metro": 34, "bus": 22, "car": 18, "ebike": 11, "bike": 6, "walk": 6, "taxi": 3}
PROBLEMS = ["congestion", "parking", "bus_frequency", "metro_crowding", "last_mile", "safety"]
SCALE = ["1", "2", "3", "4", "5"]


def random_answers(rng: random.Random) -> dict[str, Any]:
    """One plausible questionnaire, skewed so that the answers differ in frequency."""
    return {
        "district": rng.choice(DISTRICTS),
        "age_group": rng.choices(["a18_29", "a30_44", "a45_59", "a60_plus"], [3, 4, 3, 2])[0],
        "commute_mode": rng.choices(list(MODES), list(MODES.values()))[0],
        "commute_time": rng.choices(["lt15", "m15_30", "m30_60", "gt60"], [2, 4, 3, 1])[0],
        "problems": rng.sample(PROBLEMS, rng.randint(1, 3)),
        "sat_bus": rng.choices(SCALE, [1, 2, 4, 5, 2])[0],
        "sat_metro": rng.choices(SCALE, [1, 1, 3, 6, 4])[0],
        "sat_parking": rng.choices(SCALE, [4, 5, 4, 2, 1])[0],
        "suggestion": rng.choice(["建议增加公交班次。", "地铁站周边增设非机动车停放区。", ""]),
    }


@pytest.fixture()
def add_responses(session, campaign) -> Callable[[int], list[dict[str, Any]]]:
    """`add_responses(n)` submits n responses to the campaign and returns their
    answers."""

    def _add(n: int, seed: int = 7) -> list[dict[str, Any]]:
        rng = random.Random(seed)
        version = current_version(session, campaign)
        submitted = []
        for i in range(n):
            answers = random_answers(rng)
            channel = rng.choices(["web", "qr", "import"], [6, 3, 1])[0]
            submit_response(
                session,
                campaign,
                version,
                answers,
                Submission(submission_id=f"report-test-{seed}-{i:05d}", channel=channel),
                today=DAY_IN_CAMPAIGN,
            )
            submitted.append(answers)
        session.commit()
        return submitted

    return _add


@pytest.fixture()
def other_app(make_app, bind_app, app) -> Iterator[Callable[..., Flask]]:
    """`other_app(SETTING=value)`: an app with other settings on this test's connection.

    Building an app makes its Celery app the current one; the `app` fixture makes the test
    app's current again at the start of every test.
    """
    yield lambda **overrides: bind_app(make_app(**overrides))
