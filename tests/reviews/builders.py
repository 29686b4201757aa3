"""Campaigns with suggestions and experts, built the way users build them: the campaign file is
loaded, respondents submit through `submit_response`, accounts come from `create_user`."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from forms.ingest import Submission, submit_response
from forms.publishing import current_version, load_campaign_file
from minsheng.accounts.users import create_user

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
DAY_IN_CAMPAIGN = date(2026, 6, 1)
SUGGESTIONS = [
    "建议增加地铁末班车的班次",
    "希望公交站台增加遮阳棚和座椅，联系我13812345678",
    "小区周边停车位太少，建议建设立体停车场",
    "建议在学校门口设置家长接送临时停车区",
    "人行道被电动车占用，希望加强管理，邮箱 zhang.san@example.com",
    "",
]
_names = itertools.count(1)


def load_transport(session):
    campaign, _ = load_campaign_file(session, str(EXAMPLE))
    session.flush()
    return campaign


def answers(rng: random.Random, suggestion: str) -> dict[str, Any]:
    return {
        "district": rng.choice(["jinjiang", "qingyang", "wuhou"]),
        "age_group": rng.choice(["a18_29", "a30_44"]),
        "commute_mode": rng.choice(["metro", "bus"]),
        "commute_time": "m15_30",
        "problems": ["parking"],
        "sat_bus": str(rng.randint(1, 5)),
        "sat_metro": "4",
        "sat_parking": "2",
        **({"suggestion": suggestion} if suggestion else {}),
    }


def submit_suggestions(session, campaign, texts=SUGGESTIONS):
    """One response per text (an empty text leaves the question unanswered); returns them."""
    rng = random.Random(3)
    version = current_version(session, campaign)
    responses = []
    for text in texts:
        response, _ = submit_response(
            session,
            campaign,
            version,
            answers(rng, text),
            Submission(submission_id=uuid.uuid4().hex),
            today=DAY_IN_CAMPAIGN,
        )
        responses.append(response)
    session.flush()
    return responses


def make_user(session, role: str, **extra: Any):
    return create_user(session, f"{role}-{next(_names)}", "password123", role, **extra)
