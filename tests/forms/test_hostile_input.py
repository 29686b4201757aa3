"""Hostile answers and bodies: text past its limit, deep JSON, huge bodies, a string for a multiple
choice, an implausible `started_at`, and drafts saved with text no page could show (issue 11)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forms.models import Draft, Response
from questionnaire.schema import DEFAULT_TEXT_LENGTH, OTHER_TEXT_LENGTH, parse_form
from tests.forms.test_api import ANSWERS
from tests.forms.test_respondent_page import post_page

SLUG = "transport-2026"
URL = f"/api/v1/campaigns/{SLUG}/responses"


def count(session, model=Response):
    return session.scalar(select(func.count()).select_from(model))


def post(client, answers=None, **extra):
    body = {"answers": {**ANSWERS, **(answers or {})}, "submission_id": "hostile-in-0001", **extra}
    return client.post(URL, json=body)


def locations(reply):
    return {e["location"] for e in reply.json["errors"]}


def test_a_text_answer_over_its_limit_is_refused_naming_the_field(client, session, campaign):
    reply = post(client, {"suggestion": "很" * 501})  # the example's max_length is 500
    assert reply.status_code == 422, reply.json
    assert "answers.suggestion" in locations(reply)
    assert count(session) == 0
    assert post(client, {"suggestion": "很" * 500}).status_code == 201


def test_a_text_question_without_max_length_has_the_default_limit():
    from forms.validation import validate_answers
    from minsheng.errors import InputError

    form = parse_form({"survey": [{"type": "text", "name": "t"}]})
    assert validate_answers(form, {"t": "x" * DEFAULT_TEXT_LENGTH})
    with pytest.raises(InputError):
        validate_answers(form, {"t": "x" * (DEFAULT_TEXT_LENGTH + 1)})


def test_an_other_please_specify_text_has_its_own_shorter_limit(client, session, campaign):
    reply = post(client, {"commute_mode_other": "x" * (OTHER_TEXT_LENGTH + 1)})
    assert reply.status_code == 422, reply.json
    assert locations(reply) == {"answers.commute_mode_other"}
    assert count(session) == 0


def test_a_question_with_max_length_keeps_its_own_limit():
    from forms.validation import validate_answers
    from minsheng.errors import InputError

    form = parse_form({"survey": [{"type": "text", "name": "t", "parameters": {"max_length": 5}}]})
    assert validate_answers(form, {"t": "12345"}) == {"t": "12345"}
    with pytest.raises(InputError) as refused:
        validate_answers(form, {"t": "123456"}, "en")
    assert refused.value.problems[0].location == "t"
    assert "at most 5 characters" in refused.value.problems[0].message


@pytest.mark.parametrize("length", ["0", "-3", "2.5", "1000000"])
def test_a_max_length_outside_the_allowed_range_is_refused_at_load(length):
    from minsheng.errors import InputError

    with pytest.raises(InputError) as refused:
        parse_form(
            {"survey": [{"type": "text", "name": "t", "parameters": {"max_length": length}}]}
        )
    assert "max_length" in str(refused.value)


@pytest.mark.parametrize("where", ["body", "answer"])
def test_json_nested_five_thousand_levels_deep_is_a_clear_400_not_a_500(client, campaign, where):
    deep = "[" * 5000 + "]" * 5000
    if where == "body":
        text = deep
    else:
        text = json.dumps({"answers": {**ANSWERS}, "submission_id": "hostile-in-0002"})
        text = text.replace('"suggestion": ', f'"suggestion": {deep}, "x": ', 1)
    reply = client.post(URL, data=text, content_type="application/json")
    assert reply.status_code == 400
    assert "nested deeper than" in reply.json["errors"][0]["message"]


def test_a_body_over_the_submission_limit_is_413_with_the_limit_said(client, session, campaign):
    reply = post(client, {"suggestion": "x" * (2 << 20)})
    assert reply.status_code == 413
    assert "1 MB" in reply.json["errors"][0]["message"]
    assert count(session) == 0


def test_a_page_post_over_max_content_length_is_413_with_a_translated_message(make_app, bind_app):
    app = bind_app(make_app(MAX_CONTENT_LENGTH=1024))
    reply = app.test_client().post(
        f"/s/{SLUG}", data={"suggestion": "x" * 4096}, headers={"Accept-Language": "zh-CN"}
    )
    assert reply.status_code == 413
    assert "1 KB" in reply.get_data(as_text=True)
    assert "太大" in reply.get_data(as_text=True)


@pytest.mark.parametrize("value", ["parking congestion", "parking"])
def test_a_string_for_a_multiple_choice_is_refused_never_split(client, session, campaign, value):
    reply = post(client, {"problems": value})
    assert reply.status_code == 422, reply.json
    assert "answers.problems" in locations(reply)
    assert count(session) == 0


@pytest.mark.parametrize(
    "started_at",
    [
        lambda now: now + timedelta(hours=1),  # the future, past any clock skew
        lambda now: datetime(2025, 1, 1, tzinfo=UTC),  # before the campaign began
        lambda now: datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_a_started_at_outside_a_sane_window_is_refused(client, session, campaign, started_at):
    moment = started_at(datetime.now(UTC))
    reply = post(client, started_at=moment.isoformat())
    assert reply.status_code == 422, reply.json
    assert locations(reply) == {"started_at"}
    assert count(session) == 0


def test_a_started_at_a_few_minutes_ahead_is_clock_skew_and_accepted(client, campaign):
    soon = datetime.now(UTC) + timedelta(minutes=2)
    assert post(client, started_at=soon.isoformat()).status_code == 201


@pytest.mark.parametrize("nav", ["back", "save"])
@pytest.mark.parametrize(
    # A form post can not carry a lone surrogate: werkzeug decodes its bytes with replacement.
    "bad",
    ["a\x00b", "很" * 501],
    ids=["nul", "long"],
)
def test_saving_a_draft_with_back_or_save_runs_the_text_check(client, session, campaign, nav, bad):
    from forms.publishing import current_version, form_of
    from forms.webforms import page_field_names

    form = form_of(current_version(session, campaign))
    page = next(i for i in range(len(form.pages())) if "suggestion" in page_field_names(form, i))
    reply = post_page(client, page, {"suggestion": bad}, nav=nav)
    assert reply.status_code == 422
    assert count(session, Draft) == 0
    assert post_page(client, page, {"suggestion": "好"}, nav=nav).status_code in (200, 302)
    assert count(session, Draft) == 1
