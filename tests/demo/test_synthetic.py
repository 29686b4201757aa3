"""Synthetic responses: valid for any questionnaire, reproducible by seed, shaped like a real
transport survey, and inserted in bulk."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from campaigns.definition import read_campaign_file
from demo.synthetic import CENTRAL, add_synthetic_responses, synthetic_answers
from forms.models import Response
from forms.publishing import load_campaign_file
from forms.validation import validate_answers
from questionnaire.schema import parse_form

BEIJING = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"

EVERY_TYPE = {
    "settings": {"form_title": "every type", "form_id": "every_type", "default_language": "en"},
    "choices": {
        "region": [{"name": "north", "label": "North"}, {"name": "south", "label": "South"}],
        "town": [
            {"name": "n1", "label": "N1", "region": "north"},
            {"name": "n2", "label": "N2", "region": "north"},
            {"name": "s1", "label": "S1", "region": "south"},
        ],
        "fruit": [{"name": f"f{i}", "label": f"Fruit {i}"} for i in range(6)],
    },
    "survey": [
        {"type": "note", "name": "intro", "label": "Hello"},
        {"type": "select_one region or_other", "name": "region", "required": True},
        {"type": "select_one town", "name": "town", "choice_filter": "region=${region}"},
        {
            "type": "select_multiple fruit",
            "name": "fruits",
            "required": True,
            "parameters": {"min_selections": "2", "max_selections": "3"},
        },
        {"type": "rank fruit", "name": "fruit_rank"},
        {"type": "integer", "name": "household", "parameters": {"min": "1", "max": "9"}},
        {
            "type": "integer",
            "name": "children",
            "required": True,
            "relevant": "${household} > 2",
            "constraint": ". < ${household}",
        },
        {"type": "decimal", "name": "weight", "parameters": {"min": "0.5", "max": "2.5"}},
        {"type": "range", "name": "nps", "parameters": {"start": "0", "end": "10"}},
        {"type": "date", "name": "visited"},
        {"type": "text", "name": "comment", "parameters": {"max_length": "12"}},
        {"type": "acknowledge", "name": "consent", "required": True},
        {"type": "calculate", "name": "calc", "calculation": "1 + 1"},
    ],
}


@pytest.fixture(scope="module")
def transport_form():
    return read_campaign_file(str(EXAMPLE)).form


@pytest.fixture(scope="module")
def transport_rows(transport_form):
    return synthetic_answers(transport_form, 3000, seed=11)


def test_answers_to_the_demo_questionnaire_validate(transport_form, transport_rows):
    for row in transport_rows:
        validate_answers(transport_form, row)
    assert all("district" in row and "sat_parking" in row for row in transport_rows)


def test_answers_to_a_form_with_every_type_validate_and_respect_limits():
    form = parse_form(EVERY_TYPE, "every_type.yaml")
    rows = synthetic_answers(form, 800, seed=3)
    for row in rows:
        validate_answers(form, row)
        assert 2 <= len(row["fruits"]) <= 3
        assert len(row.get("comment", "")) <= 12
        assert "intro" not in row and "calc" not in row
        if "town" in row and row["region"] != "other":
            assert row["town"][0] == row["region"][0], "choice_filter region=${region} ignored"
        if row.get("household", 0) > 2:
            assert row["children"] < row["household"]
        else:
            assert "children" not in row, "answered a question that is not relevant"
    assert any(row["region"] == "other" and row["region_other"] for row in rows)
    assert any("fruit_rank" in row and len(row["fruit_rank"]) == 6 for row in rows)
    assert {type(row["nps"]) for row in rows if "nps" in row} == {int}


def test_the_same_seed_gives_the_same_answers_and_another_seed_does_not(transport_form):
    first = synthetic_answers(transport_form, 200, seed=5)
    assert synthetic_answers(transport_form, 200, seed=5) == first
    assert synthetic_answers(transport_form, 200, seed=6) != first


def test_car_commuters_rate_parking_lower_than_everyone_else(transport_rows):
    by_car = [int(r["sat_parking"]) for r in transport_rows if r["commute_mode"] == "car"]
    others = [int(r["sat_parking"]) for r in transport_rows if r["commute_mode"] != "car"]
    assert mean(by_car) < mean(others) - 0.4


def test_outer_districts_drive_more_and_older_people_take_the_bus_more(transport_rows):
    def share(rows, mode):
        return sum(r["commute_mode"] == mode for r in rows) / len(rows)

    central = [r for r in transport_rows if r["district"] in CENTRAL]
    outer = [r for r in transport_rows if r["district"] not in CENTRAL]
    assert share(outer, "car") > 1.4 * share(central, "car")
    old = [r for r in transport_rows if r["age_group"] == "a60_plus"]
    young = [r for r in transport_rows if r["age_group"] == "a18_29"]
    assert share(old, "bus") > 1.8 * share(young, "bus")


def test_about_a_third_leave_a_chinese_suggestion_naming_a_place_or_line(transport_rows):
    suggestions = [r["suggestion"] for r in transport_rows if "suggestion" in r]
    assert 0.28 < len(suggestions) / len(transport_rows) < 0.39
    assert all("\u4e00" <= s[0] <= "\u9fff" for s in suggestions)
    assert len(set(suggestions)) > 0.5 * len(suggestions)
    assert all(len(s) <= 500 for s in suggestions)


def test_synthetic_responses_are_inserted_with_channels_points_and_past_dates(session):
    campaign, version = load_campaign_file(session, str(EXAMPLE))
    until = date(2026, 6, 30)
    added = add_synthetic_responses(session, campaign, version, 600, seed=2, until=until)
    added += add_synthetic_responses(
        session, campaign, version, 100, seed=2, first_index=600, until=until
    )
    session.commit()

    rows = session.scalars(select(Response).where(Response.campaign_id == campaign.id)).all()
    assert added == len(rows) == 700
    assert len({r.submission_id for r in rows}) == 700
    assert {r.channel for r in rows} == {"web", "qr", "invitation"}
    points = {p.id for p in campaign.collection_points}
    assert all((r.collection_point_id in points) == (r.channel == "qr") for r in rows)
    assert all(r.invitation_id is None for r in rows)
    local_days = [r.submitted_at.astimezone(BEIJING).date() for r in rows]
    assert campaign.starts_on <= min(local_days) and max(local_days) <= until
    assert all(r.started_at < r.submitted_at and r.duration_seconds > 10 for r in rows)
    assert session.scalar(select(func.count()).select_from(Response)) >= 700
