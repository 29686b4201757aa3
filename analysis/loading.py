"""Loading a campaign's responses from the database into frames (`analysis.frames` says how the
columns look): its questionnaire across versions, and its responses read in chunks of ids."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.frames import (
    NoQuestionnaireError,
    ResponseCodes,
    answers_frame,
    empty_frame,
    merged_form,
    meta_frame,
)
from campaigns.models import Campaign
from forms.ingest import CHANNELS
from forms.models import Response
from forms.publishing import form_of, versions_of
from minsheng.problems import Problem
from questionnaire.schema import Form

DEFAULT_CHUNK_SIZE = 20_000


def campaign_form(session: Session, campaign: Campaign) -> Form:
    """`merged_form` of every published version of the campaign's questionnaire."""
    versions = versions_of(session, campaign)
    if not versions:
        raise NoQuestionnaireError(
            [
                Problem(
                    f"campaign `{campaign.slug}`",
                    "has no published questionnaire; load the campaign file first",
                )
            ]
        )
    return merged_form([form_of(v) for v in versions])


def response_codes(session: Session, campaign: Campaign) -> ResponseCodes:
    """The campaign's versions, collection points and target groups as frame categories."""
    return ResponseCodes(
        versions={v.id: v.number for v in versions_of(session, campaign)},
        points={p.id: p.code for p in campaign.collection_points},
        groups={g.id: g.code for g in campaign.target_groups},
        channels=CHANNELS,
    )


def iter_response_chunks(
    session: Session,
    campaign: Campaign,
    form: Form | None = None,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_size`` responses with ``after_id < id <= up_to_id``, by id.

    Keyset pagination on the (campaign_id, id) index: each chunk is one query starting after
    the last id of the previous one, so memory stays bounded and no OFFSET scan grows with the
    campaign. ``form`` defaults to `campaign_form`.
    """
    form = form or campaign_form(session, campaign)
    codes = response_codes(session, campaign)
    cursor = after_id
    while True:
        query = (
            select(
                Response.id,
                Response.version_id,
                Response.channel,
                Response.collection_point_id,
                Response.target_group_id,
                Response.language,
                Response.submitted_at,
                Response.duration_seconds,
                Response.honeypot,
                Response.address_hash,
                Response.answers_fingerprint,
                Response.answers,
            )
            .where(Response.campaign_id == campaign.id, Response.id > cursor)
            .order_by(Response.id)
            .limit(chunk_size)
        )
        if up_to_id is not None:
            query = query.where(Response.id <= up_to_id)
        rows = session.execute(query).all()
        if not rows:
            return
        meta = meta_frame(rows, codes)
        answers = answers_frame([r.answers or {} for r in rows], form)
        yield pd.concat([meta, answers], axis=1)
        cursor = rows[-1].id
        if len(rows) < chunk_size:
            return


def frame_template(session: Session, campaign: Campaign, form: Form) -> pd.DataFrame:
    """An empty frame with every column and dtype of the campaign's response frames, including
    its collection points and target groups as categories."""
    return empty_frame(form, response_codes(session, campaign))


def response_frame(
    session: Session,
    campaign: Campaign,
    form: Form | None = None,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """All responses of the campaign (within the id range) as one frame, read in chunks."""
    form = form or campaign_form(session, campaign)
    chunks = list(
        iter_response_chunks(
            session, campaign, form, after_id=after_id, up_to_id=up_to_id, chunk_size=chunk_size
        )
    )
    if not chunks:
        return frame_template(session, campaign, form)
    return pd.concat(chunks, ignore_index=True)
