"""Loading and dumping campaign files through the CLI."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select

from campaigns.models import Campaign
from forms.models import QuestionnaireVersion

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"


def test_load_then_dump_round_trips_the_example_campaign(runner, session, tmp_path):
    result = runner.invoke(args=["campaign", "load", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "loaded transport-2026 (questionnaire version 1)" in result.output

    dumped = tmp_path / "dumped.yaml"
    result = runner.invoke(args=["campaign", "dump", "transport-2026", "-o", str(dumped)])
    assert result.exit_code == 0, result.output
    original = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    again = yaml.safe_load(dumped.read_text(encoding="utf-8"))
    assert again["title"] == original["title"]
    assert again["questionnaire"]["choices"] == original["questionnaire"]["choices"]
    assert [q["name"] for q in again["questionnaire"]["survey"]] == [
        q["name"] for q in original["questionnaire"]["survey"]
    ]

    # Loading the dump changes nothing: same campaign, same questionnaire version.
    result = runner.invoke(args=["campaign", "load", str(dumped)])
    assert result.exit_code == 0, result.output
    assert "questionnaire version 1" in result.output
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    assert session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1


def test_file_with_mistakes_names_file_question_and_field_and_writes_nothing(
    runner, session, tmp_path
):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    survey = data["questionnaire"]["survey"]
    first_page = survey[0]["questions"]
    first_page[0]["type"] = "radio"
    first_page[1]["name"] = "district"
    survey[1]["questions"][0]["type"] = "select_one"
    data["ends_on"] = "2026-13-01"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    result = runner.invoke(args=["campaign", "load", str(bad)])

    assert result.exit_code == 2
    assert "bad.yaml: question `district`: unknown type 'radio'" in result.output
    assert "bad.yaml: question `district`: duplicate name 'district'" in result.output
    assert "bad.yaml: question `commute_mode`: type select_one needs choices" in result.output
    assert "bad.yaml: ends_on: got '2026-13-01'; expected a date as YYYY-MM-DD" in result.output
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_invalid_yaml_reports_the_line(runner, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("slug: x\ntitle: [unclosed\n", encoding="utf-8")
    result = runner.invoke(args=["campaign", "load", str(bad)])
    assert result.exit_code == 2
    assert "broken.yaml:3: not valid YAML" in result.output


def test_bad_description_and_target_group_name_are_reported_with_the_other_problems(
    runner, session, tmp_path
):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["description"] = ["not", "text"]
    data["target_groups"][0]["name"] = ["neither"]
    data["ends_on"] = "2026-13-01"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    result = runner.invoke(args=["campaign", "load", str(bad)])

    assert result.exit_code == 2
    assert "bad.yaml: ends_on: got '2026-13-01'" in result.output
    assert "bad.yaml: description: expected text or a mapping of language to text" in (
        result.output
    )
    assert "bad.yaml: target_groups[0].name: expected text or a mapping" in result.output
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_bad_description_alone_is_refused_not_dropped(tmp_path):
    from campaigns.definition import parse_campaign
    from minsheng.errors import InputError

    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["description"] = 42
    try:
        parse_campaign(data, source="c.yaml")
    except InputError as exc:
        assert [str(p) for p in exc.problems] == [
            "c.yaml: description: expected text or a mapping of language to text"
        ]
    else:
        raise AssertionError("a description that is not text was accepted")


def test_an_unknown_time_zone_is_refused_and_a_known_one_tells_the_campaigns_local_time():
    from campaigns.definition import parse_campaign
    from campaigns.models import Campaign
    from minsheng.db import LOCAL_TIMEZONE
    from minsheng.errors import InputError

    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["settings"] = {**(data.get("settings") or {}), "timezone": "Asia/Chengdu"}
    try:
        parse_campaign(data, source="c.yaml")
    except InputError as exc:
        assert [str(p) for p in exc.problems] == [
            "c.yaml: settings.timezone: got 'Asia/Chengdu'; expected an IANA time zone such as "
            "Asia/Shanghai"
        ]
    else:
        raise AssertionError("an unknown time zone was accepted")

    data["settings"]["timezone"] = "Asia/Urumqi"
    assert Campaign(settings=parse_campaign(data, source="c.yaml").settings).timezone == (
        "Asia/Urumqi"
    )
    assert Campaign(settings={}).timezone == LOCAL_TIMEZONE
