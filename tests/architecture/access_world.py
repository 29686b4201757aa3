"""The world the authorization matrix is walked in: one campaign owned by an organizer, with
responses and suggestions, an assigned expert, a linked department holding a recommendation with
evidence, a rendered report and data export, a failed job, a background summary, a target list
with an import and a sample, invitation links; and one staff account per audience of
`minsheng.accounts.permissions.AUDIENCES`.

Everything is built through the domain functions users' actions call (style.md, habit 11), so
every URL of the map is requested with ids of rows the product really holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from analysis.tasks import request_summary
from contacts.import_jobs import run_import, start_import
from exporters.export_requests import produce_export, request_export
from exporters.reports import produce_report, request_report
from invitations.optout import signed_ref
from invitations.sampling import draw_sample
from minsheng.accounts.users import get_or_create_department
from minsheng.jobs import Job, update_job
from recommendations.assignments import accept, assign_to_departments, record_progress
from recommendations.evidence import Upload, evidence_name
from recommendations.proposals import decide
from reviews.assignment import assign_reviews
from reviews.experts import assign_expert, start_review_round
from reviews.suggestions import campaign_suggestions
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    ContactListFactory,
    InvitationFactory,
    RecommendationFactory,
    UserFactory,
)
from tests.reviews.builders import submit_suggestions

CONTACTS_CSV = "姓名,手机号,邮箱,district\r\n王芳,13700000001,wang@example.com,锦江区\r\n"


@dataclass
class World:
    """The ids every parameterised URL is filled with, and the user of each audience."""

    users: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    # The ids of a recommendation of the same campaign assigned to another department.
    foreign: dict[str, Any] = field(default_factory=dict)
    respondent_token: str = ""


def build_world(app: Flask, session: Session) -> World:
    """Build and commit the world; `app` signs the opt-out and open-tracking references."""
    world = World()
    campaign = CampaignFactory()
    users = {
        "owner": UserFactory(role="organizer"),
        "other_organizer": UserFactory(role="organizer"),
        "assigned_expert": UserFactory(role="expert"),
        "other_expert": UserFactory(role="expert"),
        "linked_department": UserFactory(
            role="department", department=get_or_create_department(session, "transport", "")
        ),
        "other_department": UserFactory(role="department"),
        "admin": UserFactory(role="admin"),
    }
    world.users = users
    campaign.owner = users["owner"]
    assign_expert(session, campaign, users["assigned_expert"], users["owner"].id)
    responses = submit_suggestions(session, campaign)
    # The round started: every suggestion a record, each assigned to the one expert.
    start_review_round(session, campaign, users["owner"].id)
    assign_reviews(session, campaign, users["owner"].id)

    recommendation = RecommendationFactory(campaign=campaign)
    decide(session, recommendation, "adopted")
    (assignment,) = assign_to_departments(
        session,
        recommendation,
        users["linked_department"].department,
        deadline=date(2026, 7, 15),
        today=date(2026, 7, 1),
    )
    accept(session, assignment, users["linked_department"])
    update = record_progress(
        session,
        assignment,
        users["linked_department"],
        "已完成现场调研",
        [Upload("调研报告.pdf", b"%PDF-1.4 evidence")],
    )

    elsewhere = RecommendationFactory(campaign=campaign)
    decide(session, elsewhere, "adopted")
    planning = next(d for d in campaign.departments if d.code == "planning")
    (foreign,) = assign_to_departments(
        session, elsewhere, planning, deadline=date(2026, 7, 15), today=date(2026, 7, 1)
    )
    accept(session, foreign, UserFactory(role="department", department=planning))
    foreign_update = record_progress(
        session, foreign, users["owner"], "规划局已受理", [Upload("受理单.pdf", b"%PDF-1.4")]
    )

    report = request_report(session, campaign, actor_id=users["owner"].id)
    failed = request_report(session, campaign, actor_id=users["owner"].id)
    session.commit()
    produce_report(session, report)
    # The anonymised package: the one export a linked department may download too.
    export = request_export(session, campaign, "datapackage", role="organizer")
    session.commit()
    assert produce_export(session, export, session.get(Job, export.job_id)) is not None
    # The second report's worker died for good: its job is failed and offers the retry button.
    update_job(session, session.get(Job, failed.job_id), state="failed", message="worker lost")

    contact_list = ContactListFactory(campaign=campaign)
    ContactFactory(contact_list=contact_list)
    import_job = start_import(session, contact_list, CONTACTS_CSV.encode(), "people.csv")
    session.commit()
    run_import(session, import_job.id)  # as a worker does, unless the commit already ran it
    session.refresh(import_job)
    assert import_job.state == "done", import_job.message
    summary = request_summary(session, campaign, ["district"])
    sample = draw_sample(session, campaign, contact_list, [], size=1, seed=1).sample
    _, token = InvitationFactory.with_token(campaign=campaign)
    invitation, world.respondent_token = InvitationFactory.with_token(campaign=campaign)
    session.commit()

    secret = str(app.config["SECRET_KEY"])
    world.values = {
        "slug": campaign.slug,
        "rec_id": recommendation.id,
        "assignment_id": assignment.id,
        "step": "accept",
        "recommendations.recommendation_step:step": "close",
        "name": evidence_name(str(update.attachments[0])),
        "report_id": report.id,
        "export_id": export.id,
        "job_id": failed.job_id,
        "contacts.import_job:job_id": import_job.id,
        "analysis_api.summary_job_status:job_id": summary.id,
        "analysis_api.retry_summary_job:job_id": summary.id,
        "list_id": contact_list.id,
        "import_id": import_job.result["import_id"],
        "sample_id": sample.id,
        "token": token,
        "invitations.opt_out:ref": signed_ref(secret, "opt-out", invitation.id),
        "invitations.opened:ref": signed_ref(secret, "open", 1),
        "response_id": responses[0].id,
        "question": "suggestion",
        "suggestion_id": campaign_suggestions(session, campaign)[0].id,
        "submission_id": responses[0].submission_id,
        "user_id": UserFactory(role="organizer").id,
        "target": "paused",  # a step the open campaign can take
        "rest": "",
    }
    world.foreign = {
        "rec_id": elsewhere.id,
        "assignment_id": foreign.id,
        "name": evidence_name(str(foreign_update.attachments[0])),
    }
    session.commit()
    return world
