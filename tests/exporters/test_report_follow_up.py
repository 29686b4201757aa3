"""The report carries what the later stages added: an expert's reading under its question, the
golden ideas with their citation, and each adopted recommendation with its lead department,
stage, due date and whether it is on time; personal data in any of them masked."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from exporters.reports import produce_report, request_report
from forms.models import Response
from minsheng.db import local_date, utcnow
from minsheng.files import file_store
from recommendations.assignments import assign_to_departments
from recommendations.proposals import create_recommendation, decide
from reviews.annotations import annotate
from reviews.experts import close_review_round
from reviews.golden_ideas import choose_golden_ideas, nominate
from tests.factories import UserFactory

from .test_personal_data_masked import pdf_text


def test_report_shows_expert_readings_golden_ideas_and_adopted_recommendations(
    session, campaign, add_responses
):
    add_responses(40)
    organizer = UserFactory(role="organizer")
    session.flush()
    annotate(
        session, campaign, organizer, "sat_parking", "停车满意度偏低，建议优先研究错时共享停车。"
    )
    response_id = session.scalars(
        select(Response.id).where(Response.campaign_id == campaign.id).order_by(Response.id)
    ).first()
    session.get(Response, response_id).answers = {
        **session.get(Response, response_id).answers,
        "suggestion": "建议在地铁站出口设置共享单车停放区，联系13812345678",
    }
    session.flush()
    nomination = nominate(session, campaign, response_id, "suggestion", organizer.id)
    close_review_round(session, campaign)
    choose_golden_ideas(
        session, campaign, {nomination.id: "解决了地铁接驳最后一公里"}, organizer.id
    )
    adopted = create_recommendation(
        session, campaign, "推进错时共享停车", "在老旧小区周边推进错时共享停车。", "expert"
    )
    decide(session, adopted, "adopted", actor_id=organizer.id)
    lead, co = campaign.departments[0], campaign.departments[1]
    # The report judges "not yet due" on today: the last working day the calendar knows.
    assign_to_departments(
        session,
        adopted,
        lead,
        [co],
        deadline=date(2026, 12, 31),
        actor_id=organizer.id,
        today=min(local_date(utcnow()), date(2026, 12, 30)),
    )
    due = adopted.assignments[0].deadline
    refused = create_recommendation(
        session, campaign, "取消全部停车收费", "不予采纳的建议。", "expert"
    )
    decide(session, refused, "not_adopted", reason="与现行政策不符", actor_id=organizer.id)
    report = request_report(session, campaign, actor_id=organizer.id)
    session.commit()

    key = produce_report(session, report)
    assert key is not None, report.error
    with file_store().open(key) as stream:
        text = re.sub(r"\s+", "", pdf_text(stream.stream.read()))

    parking = text.rsplit("3.8您对停车便利程度的满意程度", 1)[1]
    assert (
        f"专家解读（{organizer.display_name}）停车满意度偏低，建议优先研究错时共享停车。" in parking
    )
    follow_up = text.rsplit("五、金点子与建议办理情况", 1)[1]
    assert "建议在地铁站出口设置共享单车停放区，联系138****5678" in follow_up
    assert "13812345678" not in text
    assert "解决了地铁接驳最后一公里" in follow_up
    row = follow_up.split("推进错时共享停车", 1)[1]
    due_text = f"{due.year}年{due.month}月{due.day}日"
    for cell in (lead.name, f"协办：{co.name}", "已交办", due_text, "未到期"):
        assert cell in row, cell
    assert "取消全部停车收费" not in follow_up


def test_a_report_rendered_for_nobody_leaves_the_recommendations_out(session, campaign, tmp_path):
    from exporters.pdf_report import render_campaign_report
    from tests.exporters.test_pdf_report import pdf_text as read

    adopted = create_recommendation(session, campaign, "推进错时共享停车", "内容。", "expert")
    decide(session, adopted, "adopted")
    session.commit()
    text = read(render_campaign_report(session, campaign, tmp_path))
    assert "推进错时共享停车" not in text
