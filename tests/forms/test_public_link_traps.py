"""Bots on public links (issue 11, point 4): the honeypot field, the signed start of the page and
the address kept only as a keyed hash. A bot that fills the honeypot is thanked like anyone (it
learns nothing) but its response is marked and claims no quota; a start the server did not sign
times the post from its arrival."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from forms.fingerprints import answers_fingerprint, normalised_text
from forms.models import Response
from forms.provenance import HONEYPOT_FIELD, start_token
from invitations.quotas import set_quota
from minsheng.db import utcnow
from tests.forms.test_submitting import API, PAGE, count, filled_in, through_api

pytestmark = pytest.mark.campaign_file(Path(__file__).parent / "one_page.yaml")

BOT = "203.0.113.9"


def stored(session) -> Response:
    return session.query(Response).one()


def test_a_filled_honeypot_is_thanked_like_anyone_and_stored_marked(client, session, campaign):
    data = {**filled_in(client), HONEYPOT_FIELD: "http://cheap-pills.example"}

    reply = client.post(PAGE, data=data)

    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("/s/one-page-2026/thanks")
    assert count(session) == 1
    assert stored(session).honeypot is True


def test_a_respondent_who_leaves_the_honeypot_empty_is_not_marked(client, session, campaign):
    page = client.get(PAGE).get_data(as_text=True)
    assert f'name="{HONEYPOT_FIELD}"' in page

    assert client.post(PAGE, data={**filled_in(client), HONEYPOT_FIELD: ""}).status_code == 302

    assert stored(session).honeypot is False


def test_a_filled_honeypot_claims_no_place_in_a_quota(app, client, session, campaign):
    quota = set_quota(session, campaign, {"district": "wuhou"}, 1)
    session.commit()

    bot = client.post(PAGE, data={**filled_in(client), HONEYPOT_FIELD: "x"})
    person = app.test_client().post(PAGE, data=filled_in(app.test_client()))

    assert (bot.status_code, person.status_code) == (302, 302)
    session.refresh(quota)
    assert quota.completed == 1
    assert [r.honeypot for r in session.query(Response).order_by(Response.id)] == [True, False]


def test_a_honeypot_filled_on_the_last_page_of_a_draft_marks_its_response(
    client, session, campaign
):
    data = filled_in(client)
    assert client.post(PAGE, data={**data, "nav": "save"}).status_code == 200

    reply = client.post(PAGE, data={**data, HONEYPOT_FIELD: "bot@example.com"})

    assert reply.status_code == 302
    assert stored(session).honeypot is True


def test_the_start_the_page_was_served_with_times_the_response(app, client, session, campaign):
    data = filled_in(client)
    five_minutes_ago = utcnow() - timedelta(minutes=5)
    data["started_at"] = start_token(app.secret_key, data["submission_id"], five_minutes_ago)

    assert client.post(PAGE, data=data).status_code == 302

    assert stored(session).duration_seconds == pytest.approx(300, abs=5)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda app, sid, t: t.isoformat(), id="a plain time"),
        pytest.param(lambda app, sid, t: start_token("another-key" * 4, sid, t), id="another key"),
        pytest.param(lambda app, sid, t: start_token(app.secret_key, "x" * 32, t), id="other id"),
        pytest.param(lambda app, sid, t: start_token(app.secret_key, sid, t)[:-2], id="altered"),
        pytest.param(lambda app, sid, t: "", id="none"),
    ],
)
def test_a_start_the_server_did_not_sign_times_the_post_from_its_arrival(
    app, client, session, campaign, forged
):
    data = filled_in(client)
    an_hour_ago = utcnow() - timedelta(hours=1)
    data["started_at"] = forged(app, data["submission_id"], an_hour_ago)

    assert client.post(PAGE, data=data).status_code == 302

    assert stored(session).duration_seconds < 5


def test_the_address_is_kept_only_as_a_keyed_hash_of_the_day(app, client, session, campaign):
    for address in (BOT, BOT, "198.51.100.4"):
        data = filled_in(client)
        reply = client.post(PAGE, data=data, environ_base={"REMOTE_ADDR": address})
        assert reply.status_code == 302
    api = client.post(
        API,
        json={"answers": {"district": "wuhou", "age": 35}, "submission_id": "api-address-1"},
        environ_base={"REMOTE_ADDR": BOT},
    )
    assert api.status_code == 201

    rows = session.query(Response).order_by(Response.id).all()
    hashes = [r.address_hash for r in rows]
    assert hashes[0] == hashes[1] == hashes[3] != hashes[2]
    assert all(h is not None and len(h) == 32 for h in hashes)
    for row in rows:
        values = [str(getattr(row, c.key)) for c in Response.__table__.columns]
        assert not any(BOT in v or "198.51.100.4" in v for v in values)


def test_the_api_takes_no_honeypot_field(client, session, campaign):
    reply = through_api(client, "api-honeypot-1", **{HONEYPOT_FIELD: "x"})

    assert reply.status_code == 422
    assert reply.json["errors"][0]["location"] == HONEYPOT_FIELD
    assert count(session) == 0


def test_text_is_fingerprinted_as_said_not_as_spaced_punctuated_or_cased():
    assert normalised_text("建议 增加，停车位！！") == normalised_text("建议增加停车位")
    assert normalised_text("ＡＢＣ １２３") == normalised_text("abc123")
    same = {"district": "wuhou", "suggestion": "多开公交。", "problems": ["a", "b"]}
    assert answers_fingerprint(same) == answers_fingerprint(
        {**same, "suggestion": " 多开 公交 ", "note": None}
    )
    assert answers_fingerprint(same) != answers_fingerprint({**same, "district": "jinjiang"})
    assert answers_fingerprint(same) != answers_fingerprint({**same, "suggestion": "少开公交"})
