"""The quality screen against scripted submissions (issue 11, point 4): a minimum completion
time joins the speeder rule, near-duplicates from one address are flagged as well as exact
duplicates, and honeypot responses never count; on the pandas and the Arrow paths alike."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import update

from analysis.quality import minimum_duration, speeders
from analysis.summary import summarize
from forms.models import Response
from forms.provenance import address_hash
from minsheng.db import utcnow
from minsheng.errors import InputError
from questionnaire.schema import parse_form

from .conftest import add_responses, random_answers

DAY = utcnow().date()
HOME = address_hash("k" * 32, "203.0.113.5", DAY)
NEIGHBOUR = address_hash("k" * 32, "198.51.100.7", DAY)


def _form(**settings):
    return parse_form(
        {
            "settings": {"form_id": "f", "default_language": "zh", **settings},
            "choices": {"yn": [{"name": "yes"}, {"name": "no"}]},
            "survey": [
                {"type": "select_one yn", "name": "resident"},
                {"type": "note", "name": "intro"},
                {"type": "text", "name": "why", "relevant": "${resident} = 'no'"},
                {
                    "type": "group",
                    "name": "more",
                    "relevant": "${resident} = 'yes'",
                    "questions": [{"type": "text", "name": "idea"}],
                },
                {"type": "group", "name": "end", "questions": [{"type": "text", "name": "last"}]},
            ],
        },
        source="test",
    )


def test_the_default_minimum_is_two_seconds_per_question_everyone_is_asked():
    # `resident` and `last`: the note, the relevant question and the relevant group do not count.
    assert minimum_duration(_form()) == 4.0
    assert minimum_duration(_form(min_completion_seconds=45)) == 45.0
    assert minimum_duration(_form(min_completion_seconds="0")) == 0.0


@pytest.mark.parametrize("value", [-1, "fast", 7200, True])
def test_a_minimum_that_is_no_number_of_seconds_is_refused_by_name(value):
    with pytest.raises(InputError) as refused:
        _form(min_completion_seconds=value)
    assert "settings.min_completion_seconds" in str(refused.value.problems[0].location)


def test_a_campaign_flooded_from_the_start_is_caught_by_the_minimum_not_the_median():
    flood = [3.0] * 30

    relative, _ = speeders(flood)
    flagged, threshold = speeders(flood, minimum=20.0)

    assert not relative.any()
    assert flagged.all()
    assert threshold == pytest.approx(0.9)


def _seconds_ago(seconds: float):
    return utcnow() - timedelta(seconds=seconds)


def _answers_with_text(seed: int):
    answers = random_answers(random.Random(seed))
    answers["suggestion"] = f"第{seed}条：建议增加地铁末班车班次"
    return answers


@pytest.fixture(params=["database", "snapshot"])
def summary_of(request, session, instance_folder):
    """The summary as the results page computes it, from the database rows (pandas) or from
    the campaign's Parquet snapshot (Arrow)."""

    def _summary(campaign, **options):
        session.commit()
        root = instance_folder / "snapshots" if request.param == "snapshot" else None
        return summarize(session, campaign, snapshot_root=root, **options)

    return _summary


def _counts(summary):
    return {f.flag: f.count for f in summary.quality.flags}


def test_a_response_faster_than_the_minimum_is_a_speeder(session, campaign, summary_of):
    minimum = minimum_duration(_form_of(session, campaign))
    assert minimum >= 10  # the demo questionnaire asks everyone at least five questions
    for seed in range(12):
        add_responses(
            session, campaign, [random_answers(random.Random(seed))], started_at=_seconds_ago(300)
        )
    add_responses(
        session, campaign, [random_answers(random.Random(99))], started_at=_seconds_ago(minimum - 3)
    )

    summary = summary_of(campaign)

    # 0.3 x the median of ~300 s is ~90 s; the minimum is lower, and both catch it.
    assert _counts(summary)["speeder"] == 1
    assert summary.n_responses == 12
    assert summary.quality.minimum_duration == minimum


def test_a_flood_of_fast_answers_from_the_first_response_is_left_out(session, campaign, summary_of):
    for seed in range(15):
        add_responses(
            session, campaign, [random_answers(random.Random(seed))], started_at=_seconds_ago(2)
        )

    summary = summary_of(campaign)

    assert _counts(summary)["speeder"] == 15
    assert summary.n_responses == 0


def test_the_same_answers_respaced_from_one_address_are_near_duplicates(
    session, campaign, summary_of
):
    first = _answers_with_text(1)
    respaced = {**first, "suggestion": " " + first["suggestion"].replace("：", ": ") + "！"}
    add_responses(session, campaign, [first, respaced, respaced], address_hash=HOME)
    elsewhere = {**first, "suggestion": first["suggestion"] + "。"}
    add_responses(session, campaign, [elsewhere], address_hash=NEIGHBOUR)
    add_responses(session, campaign, [_answers_with_text(2)], address_hash=HOME)

    summary = summary_of(campaign)

    counts = _counts(summary)
    assert counts["near_duplicate"] == 2  # the two resubmissions from HOME
    assert counts["duplicate"] == 1  # the exact copy among them
    assert summary.quality.n_received == 5
    assert summary.n_responses == 3


def test_resubmissions_a_day_apart_or_without_text_are_not_near_duplicates(
    session, campaign, summary_of
):
    first = _answers_with_text(3)
    again = {**first, "suggestion": first["suggestion"] + "。"}
    closed = {k: v for k, v in _answers_with_text(4).items() if k != "suggestion"}
    [early] = add_responses(session, campaign, [first], address_hash=HOME)
    add_responses(session, campaign, [again, closed, closed], address_hash=HOME)
    session.execute(
        update(Response)
        .where(Response.id == early.id)
        .values(submitted_at=utcnow() - timedelta(hours=25))
    )

    summary = summary_of(campaign)

    # Many honest people share one address behind a carrier's NAT: equal closed answers alone
    # prove nothing.
    assert _counts(summary)["near_duplicate"] == 0
    assert summary.n_responses == 4


def test_honeypot_responses_are_counted_apart_and_never_in_the_figures(
    session, campaign, summary_of
):
    people = [{**random_answers(random.Random(s)), "district": "wuhou"} for s in range(4)]
    add_responses(session, campaign, people)
    bots = [{**random_answers(random.Random(s)), "district": "pidu"} for s in range(6)]
    add_responses(session, campaign, bots, honeypot=True)

    summary = summary_of(campaign)

    assert _counts(summary)["honeypot"] == 6
    assert summary.n_responses == 4
    district = next(q for q in summary.questions if q.name == "district")
    assert district.n_base == 4
    assert {r.name: r.count for r in district.rows}["pidu"] == 0


def _form_of(session, campaign):
    from analysis.loading import campaign_form

    return campaign_form(session, campaign)
