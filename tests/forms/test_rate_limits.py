"""Floods of the public doors (issue 11, point 4): a scripted burst from one address is answered
429 with Retry-After while other respondents' answers still go through, per address and per link,
on the API, the page flow, resume codes, invitation tokens and the public feedback form."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from forms.models import Response
from minsheng.config import load_settings
from minsheng.throttle import PROCESS_COUNTERS, ProcessCounters, storage_uri
from tests.forms.test_api import URL as API
from tests.forms.test_api import body

PAGE = "/s/transport-2026"
FLOODER = "203.0.113.66"
NEIGHBOUR = "198.51.100.20"


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Response))


def _api(client, n: int, address: str, url: str = API, **headers):
    return client.post(
        url,
        json=body(submission_id=f"flood-{address}-{n:05d}"),
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def test_three_hundred_scripted_submissions_from_one_address_store_only_the_allowed_few(
    client, session, campaign
):
    codes = [_api(client, n, FLOODER).status_code for n in range(300)]

    assert codes[:30] == [201] * 30
    assert set(codes[30:]) == {429}
    assert _count(session) == 30
    neighbour = _api(client, 0, NEIGHBOUR)
    assert neighbour.status_code == 201, neighbour.json
    assert _count(session) == 31


def test_the_api_refusal_says_how_long_to_wait_in_json(client, app, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "2 per minute")
    for n in range(2):
        assert _api(client, n, FLOODER).status_code == 201

    refused = _api(client, 2, FLOODER, url=f"{API}?lang=en")

    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 61
    assert refused.json["errors"][0]["message"] == (
        f"Too many requests from your connection; please wait {wait} seconds and try again."
    )


def test_a_page_flood_is_refused_with_a_page_in_chinese(client, app, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "3 per minute")
    data = {"page": "0", "nav": "next", "district": "wuhou", "age_group": "a30_44"}
    codes = [
        client.post(PAGE, data=data, environ_base={"REMOTE_ADDR": FLOODER}).status_code
        for _ in range(4)
    ]

    assert codes[:3] == [302] * 3
    assert codes[3] == 429
    refused = client.post(PAGE, data=data, environ_base={"REMOTE_ADDR": FLOODER})
    assert "Retry-After" in refused.headers
    assert "请求过于频繁" in refused.get_data(as_text=True)
    # Reading the questionnaire is not counted, and another address still answers.
    assert client.get(PAGE, environ_base={"REMOTE_ADDR": FLOODER}).status_code == 200
    other = client.post(PAGE, data=data, environ_base={"REMOTE_ADDR": NEIGHBOUR})
    assert other.status_code == 302


def test_many_addresses_together_are_held_to_the_limit_of_one_link(
    client, app, campaign, monkeypatch
):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_LINK", "5 per minute")
    codes = [_api(client, n, f"192.0.2.{n + 1}").status_code for n in range(7)]

    assert codes == [201] * 5 + [429] * 2


def test_guessing_resume_codes_is_slowed(client, app, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "5 per minute")
    codes = [
        client.post(
            f"{PAGE}/resume",
            data={"code": f"ABCDE-FGH{n:02d}"},
            environ_base={"REMOTE_ADDR": FLOODER},
        ).status_code
        for n in range(8)
    ]

    assert codes == [404] * 5 + [429] * 3


def test_guessing_invitation_tokens_is_slowed(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "5 per minute")
    codes = [
        client.get(f"/i/guess{n:04d}", environ_base={"REMOTE_ADDR": FLOODER}).status_code
        for n in range(8)
    ]

    assert codes == [404] * 5 + [429] * 3
    assert client.get("/i/guess9999", environ_base={"REMOTE_ADDR": NEIGHBOUR}).status_code == 404


def test_stuffing_the_public_feedback_form_is_slowed(client, app, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "3 per minute")
    url = f"{PAGE}/feedback"
    codes = [
        client.post(
            url,
            data={"recommendation_id": "1", "satisfaction": "5"},
            environ_base={"REMOTE_ADDR": FLOODER},
        ).status_code
        for _ in range(5)
    ]

    assert 429 not in codes[:3]
    assert codes[3:] == [429, 429]


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(
    client, app, campaign, monkeypatch
):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "2 per minute")
    codes = [
        _api(client, n, FLOODER, **{"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(4)
    ]

    assert codes == [201, 201, 429, 429]


def test_behind_a_trusted_proxy_each_client_is_counted_under_its_own_address(
    make_app, bind_app, session, campaign
):
    proxied = bind_app(make_app(PROXY_COUNT=1, RATE_LIMIT_PER_ADDRESS="2 per minute"))
    client = proxied.test_client()

    def post(n: int, forwarded: str) -> int:
        return _api(client, n, "10.0.0.1", **{"X-Forwarded-For": forwarded}).status_code

    assert [post(n, FLOODER) for n in range(3)] == [201, 201, 429]
    assert post(3, NEIGHBOUR) == 201
    # A client prepending its own hop gains nothing: only the proxy's last hop is trusted.
    assert post(4, f"1.2.3.4, {FLOODER}") == 429


def test_turned_off_nothing_is_counted(client, app, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_ADDRESS", "1 per minute")
    monkeypatch.setattr("minsheng.throttle.limiter.enabled", False)
    assert [_api(client, n, FLOODER).status_code for n in range(3)] == [201] * 3


def test_counting_requests_in_memory_starts_no_thread_per_request(client, campaign, monkeypatch):
    started = []
    original = threading.Timer.start
    monkeypatch.setattr(threading.Timer, "start", lambda t: started.append(t) or original(t))
    codes = [_api(client, n, NEIGHBOUR).status_code for n in range(5)]
    assert codes == [201] * 5
    assert started == []


def test_counters_of_past_windows_are_dropped_from_memory(monkeypatch):
    monkeypatch.setattr(ProcessCounters, "SWEEP_SECONDS", 0.0)
    counters = ProcessCounters(PROCESS_COUNTERS)
    counters.incr("gone", expiry=0)
    counters.incr("kept", expiry=60)
    assert set(counters.storage) == {"kept"}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, "minsheng-memory://"),
        ({"BROKER_URL": "redis://cache:6379/0"}, "redis://cache:6379/0"),
        ({"BROKER_URL": "amqp://mq//"}, "minsheng-memory://"),
        (
            {"BROKER_URL": "redis://cache/0", "RATE_LIMIT_STORAGE_URL": "memory://"},
            "minsheng-memory://",
        ),
        (
            {"BROKER_URL": "redis://cache/0", "RATE_LIMIT_STORAGE_URL": "redis://rl/1"},
            "redis://rl/1",
        ),
    ],
)
def test_counters_live_on_redis_when_one_is_configured(settings, expected):
    assert storage_uri(load_settings(overrides={"BROKER_URL": "", **settings})) == expected


def test_a_malformed_rate_is_refused_at_start():
    with pytest.raises(Exception, match="RATE_LIMIT_PER_ADDRESS"):
        load_settings(environ={"MINSHENG_RATE_LIMIT_PER_ADDRESS": "lots"})
