"""Suggestions as respondents write them (two hold a phone number or an e-mail), submitted
through `tests.factories.ResponseFactory`."""

from __future__ import annotations

import random
from typing import Any

from tests.factories import ResponseFactory

SUGGESTIONS = [
    "建议增加地铁末班车的班次",
    "希望公交站台增加遮阳棚和座椅，联系我13812345678",
    "小区周边停车位太少，建议建设立体停车场",
    "建议在学校门口设置家长接送临时停车区",
    "人行道被电动车占用，希望加强管理，邮箱 zhang.san@example.com",
    "",
]


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
    return [ResponseFactory(campaign=campaign, answers=answers(rng, text)) for text in texts]
