"""What the thematic report says, read back from the PDF with pdftotext: dates in the campaign's
local time, valid responses per channel after the quality screen, the mean score with its
interval and scale."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import replace
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


def test_methods_give_the_quality_rules_with_counts_the_margin_of_error_and_text_coverage(
    session, campaign, tmp_path
):
    _submit(session, campaign, 60, seconds=300, seed=1)
    _submit(session, campaign, 6, seconds=5, seed=2, channels=("web", "qr"))
    summary = summarize(session, campaign)
    text = summary.question("suggestion").text
    assert text is not None and text.n_answers

    methods = re.sub(r"\s+", "", pdf_text(render_campaign_report(session, campaign, tmp_path)))
    methods = methods.split("二、调查方法", 2)[2].split("三、调查结果", 1)[0]
    assert "共收到问卷66份，其中6份（9.1%）因触犯下列数据质量规则未纳入分析" in methods
    assert re.search(r"答题过快用时不足中位用时的0\.3倍（中位用时\d+秒，界限\d+秒）6剔除", methods)
    minimum = summary.quality.minimum_duration
    assert f"用时少于问卷最短用时{minimum:.0f}秒的问卷，同样视为答题过快。" in methods
    assert "蜜罐字段" in methods and "填写了常人看不到的隐藏字段" in methods
    assert "本次征集未通过本系统发出定向邀请" in methods
    # Wilson's interval at p = 0.5: z sqrt(1/(4n) + z^2/(4n^2)) / (1 + z^2/n), z = 1.96.
    z, n = 1.959964, 60
    moe = 100 * z * (1 / (4 * n) + z**2 / (4 * n**2)) ** 0.5 / (1 + z**2 / n)
    assert f"误差范围最大为±{moe:.1f}个百分点（n=60，比例为50%时）" in methods
    assert "估计值未加权（设计效应为1）" in methods
    unthemed = 100 * text.n_unthemed / text.n_answers
    assert "未归入任何主题" in methods and f"（{unthemed:.1f}%）" in methods
    assert "置信区间和误差范围仅衡量同等规模随机样本的抽样波动" in methods
    assert "数据截止时间：" in methods and "局限性" in methods


def test_methods_give_the_aapor_response_rate_of_the_invitations(
    app, session, campaign, add_responses
):
    from analysis.summary import summarize as summarize_campaign
    from exporters.fieldwork import campaign_fieldwork
    from exporters.fonts import find_cjk_font
    from exporters.pdf_report import campaign_facts, report_html
    from minsheng.db import utcnow
    from tests.invitations.sending_helpers import build_worked_campaign

    invited, _ids = build_worked_campaign(app, session)
    fieldwork = campaign_fieldwork(session, invited, utcnow())
    assert (fieldwork.invited, fieldwork.sent, fieldwork.completed_invitations) == (12, 11, 4)
    assert fieldwork.rr1 == 4 / 12 and fieldwork.rr2 == 6 / 12

    add_responses(20)
    facts = replace(campaign_facts(session, campaign), fieldwork=fieldwork)
    html = report_html(
        summarize_campaign(session, campaign).to_dict(),
        facts,
        find_cjk_font(app.config["CJK_FONT_FAMILY"]),
    )
    assert (
        "共生成定向邀请 12 份，发出 11 份；完整作答 4 份、部分作答 2 份，"
        "按 AAPOR 标准计算的应答率 RR1 为 33.3%（计入部分作答的 RR2 为 50.0%）" in html
    )


def test_a_campaign_with_population_margins_gets_a_raked_report(
    session, campaign, add_responses, tmp_path, instance_folder
):
    add_responses(300)
    margins = {"age_group": {"a18_29": 250, "a30_44": 250, "a45_59": 250, "a60_plus": 250}}
    campaign.settings = {**(campaign.settings or {}), "weighting": {"margins": margins}}
    session.commit()
    raked = summarize(session, campaign, rake=True)
    assert raked.weighting is not None and raked.weighting.weights.design_effect > 1
    box = raked.question("sat_parking").top_box
    assert box is not None and box.estimate is not None

    text = re.sub(r"\s+", "", pdf_text(render_campaign_report(session, campaign, tmp_path)))
    assert "估计值按总体边际分布（age_group）进行迭代加权（raking）" in text
    assert f"设计效应为{raked.weighting.weights.design_effect:.2f}" in text
    assert "估计值未加权" not in text
    assert f"满意率仅{100 * box.estimate:.1f}%" in text
    # Read from the campaign's snapshot, as the results page is, not row by row from the database.
    assert (instance_folder / "snapshots" / str(campaign.id) / "manifest.json").is_file()


def test_a_small_channel_of_a_department_edition_cannot_be_worked_back_from_the_total(
    session, campaign, tmp_path
):
    _submit(session, campaign, 40, seconds=300, seed=1, channels=("web", "qr"))
    _submit(session, campaign, 12, seconds=300, seed=3, channels=("import",))
    _submit(session, campaign, 3, seconds=300, seed=4, channels=("api",))
    text = pdf_text(render_campaign_report(session, campaign, tmp_path, audience="department"))

    def row(label):
        return next(line.split() for line in text.splitlines() if line.strip().startswith(label))

    total = row("合计")
    assert total[1:3] == ["55", "55"], total
    # 3 by the API is hidden, and so is the next smallest channel, 12 on paper: otherwise
    # 55 - 20 - 20 would give the 3 away.
    assert row("合作平台（接口）")[1:3] == ["—", "—"]
    assert row("纸质问卷（录入）")[1:3] == ["—", "—"]
    assert row("网络链接")[1:3] == ["20", "20"]


def test_with_too_few_timed_responses_for_a_median_the_minimum_time_still_applies(
    session, campaign, tmp_path
):
    _submit(session, campaign, 4, seconds=300, seed=3)
    _submit(session, campaign, 2, seconds=3, seed=4)

    methods = re.sub(r"\s+", "", pdf_text(render_campaign_report(session, campaign, tmp_path)))

    assert "共收到问卷6份，其中2份" in methods
    assert re.search(r"答题过快用时少于问卷最短用时\d+秒2剔除", methods)
