"""Responses to frames: typed columns, chunked reads, answers mapped across versions by name."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analysis.frames import META_COLUMNS, answers_frame, merged_form
from analysis.loading import campaign_form, response_frame
from campaigns.definition import read_campaign_file
from forms.publishing import publish_form
from questionnaire.schema import Choice

from .conftest import EXAMPLE, add_responses


def test_choice_columns_are_categorical_in_form_order(session, answered):
    campaign, _ = answered
    frame = response_frame(session, campaign)
    form = campaign_form(session, campaign)
    district = [c.name for c in form.choices["district"]]
    assert list(frame["district"].cat.categories) == district
    assert list(frame["commute_mode"].cat.categories)[-1] == "other"
    assert set(META_COLUMNS) <= set(frame.columns)
    assert frame["sat_bus"].dtype == "category"
    assert str(frame["problems/parking"].dtype) == "boolean"
    assert frame["response_id"].is_monotonic_increasing


def test_frame_holds_every_answer_as_given(session, answered):
    campaign, answers = answered
    frame = response_frame(session, campaign)
    assert len(frame) == len(answers)
    for i, given in enumerate(answers):
        row = frame.iloc[i]
        assert row["district"] == given["district"]
        assert row["sat_metro"] == given["sat_metro"]
        for option in ("congestion", "parking", "safety"):
            assert bool(row[f"problems/{option}"]) == (option in given["problems"])
        if "suggestion" in given:
            assert row["suggestion"] == given["suggestion"]
        else:
            assert pd.isna(row["suggestion"])


def test_chunked_read_equals_single_read(session, answered):
    campaign, _ = answered
    whole = response_frame(session, campaign, chunk_size=10_000)
    chunked = response_frame(session, campaign, chunk_size=7)
    pd.testing.assert_frame_equal(whole, chunked)


def test_id_range_reads_only_that_range(session, answered):
    campaign, _ = answered
    whole = response_frame(session, campaign)
    cut = int(whole["response_id"].iloc[49])
    later = response_frame(session, campaign, after_id=cut)
    first = response_frame(session, campaign, up_to_id=cut)
    assert len(first) == 50
    assert len(later) == len(whole) - 50
    assert later["response_id"].min() > cut


def test_metadata_columns_carry_channel_point_and_group(session, campaign):
    point = campaign.collection_points[1]
    group = campaign.target_groups[0]
    add_responses(
        session,
        campaign,
        [
            {
                "district": "wuhou",
                "age_group": "a18_29",
                "commute_mode": "bus",
                "commute_time": "lt15",
                "problems": ["parking"],
                "sat_bus": "2",
                "sat_metro": "3",
                "sat_parking": "1",
            }
        ],
        channel="qr",
        collection_point_id=point.id,
        target_group_id=group.id,
    )
    frame = response_frame(session, campaign)
    assert frame["channel"].iloc[0] == "qr"
    assert frame["collection_point"].iloc[0] == point.code
    assert frame["target_group"].iloc[0] == group.code
    assert list(frame["collection_point"].cat.categories) == [
        p.code for p in campaign.collection_points
    ]
    assert str(frame["submitted_at"].dtype).startswith("datetime64")


def test_campaign_without_responses_gives_every_column_and_no_rows(session, campaign):
    frame = response_frame(session, campaign)
    assert len(frame) == 0
    assert "problems/parking" in frame.columns
    assert frame["district"].dtype == "category"


def test_answers_map_across_versions_by_question_name(session, answered):
    campaign, answers = answered
    first = campaign_form(session, campaign)
    # Version 2 drops the choice "walk" from the mode list and the question `commute_time`, and
    # adds a new choice: old answers keep their categories, new answers use the new one.
    scooter = Choice("scooter", {"zh": "电动滑板车", "en": "Scooter"})
    modes = (*(c for c in first.choices["mode"] if c.name != "walk"), scooter)
    children = []
    for group in first.children:
        kept = tuple(q for q in group.children if q.name != "commute_time")
        children.append(dataclasses.replace(group, children=kept))
    second = dataclasses.replace(
        first, version="2", children=tuple(children), choices={**first.choices, "mode": modes}
    )
    publish_form(session, campaign, second)
    add_responses(
        session,
        campaign,
        [
            {
                "district": "pidu",
                "age_group": "a18_29",
                "commute_mode": "scooter",
                "problems": ["safety"],
                "sat_bus": "5",
                "sat_metro": "5",
                "sat_parking": "5",
            }
        ],
    )
    frame = response_frame(session, campaign)
    categories = list(frame["commute_mode"].cat.categories)
    assert categories[: len(modes)] == [c.name for c in modes]
    assert "walk" in categories and "other" in categories
    walkers = sum(a["commute_mode"] == "walk" for a in answers)
    assert int((frame["commute_mode"] == "walk").sum()) == walkers
    assert frame["commute_mode"].iloc[-1] == "scooter"
    assert "commute_time" in frame.columns
    assert pd.isna(frame["commute_time"].iloc[-1])
    assert frame["commute_time"].notna().sum() == len(answers)
    assert frame["version"].iloc[-1] == 2 and frame["version"].iloc[0] == 1


def test_merged_form_of_one_version_is_that_version():
    form = read_campaign_file(EXAMPLE).form
    assert merged_form([form]) is form


def test_answers_frame_works_without_a_database():
    form = read_campaign_file(EXAMPLE).form
    frame = answers_frame(
        [
            {"sat_bus": "4", "problems": ["parking"]},
            {"commute_mode": "other", "commute_mode_other": "滴滴"},
            {},
        ],
        form,
    )
    assert frame["sat_bus"].tolist()[0] == "4"
    assert frame["problems/parking"].tolist() == [True, pd.NA, pd.NA]
    assert frame["commute_mode_other"].iloc[1] == "滴滴"
    assert np.isnan(frame["sat_bus"].cat.codes.replace(-1, np.nan).iloc[2])
