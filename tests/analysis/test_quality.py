"""Data quality flags: speeders, straight-lining, duplicate submissions; excluded and counted."""

from __future__ import annotations

import statistics
from datetime import timedelta

import numpy as np
import pytest

from analysis.errors import UnknownOptionError
from analysis.frames import answers_frame
from analysis.quality import duplicates, quality_check, rating_blocks, speeders, straightliners
from analysis.summary import summarize, summarize_frame
from minsheng.db import utcnow
from questionnaire.schema import parse_form

from .conftest import add_responses

SCALE = [{"name": str(i), "label": {"zh": f"{i}分"}} for i in range(1, 6)]
BATTERY = parse_form(
    {
        "settings": {"form_id": "battery", "default_language": "zh"},
        "choices": {"sat": SCALE, "yes_no": [{"name": "yes"}, {"name": "no"}]},
        "survey": [
            {"type": "select_one yes_no", "name": "resident"},
            {
                "type": "group",
                "name": "ratings",
                "questions": [
                    {"type": "select_one sat", "name": f"s{i}", "appearance": "likert"}
                    for i in range(1, 5)
                ],
            },
            {
                "type": "group",
                "name": "short",
                "questions": [
                    {"type": "select_one sat", "name": f"t{i}", "appearance": "likert"}
                    for i in range(1, 4)
                ],
            },
            {"type": "text", "name": "idea"},
        ],
    }
)


def test_speeders_are_below_three_tenths_of_the_median():
    durations = [300.0] * 15 + [120.0, 95.0, 89.9, 10.0, np.nan]
    flags, threshold = speeders(durations)
    median = statistics.median(d for d in durations if not np.isnan(d))
    assert threshold == pytest.approx(0.3 * median)
    expected = [not np.isnan(d) and d < 0.3 * median for d in durations]
    assert flags.tolist() == expected
    assert flags.sum() == 2


def test_too_few_durations_flag_nobody():
    flags, threshold = speeders([1.0, 100.0, np.nan])
    assert threshold is None and not flags.any()


def test_speed_factor_outside_zero_one_is_refused():
    with pytest.raises(UnknownOptionError, match="factor"):
        speeders([1.0] * 20, factor=1.5)


def test_rating_blocks_are_runs_of_four_or_more_items_on_one_scale():
    assert rating_blocks(BATTERY) == [("s1", "s2", "s3", "s4")]
    assert rating_blocks(BATTERY, min_items=3) == [("s1", "s2", "s3", "s4"), ("t1", "t2", "t3")]


def test_single_choice_rows_of_a_matrix_form_a_block_even_without_likert():
    agree = [{"name": n} for n in ("disagree", "neutral", "agree")]
    form = parse_form(
        {
            "settings": {"form_id": "matrix"},
            "choices": {"agree": agree},
            "survey": [
                {
                    "type": "group",
                    "name": "grid",
                    "appearance": "table-list",
                    "questions": [
                        {"type": "select_one agree", "name": f"row{i}"} for i in range(4)
                    ],
                },
                *({"type": "select_one agree", "name": f"loose{i}"} for i in range(4)),
            ],
        }
    )
    assert rating_blocks(form) == [("row0", "row1", "row2", "row3")]


def test_straightliners_answer_every_item_of_a_block_alike():
    rows = [
        {"s1": "4", "s2": "4", "s3": "4", "s4": "4"},  # straight line
        {"s1": "4", "s2": "4", "s3": "4", "s4": "5"},
        {"s1": "1", "s2": "1", "s3": "1"},  # one item skipped: not flagged
        {"s1": "2", "s2": "2", "s3": "2", "s4": "2", "t1": "3"},
    ]
    frame = answers_frame(rows, BATTERY)
    flags = straightliners(frame, BATTERY, rating_blocks(BATTERY))
    assert flags.tolist() == [True, False, False, True]


def test_duplicates_flag_later_copies_with_the_same_text():
    rows = [
        {"resident": "yes", "s1": "3", "idea": "多建公园"},
        {"resident": "yes", "s1": "3", "idea": "多建公园"},  # resubmission
        {"resident": "no", "s1": "3", "idea": "多建公园"},  # same text, other answers
        {"resident": "yes", "s1": "3"},  # closed answers only
        {"resident": "yes", "s1": "3"},
        {"resident": "yes", "s1": "3", "idea": "多建公园"},  # third copy
    ]
    frame = answers_frame(rows, BATTERY)
    assert duplicates(frame, BATTERY).tolist() == [False, True, False, False, False, True]
    assert duplicates(frame, BATTERY, require_text=False).tolist() == [
        False,
        True,
        False,
        False,
        True,
        True,
    ]


def test_flagged_responses_are_excluded_and_counted():
    rows = [
        {"resident": "yes", "s1": str(1 + i % 5), "s2": "3", "idea": f"建议{i}"} for i in range(20)
    ]
    rows.append({"resident": "no", "s1": "5", "s2": "5", "s3": "5", "s4": "5"})
    rows.append(dict(rows[0]))
    frame = answers_frame(rows, BATTERY)
    frame["duration"] = [200.0] * 20 + [210.0, 5.0]
    summary = summarize_frame(frame, BATTERY)
    report = summary.quality
    assert report.n_received == 22 and report.n_excluded == 2
    counts = {f.flag: f.count for f in report.flags}
    assert counts == {
        "speeder": 1,
        "straightliner": 1,
        "duplicate": 1,
        "near_duplicate": 0,
        "honeypot": 0,
    }
    assert summary.n_responses == 20
    resident = summary.question("resident")
    assert resident.n_base == 20 and resident.rows[1].count == 0
    kept = summarize_frame(frame, BATTERY, exclude=())
    assert kept.n_responses == 22 and kept.quality.n_excluded == 0
    assert {f.flag: f.count for f in kept.quality.flags} == counts
    only_speeders = summarize_frame(frame, BATTERY, exclude=("speeder",))
    assert only_speeders.n_responses == 21


def test_unknown_flag_name_is_refused_listing_the_known_ones():
    frame = answers_frame([{}], BATTERY)
    with pytest.raises(UnknownOptionError, match="speeder, straightliner, duplicate"):
        quality_check(frame, BATTERY, exclude=("bots",))


def test_stored_responses_with_durations_are_checked(session, campaign):
    rows = [
        {
            "district": "wuhou",
            "age_group": "a18_29",
            "commute_mode": "bus",
            "commute_time": "lt15",
            "problems": ["parking"],
            "sat_bus": str(1 + i % 5),
            "sat_metro": "3",
            "sat_parking": "2",
            "suggestion": f"第{i}条建议",
        }
        for i in range(12)
    ]
    for i, answers in enumerate(rows):
        seconds = 5 if i == 0 else 240 + i
        add_responses(
            session, campaign, [answers], started_at=utcnow() - timedelta(seconds=seconds)
        )
    add_responses(session, campaign, [rows[3]])  # a resubmission without timing
    summary = summarize(session, campaign)
    assert summary.quality.n_received == 13
    assert {f.flag: f.count for f in summary.quality.flags}["speeder"] == 1
    assert {f.flag: f.count for f in summary.quality.flags}["duplicate"] == 1
    assert summary.n_responses == 11
    assert summary.quality.median_duration == pytest.approx(246, abs=2)
