"""Suggestions as respondents write them (two hold a phone number or an e-mail), submitted
through `tests.factories.ResponseFactory`, and a round started with them."""

from __future__ import annotations

import random
from typing import Any

from reviews.assignment import assign_reviews
from reviews.experts import configure_round, review_round, start_review_round
from tests.factories import ResponseFactory

SUGGESTIONS = [
    "建议增加地铁末班车的班次",
    "希望公交站台增加遮阳棚和座椅，联系我13812345678",
    "小区周边停车位太少，建议建设立体停车场",
    "建议在学校门口设置家长接送临时停车区",
    "人行道被电动车占用，希望加强管理，邮箱 zhang.san@example.com",
    "",
]

#: Twelve different suggestions, for assignment.
MANY = [
    "建议增加地铁末班车的班次",
    "公交站台增加遮阳棚和座椅",
    "小区周边建设立体停车场",
    "学校门口设置家长接送临时停车区",
    "加强人行道电动车停放管理",
    "共享单车停放区设在地铁口",
    "老旧小区加装电梯补贴",
    "夜间施工噪音扰民请限制",
    "菜市场周边道路拥堵需疏导",
    "社区食堂方便老人就餐",
    "公园增加无障碍通道",
    "河道垃圾清理要常态化",
]


def answers(rng: random.Random, suggestion: str, district: str | None = None) -> dict[str, Any]:
    return {
        "district": district or rng.choice(["jinjiang", "qingyang", "wuhou"]),
        "age_group": rng.choice(["a18_29", "a30_44"]),
        "commute_mode": rng.choice(["metro", "bus"]),
        "commute_time": "m15_30",
        "problems": ["parking"],
        "sat_bus": str(rng.randint(1, 5)),
        "sat_metro": "4",
        "sat_parking": "2",
        **({"suggestion": suggestion} if suggestion else {}),
    }


def submit_suggestions(session, campaign, texts=SUGGESTIONS, district=None):
    """One response per text (an empty text leaves the question unanswered); returns them."""
    rng = random.Random(3)
    return [
        ResponseFactory(campaign=campaign, answers=answers(rng, text, district)) for text in texts
    ]


def start_round(session, campaign, k=3, cap=None):
    """Start the round with k reviews per suggestion and hand them out; returns the plan."""
    current = review_round(session, campaign)
    configure_round(
        session,
        campaign,
        reviews_per_item=k,
        max_per_expert=cap,
        working_days=current.working_days,
        nomination_quota=current.nomination_quota,
    )
    start_review_round(session, campaign)
    return assign_reviews(session, campaign)
