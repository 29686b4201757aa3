"""Parquet snapshots: the same frame as the database, refreshed with new responses only."""

from __future__ import annotations

import dataclasses
import json
import random

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete

from analysis.arrow import CATEGORIES
from analysis.loading import campaign_form, response_frame
from analysis.snapshots import (
    MANIFEST,
    MAX_PARTS,
    refresh_snapshot,
    snapshot_dir,
    snapshot_frame,
)
from analysis.summary import summarize
from forms.models import Response
from forms.publishing import publish_form

from .conftest import add_responses, random_answers


def assert_same_frame(snapshot, database):
    pd.testing.assert_frame_equal(
        snapshot.reset_index(drop=True), database.reset_index(drop=True), check_dtype=True
    )


def test_snapshot_frame_equals_the_database_frame(session, answered, tmp_path):
    campaign, _ = answered
    snapshot = snapshot_frame(session, campaign, tmp_path)
    assert_same_frame(snapshot, response_frame(session, campaign))
    assert (snapshot_dir(tmp_path, campaign) / MANIFEST).exists()


def test_snapshot_stores_categorical_answers_as_codes(session, answered, tmp_path):
    campaign, _ = answered
    snapshot_frame(session, campaign, tmp_path)
    folder = snapshot_dir(tmp_path, campaign)
    (part,) = folder.glob("part-*.parquet")
    stored = pq.read_schema(part)
    frame = response_frame(session, campaign)
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    assert categorical
    for name in categorical:
        field = stored.field(name)
        assert pa.types.is_integer(field.type) and CATEGORIES in field.metadata
        assert json.loads(field.metadata[CATEGORIES]) == list(frame[name].cat.categories)


def test_refresh_reads_only_new_responses(session, answered, tmp_path):
    campaign, answers = answered
    first = refresh_snapshot(session, campaign, tmp_path, chunk_size=50)
    assert first.appended == len(answers) and first.rebuilt and first.parts == 3
    again = refresh_snapshot(session, campaign, tmp_path)
    assert again.appended == 0 and not again.rebuilt
    add_responses(session, campaign, [random_answers(random.Random(1)) for _ in range(7)])
    session.commit()
    later = refresh_snapshot(session, campaign, tmp_path)
    assert later.appended == 7 and not later.rebuilt and later.rows == len(answers) + 7
    assert_same_frame(
        snapshot_frame(session, campaign, tmp_path), response_frame(session, campaign)
    )


def test_deleted_responses_rebuild_the_snapshot(session, answered, tmp_path):
    campaign, answers = answered
    refresh_snapshot(session, campaign, tmp_path)
    frame = response_frame(session, campaign)
    session.execute(delete(Response).where(Response.id == int(frame["response_id"].iloc[3])))
    session.commit()
    result = refresh_snapshot(session, campaign, tmp_path)
    assert result.rebuilt and result.rows == len(answers) - 1
    assert_same_frame(
        snapshot_frame(session, campaign, tmp_path), response_frame(session, campaign)
    )


def test_a_new_questionnaire_version_rebuilds_the_snapshot(session, answered, tmp_path):
    campaign, _ = answered
    refresh_snapshot(session, campaign, tmp_path)
    form = campaign_form(session, campaign)
    publish_form(session, campaign, dataclasses.replace(form, version="2", title={"zh": "新版"}))
    session.commit()
    assert refresh_snapshot(session, campaign, tmp_path).rebuilt


def test_many_small_refreshes_are_compacted(session, campaign, tmp_path):
    rng = random.Random(4)
    for _ in range(MAX_PARTS + 2):
        add_responses(session, campaign, [random_answers(rng)])
        session.commit()
        result = refresh_snapshot(session, campaign, tmp_path)
    assert result.parts <= MAX_PARTS and result.rows == MAX_PARTS + 2
    files = list(snapshot_dir(tmp_path, campaign).glob("part-*.parquet"))
    assert len(files) == result.parts
    assert_same_frame(
        snapshot_frame(session, campaign, tmp_path), response_frame(session, campaign)
    )


def test_empty_campaign_snapshot_is_an_empty_frame(session, campaign, tmp_path):
    assert_same_frame(
        snapshot_frame(session, campaign, tmp_path), response_frame(session, campaign)
    )


def test_summary_from_snapshot_equals_summary_from_database(session, answered, tmp_path):
    campaign, _ = answered
    from_database = summarize(session, campaign, segments=("district",))
    from_snapshot = summarize(session, campaign, segments=("district",), snapshot_root=tmp_path)
    assert from_snapshot.to_dict() == from_database.to_dict()


def test_results_page_keeps_its_snapshot_in_the_instance_folder(
    client, login, answered, instance_folder
):
    campaign, _ = answered
    login("organizer")
    assert client.get(f"/campaigns/{campaign.slug}/results").status_code == 200
    assert (instance_folder / "snapshots" / str(campaign.id) / MANIFEST).exists()
