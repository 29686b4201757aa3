"""What the thematic report says, read back from the PDF with pdftotext: dates in the campaign's
local time, valid responses per channel after the quality screen, the mean score with its
interval and scale."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from analysis.summary import summarize
from exporters.pdf_report import render_campaign_report
from forms.ingest import Submission, submit_response
from forms.models import Response
from forms.publishing import current_version

from .conftest import DAY_IN_CAMPAIGN, random_answers
from .test_pdf_report import pdf_text


def _submit(session, campaign, n, *, seconds, seed, channels=("web", "qr", "import")):
    rng = random.Random(seed)
    version = current_version(session, campaign)
    sent = []
    for i in range(n):
        channel = channels[i % len(channels)]
        submit_response(
            session,
            campaign,
            version,
            random_answers(rng),
            Submission(
                submission_id=f"content-{seed}-{i:05d}",
                channel=channel,
                started_at=datetime.now(UTC) - timedelta(seconds=seconds * rng.uniform(0.9, 1.1)),
            ),
            today=DAY_IN_CAMPAIGN,
        )
        sent.append(channel)
    session.commit()
    return Counter(sent)


def test_fieldwork_dates_are_the_campaigns_local_days_not_utc(
    session, campaign, add_responses, tmp_path
):
    add_responses(30)
    # 07:30 on 1 March in Beijing is 23:30 on 28 February in UTC; 23:30 on 6 December in Beijing
    # is still 6 December in UTC.
    first = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    ids = session.scalars(
        Response.__table__.select()
        .with_only_columns(Response.id)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id)
    ).all()
    session.execute(update(Response).where(Response.id == ids[0]).values(submitted_at=first))
    session.execute(
        update(Response)
        .where(Response.id.in_(ids[1:]))
        .values(submitted_at=datetime(2026, 12, 6, 15, 30, tzinfo=UTC))
    )
    session.commit()

    text = re.sub(r"\s+", "", pdf_text(render_campaign_report(session, campaign, tmp_path)))
    assert "提交时间为2026年3月1日至2026年12月6日" in text
    assert "2月28日" not in text


def test_channel_table_counts_valid_responses_after_the_quality_screen(session, campaign, tmp_path):
    received = _submit(session, campaign, 60, seconds=300, seed=1)
    # Far under 0.3 x the median duration: speeders, left out of the analysis.
    speeders = _submit(session, campaign, 6, seconds=5, seed=2, channels=("web", "qr"))
    summary = summarize(session, campaign)
    assert summary.n_responses == 60
    assert summary.responses_by["channel"] == dict(received)

    text = pdf_text(render_campaign_report(session, campaign, tmp_path))
    labels = {"web": "网络链接", "qr": "征集点位二维码", "import": "纸质问卷（录入）"}
    for channel, label in labels.items():
        row = next(line.split() for line in text.splitlines() if line.strip().startswith(label))
        total = received[channel] + speeders[channel]
        assert row[1:3] == [str(total), str(received[channel])], row
        assert row[3] == f"{100 * received[channel] / 60:.1f}%", row
    total_row = next(line.split() for line in text.splitlines() if line.strip().startswith("合计"))
    assert total_row[1:3] == ["66", "60"], total_row


def test_mean_score_has_its_interval_and_its_scale(session, campaign, add_responses, tmp_path):
    add_responses(200)
    mean = summarize(session, campaign).question("sat_parking").mean
    assert mean is not None and mean.ci_low is not None and mean.ci_high is not None

    text = re.sub(r"\s+", "", pdf_text(render_campaign_report(session, campaign, tmp_path)))
    expected = (
        f"平均分：{mean.estimate:.2f}（95%CI{mean.ci_low:.2f}–{mean.ci_high:.2f}；"
        "1=非常不满意，5=非常满意）"
    )
    assert expected in text
