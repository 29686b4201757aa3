"""Questionnaire versions: edits make a new version, a version with responses cannot be changed in
place, each response keeps its version, and answers line up across versions by question name."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms.ingest import Submission, submit_response
from forms.models import Response
from forms.publishing import (
    VersionLockedError,
    current_version,
    form_of,
    publish_form,
    question_map,
    versions_of,
)
from minsheng.audit import events_for
from questionnaire.schema import form_to_dict, parse_form

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
ANSWERS = {
    "district": "wuhou",
    "age_group": "a30_44",
    "commute_mode": "metro",
    "commute_time": "m30_60",
    "problems": ["parking"],
    "sat_bus": "3",
    "sat_metro": "4",
    "sat_parking": "2",
}


def respond(session, campaign, version, submission_id="sub-0001-abcdef"):
    asked = {q.name for q in form_of(version).questions()}
    answers = {k: v for k, v in ANSWERS.items() if k in asked}
    response, _ = submit_response(
        session, campaign, version, answers, Submission(submission_id=submission_id)
    )
    session.commit()
    return response


def edited(form):
    """The form with one more commute time and without the parking rating."""
    data = form_to_dict(form)
    data["choices"]["commute_time"].append({"name": "gt90", "label": {"zh": "90分钟以上"}})
    ratings = next(g for g in data["survey"] if g["name"] == "ratings")
    ratings["questions"] = [q for q in ratings["questions"] if q["name"] != "sat_parking"]
    return parse_form(data, "edited")


def test_a_version_with_responses_cannot_be_changed_in_place(session, campaign):
    version = current_version(session, campaign)
    respond(session, campaign, version)
    version.definition = form_to_dict(edited(form_of(version)))
    with pytest.raises(VersionLockedError, match="version 1 has responses and cannot be changed"):
        session.flush()
    session.rollback()
    assert form_of(current_version(session, campaign)).question("sat_parking")


def test_a_version_with_responses_cannot_be_deleted(session, campaign):
    version = current_version(session, campaign)
    respond(session, campaign, version)
    session.delete(version)
    with pytest.raises(VersionLockedError, match="cannot be deleted"):
        session.flush()
    session.rollback()


def test_a_version_without_responses_may_still_be_corrected(session, campaign):
    version = current_version(session, campaign)
    version.definition = form_to_dict(edited(form_of(version)))
    session.flush()
    assert "sat_parking" not in [q.name for q in form_of(version).questions()]


def test_publishing_an_edit_creates_the_next_version_and_responses_keep_theirs(session, campaign):
    first = current_version(session, campaign)
    old = respond(session, campaign, first)
    second = publish_form(session, campaign, edited(form_of(first)))
    session.commit()
    assert (first.number, second.number) == (1, 2)
    assert publish_form(session, campaign, form_of(second)).id == second.id
    new = respond(session, campaign, second, "sub-0002-abcdef")
    assert (old.version_id, new.version_id) == (first.id, second.id)
    assert session.get(Response, old.id).answers["sat_parking"] == "2"
    assert [v.number for v in versions_of(session, campaign)] == [1, 2]
    published = events_for(session, "questionnaire_version", second.id)
    assert [(e.action, e.detail["number"]) for e in published] == [("questionnaire.publish", 2)]


def test_question_map_lines_answers_up_by_name_and_names_the_changes(session, campaign):
    first = current_version(session, campaign)
    form = edited(form_of(first))
    # Version 3 turns the bus rating into a 0-10 scale: no longer comparable.
    data = form_to_dict(form)
    publish_form(session, campaign, form)
    ratings = next(g for g in data["survey"] if g["name"] == "ratings")
    bus = next(q for q in ratings["questions"] if q["name"] == "sat_bus")
    bus.update({"type": "range", "parameters": {"start": "0", "end": "10"}, "appearance": None})
    del bus["appearance"]
    publish_form(session, campaign, parse_form(data, "v3"))
    session.commit()

    mapping = question_map(versions_of(session, campaign))
    assert list(mapping)[:3] == ["district", "age_group", "commute_mode"]
    assert list(mapping)[-1] == "sat_parking"
    assert mapping["sat_parking"].versions == (1,)
    commute = mapping["commute_time"]
    assert commute.versions == (1, 2, 3) and commute.comparable
    assert commute.choices == ("lt15", "m15_30", "m30_60", "gt60", "gt90")
    assert commute.changes == ("version 2: choices added gt90",)
    bus_history = mapping["sat_bus"]
    assert not bus_history.comparable
    assert bus_history.types == {1: "select_one", 2: "select_one", 3: "range"}
    assert "version 3: type select_one -> range" in bus_history.changes


def test_changing_a_locked_version_is_answered_409_with_the_reason_not_500(
    make_app, bind_app, session, campaign
):
    from minsheng.accounts.permissions import public
    from minsheng.db import get_session

    version = current_version(session, campaign)
    respond(session, campaign, version)
    app = bind_app(make_app())

    # The route stands for any staff action that edits a version in place.
    def edit_in_place():
        locked = get_session().get(type(version), version.id)
        locked.definition = form_to_dict(edited(form_of(locked)))
        get_session().commit()
        return "saved"

    # Declared public: the app refuses an endpoint that declares no access.
    app.add_url_rule("/edit-in-place", "edit_in_place", public(edit_in_place), methods=["POST"])
    client = app.test_client()
    page = client.post("/edit-in-place")
    assert page.status_code == 409
    assert "version 1 has responses and cannot be changed" in page.get_data(as_text=True)
    api = client.post("/edit-in-place", headers={"Accept": "application/json"})
    assert api.status_code == 409
    assert api.json["errors"][0]["location"] == "questionnaire"
