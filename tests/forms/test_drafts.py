"""Drafts as domain functions: resume codes, page merging, submitting a draft once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forms.drafts import (
    code_hash,
    draft_by_code,
    merge_answers,
    new_resume_code,
    normalise_code,
    page_problems,
    page_with_problem,
    shown_pages,
    start_draft,
    submission_of,
)
from forms.ingest import Outcome, Submission, submit
from forms.models import Response
from forms.publishing import form_of, load_campaign_file
from minsheng.errors import Problem

FIXTURE = Path(__file__).parents[1] / "e2e" / "fixtures" / "community.yaml"
ANSWERS = {
    "district": "wuhou",
    "street": "yulin",
    "age": "35",
    "has_car": "no",
    "nps": "7",
}


@pytest.fixture()
def loaded(session):
    campaign, version = load_campaign_file(session, str(FIXTURE))
    session.commit()
    return campaign, version


def test_resume_codes_are_random_readable_and_stored_hashed(session, loaded):
    campaign, version = loaded
    codes = {new_resume_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(normalise_code(c)) == 10 and not set(c) & set("01IOL") for c in codes)
    draft, code = start_draft(session, campaign, version, Submission("sid-00000001"))
    assert draft.resume_code_hash == code_hash(code)
    assert draft_by_code(session, campaign, f" {code.lower().replace('-', '')} ") is draft
    assert draft_by_code(session, campaign, "ABCDE-FGHJK") is None
    assert draft_by_code(session, campaign, "") is None


def test_an_invitation_draft_has_no_code(session, loaded):
    from invitations.tokens import create_invitation

    campaign, version = loaded
    invitation, _token = create_invitation(session, campaign)
    draft, code = start_draft(
        session, campaign, version, Submission("sid-00000002", invitation_id=invitation.id)
    )
    assert code is None and draft.resume_code_hash is None


def test_merging_a_page_replaces_only_that_pages_answers():
    merged = merge_answers(
        {"district": "wuhou", "age": "35", "has_car": "yes"},
        {"district": "jinjiang", "age": ""},
        ["district", "street", "age"],
    )
    assert merged == {"district": "jinjiang", "has_car": "yes"}


def test_pages_follow_the_group_relevance(loaded):
    form = form_of(loaded[1])
    assert shown_pages(form, {}) == [0, 1, 3]
    assert shown_pages(form, {"has_car": "yes"}) == [0, 1, 2, 3]


def test_page_problems_ignore_other_pages(loaded):
    form = form_of(loaded[1])
    problems = page_problems(form, {"district": "wuhou"}, ["district", "street", "age"], "zh_CN")
    assert {p.location for p in problems} == {"street", "age"}
    assert page_with_problem(form, [Problem("nps", "x"), Problem("age", "y")], 3) == 0


def submit_draft(session, campaign, draft):
    return submit(session, campaign.slug, draft.answers, submission_of(draft), draft=draft)


def test_submitting_a_draft_twice_stores_one_response_and_empties_the_draft(session, loaded):
    campaign, version = loaded
    draft, _code = start_draft(session, campaign, version, Submission("sid-00000003"))
    draft.answers = dict(ANSWERS)
    first = submit_draft(session, campaign, draft)
    assert first.outcome is Outcome.STORED and first.response.answers["age"] == 35
    assert draft.response_id == first.response.id and draft.answers == {}
    draft.answers = dict(ANSWERS)
    again = submit_draft(session, campaign, draft)
    assert (again.response.id, again.outcome) == (first.response.id, Outcome.REPEATED)
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_an_incomplete_draft_is_refused_with_every_problem(session, loaded):
    campaign, version = loaded
    draft, _code = start_draft(session, campaign, version, Submission("sid-00000004"))
    draft.answers = {"district": "wuhou"}
    refused = submit_draft(session, campaign, draft)
    assert refused.outcome is Outcome.INVALID and refused.response is None
    assert {p.location for p in refused.problems} >= {"street", "age", "has_car", "nps"}
