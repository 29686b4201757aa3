"""The expert's queue and scoring page, units' nominations, the organizer's overview, and the
CLI."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from minsheng.audit import AuditEvent
from reviews.assignment import expert_tasks
from reviews.experts import assign_expert, close_review_round, review_round
from reviews.models import GoldenIdea, Review
from reviews.scoring import submit_review
from reviews.suggestions import campaign_suggestions
from tests.factories import PASSWORD, UserFactory
from tests.reviews.builders import MANY, start_round, submit_suggestions

SCORE = {"authenticity": "4", "cause": "3", "feasibility": "5", "comment": "可行"}
BASE = "/campaigns/transport-2026/reviews"


def _expert_with_items(client, login, session, campaign, k=1, others=1):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    for _ in range(others):
        assign_expert(session, campaign, UserFactory(role="expert"))
    start_round(session, campaign, k=k)
    session.commit()
    return expert


def test_the_queue_lists_only_the_experts_items_masked_with_progress_search_and_theme(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign)
    mine = expert_tasks(session, campaign, expert)
    page = client.get(f"{BASE}/queue?lang=en")
    assert page.status_code == 200
    assert f"0 / {len(mine)} scored" in page.text
    assert "Deadline" in page.text
    shown = {int(n) for n in re.findall(r"/reviews/items/(\d+)", page.text)}
    assert shown == {t.suggestion_id for t in mine}
    assert "13812345678" not in page.text and "zhang.san@example.com" not in page.text
    one = mine[0].suggestion
    searched = client.get(f"{BASE}/queue?lang=en&q={one.text[:4]}")
    assert one.text in searched.text
    if one.theme:
        themed = client.get(f"{BASE}/queue?lang=en&theme={one.theme}")
        assert one.text in themed.text
    nothing = client.get(f"{BASE}/queue?lang=en&q=不存在的词")
    assert "No suggestions assigned to you match." in nothing.text
    assert "待评分建议" in client.get(f"{BASE}/queue?lang=zh_CN").text
    assert f"0 / {len(mine)}" in client.get("/reviews/").text


def test_an_expert_never_opens_an_item_assigned_to_someone_else(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign)
    mine = {t.suggestion_id for t in expert_tasks(session, campaign, expert)}
    other = next(s.id for s in campaign_suggestions(session, campaign) if s.id not in mine)
    assert client.get(f"{BASE}/items/{other}").status_code == 404
    assert client.post(f"{BASE}/items/{other}", data=SCORE).status_code == 404
    assert session.scalar(select(Review)) is None


def test_an_expert_not_assigned_gets_403(client, login, campaign, responses):
    login("expert")
    assert client.get(f"{BASE}/queue").status_code == 403


def test_department_users_cannot_open_the_overview(client, login, campaign):
    login("department")
    assert client.get(BASE).status_code == 403


def test_the_scoring_page_shows_anchors_saves_audits_and_moves_to_the_next_item(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign, others=0)
    first, second = sorted(t.suggestion_id for t in expert_tasks(session, campaign, expert))[:2]
    page = client.get(f"{BASE}/items/{first}?lang=zh_CN")
    assert "问题的真实性" in page.text and "无事实依据，问题不存在" in page.text
    assert "事实清楚，普遍存在且影响大" in page.text
    assert "score.js" in page.text
    answer = client.post(f"{BASE}/items/{first}", data=SCORE)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/reviews/items/{second}")
    stored = session.scalar(select(Review).where(Review.expert_id == expert.id))
    assert stored.scores == {"authenticity": 4, "cause": 3, "feasibility": 5}
    assert stored.comment == "可行" and stored.rubric.version == 1
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "review.score", AuditEvent.actor_id == expert.id
        )
    )
    form = client.get(f"{BASE}/items/{first}").text
    assert re.search(r'<input checked[^>]*name="feasibility"[^>]*value="5"', form)


def test_a_missing_criterion_is_shown_again_with_the_error_and_what_was_typed(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign)
    item = expert_tasks(session, campaign, expert)[0].suggestion_id
    answer = client.post(
        f"{BASE}/items/{item}?lang=en",
        data={"authenticity": "4", "cause": "3", "comment": "值得推广"},
    )
    assert answer.status_code == 422
    assert re.search(r'<p class="error" id="feasibility-error">This field is required', answer.text)
    assert re.search(r'<input checked id="authenticity-3"[^>]*value="4"', answer.text)
    assert "\n值得推广</textarea>" in answer.text
    assert session.scalar(select(Review)) is None


def test_a_score_after_the_round_closed_is_refused_keeping_the_form(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign)
    item = expert_tasks(session, campaign, expert)[0].suggestion_id
    close_review_round(session, campaign)
    session.commit()
    answer = client.post(f"{BASE}/items/{item}?lang=en", data={**SCORE, "comment": "晚了一步"})
    assert answer.status_code == 422
    assert "round: the review round of &#39;transport-2026&#39; is closed" in answer.text
    assert "\n晚了一步</textarea>" in answer.text


def test_peers_and_discussion_open_after_ones_own_score_and_a_revision_is_kept(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign, k=2, others=1)
    item = expert_tasks(session, campaign, expert)[0].suggestion_id
    peer = next(t.expert for t in expert_tasks_of_item(session, item) if t.expert_id != expert.id)
    submit_review(
        session, campaign, peer, item, {"authenticity": 2, "cause": 2, "feasibility": 2}, "成本高"
    )
    session.commit()
    before = client.get(f"{BASE}/items/{item}?lang=en").text
    assert "成本高" not in before
    assert "once you have submitted your own" in before
    refused = client.post(
        f"{BASE}/items/{item}/discussion?lang=en", data={"discuss-text": "我先说"}
    )
    assert refused.status_code == 422 and "submit your own score first" in refused.text
    client.post(f"{BASE}/items/{item}", data=SCORE)
    after = client.get(f"{BASE}/items/{item}?lang=en").text
    assert "成本高" in after and "Expert 1" in after
    client.post(f"{BASE}/items/{item}/discussion", data={"discuss-text": "可以分期实施"})
    client.post(f"{BASE}/items/{item}", data={**SCORE, "feasibility": "3"})
    versions = session.scalars(
        select(Review.version).where(Review.expert_id == expert.id).order_by(Review.version)
    ).all()
    assert versions == [1, 2]
    assert "可以分期实施" in client.get(f"{BASE}/items/{item}?lang=en").text


def expert_tasks_of_item(session, item):
    from reviews.models import ReviewTask

    return session.scalars(select(ReviewTask).where(ReviewTask.suggestion_id == item)).all()


def test_an_expert_recuses_with_a_reason_and_the_item_leaves_their_queue(
    client, login, session, campaign, responses
):
    expert = _expert_with_items(client, login, session, campaign, others=2)
    item = expert_tasks(session, campaign, expert)[0].suggestion_id
    refused = client.post(f"{BASE}/items/{item}/step-down?lang=en", data={"step-status": "recused"})
    assert refused.status_code == 422
    client.post(
        f"{BASE}/items/{item}/step-down",
        data={"step-status": "recused", "step-reason": "是我的邻居"},
    )
    assert client.get(f"{BASE}/items/{item}").status_code == 404


def test_organizer_starts_the_round_edits_the_rubric_and_sees_progress_agreement_ranking(
    client, login, session, campaign
):
    submit_suggestions(session, campaign, MANY[:6])
    experts = [UserFactory(role="expert") for _ in range(3)]
    session.commit()
    organizer = login("organizer")
    for expert in experts:
        client.post(f"{BASE}/experts", data={"assign-username": expert.username})
    client.post(
        f"{BASE}/experts",
        data={"assign-username": experts[0].username, "assign-district": "nowhere"},
    )
    bad = client.post(f"{BASE}/rubric?lang=en", data={"rubric-spec": "- key: x\n  weight: -1\n"})
    assert bad.status_code == 422
    assert "criteria[1].weight: got -1; expected a number above 0" in bad.text
    broken = client.post(f"{BASE}/rubric?lang=en", data={"rubric-spec": "- key: [x\n"})
    assert broken.status_code == 422 and "not valid YAML" in broken.text
    page = client.get(f"{BASE}?lang=en").text
    spec = re.search(r'<textarea[^>]*name="rubric-spec"[^>]*>\n?(.*?)</textarea>', page, re.S)[1]
    import html

    spec = html.unescape(spec).replace("weight: 1.0\n  gate: null", "weight: 2.0\n  gate: null", 1)
    saved = client.post(f"{BASE}/rubric", data={"rubric-spec": spec})
    assert saved.status_code == 302, re.findall(
        r'<div class="error-summary".*?</div>', saved.text, re.S
    )
    started = client.post(f"{BASE}/assign", data={})
    assert started.status_code == 302, re.findall(
        r'<div class="error-summary".*?</div>', started.text, re.S
    )
    page = client.get(f"{BASE}?lang=en").text
    # The edited rubric is the campaign's first version (the default was never stored).
    assert "6 suggestions under review, rubric version 1." in page
    weights = {c.key: c.weight for c in review_round(session, campaign).rubric.criteria}
    assert weights == {"authenticity": 1.0, "cause": 2.0, "feasibility": 1.0}
    assert page.count("0 / 6") == 3  # k = 3 of 3 experts: every expert every item
    for expert in experts:
        for i, item in enumerate(campaign_suggestions(session, campaign)):
            value = 5 - i % 5
            submit_review(
                session,
                campaign,
                expert,
                item.id,
                dict.fromkeys(("authenticity", "cause", "feasibility"), value),
            )
    session.commit()
    page = client.get(f"{BASE}?lang=en").text
    assert "6 / 6" in page and "ICC(2,1)" in page and "Alpha (ratio)" in page
    assert "Weighted total" in page
    assert page.index(MANY[0]) < page.index(MANY[4])
    del organizer


def test_a_linked_department_nominates_on_its_page_and_the_panel_records_a_golden_idea(
    client, login, session, campaign, responses
):
    assign_expert(session, campaign, UserFactory(role="expert"))
    start_round(session, campaign, k=1)
    session.commit()
    item = campaign_suggestions(session, campaign)[0]
    login("department", department_code=campaign.departments[0].code)
    page = client.get(f"{BASE}/nominations?lang=en")
    assert page.status_code == 200 and item.text in page.text
    refused = client.post(
        f"{BASE}/nominations?lang=en",
        data={"nominate-suggestion_id": "999999", "nominate-reason": "好"},
    )
    assert refused.status_code == 422
    assert "no suggestion 999999 in campaign" in refused.text
    done = client.post(
        f"{BASE}/nominations",
        data={"nominate-suggestion_id": item.id, "nominate-reason": "群众反映集中"},
    )
    assert done.status_code == 302
    client.get("/logout")
    login("organizer")
    close_review_round(session, campaign)
    session.commit()
    page = client.get(f"{BASE}?lang=en").text
    assert campaign.departments[0].name in page
    nomination_id = int(page.split('name="golden-nomination_id" value="')[1].split('"')[0])
    client.post(
        f"{BASE}/golden-ideas",
        data={"golden-nomination_id": nomination_id, "golden-citation": "惠及夜归通勤者"},
    )
    assert session.scalar(select(GoldenIdea)).citation == "惠及夜归通勤者"


def test_experts_cannot_open_the_nomination_page(client, login, session, campaign, responses):
    _expert_with_items(client, login, session, campaign)
    assert client.get(f"{BASE}/nominations").status_code == 403


def test_cli_starts_the_round_and_prints_agreement_and_ranking(
    runner, session, campaign, responses
):
    expert = UserFactory(role="expert")
    session.commit()
    result = runner.invoke(args=["reviews", "assign", "transport-2026", expert.username])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(args=["reviews", "assign", "transport-2026", "nobody"])
    assert missing.exit_code == 2 and "nobody: no such user" in missing.output
    started = runner.invoke(args=["reviews", "start", "transport-2026"])
    assert "5 reviews assigned, 0 conflicts excluded" in started.output, started.output
    item = campaign_suggestions(session, campaign)[0]
    submit_review(
        session, campaign, expert, item.id, {"authenticity": 4, "cause": 4, "feasibility": 4}
    )
    session.commit()
    rows = json.loads(runner.invoke(args=["reviews", "agreement", "transport-2026"]).output)
    assert [r["criterion"] for r in rows] == ["authenticity", "cause", "feasibility", None]
    ranking = runner.invoke(args=["reviews", "ranking", "transport-2026"])
    assert f"1\t{item.id}\t4.00 [4.00, 4.00]\tn=1" in ranking.output
    assert runner.invoke(args=["reviews", "close", "transport-2026"]).exit_code == 0


def test_organizer_assigns_experts_and_both_annotate(client, login, session, campaign):
    expert = UserFactory(role="expert")
    session.commit()
    login("organizer")
    base = "/campaigns/transport-2026/reviews"
    client.post(f"{base}/experts", data={"assign-username": expert.username})
    client.post(
        f"{base}/annotations",
        data={"annotation-question": "sat_bus", "annotation-text": "公交满意度偏低"},
    )
    page = client.get(f"{base}?lang=en")
    assert expert.username in page.text
    assert "公交满意度偏低" in page.text


def test_refused_review_forms_come_back_with_what_was_typed_under_their_fields(
    client, login, session, campaign
):
    organizer = UserFactory(role="organizer")
    session.commit()
    login("organizer")
    base = "/campaigns/transport-2026/reviews"
    unknown = client.post(f"{base}/experts?lang=en", data={"assign-username": "nobody-here"})
    assert unknown.status_code == 422
    assert '<p class="error" id="assign-username-error">No user nobody-here.' in unknown.text
    assert 'value="nobody-here"' in unknown.text
    not_expert = client.post(
        f"{base}/experts?lang=en", data={"assign-username": organizer.username}
    )
    assert not_expert.status_code == 422
    assert "has role &#39;organizer&#39;; only role &#39;expert&#39;" in not_expert.text
    assert 'href="#assign-username"' in not_expert.text
    empty = client.post(
        f"{base}/annotations?lang=en",
        data={"annotation-question": "sat_bus", "annotation-text": "   "},
    )
    assert empty.status_code == 422
    assert re.search(
        r'id="annotation-text-error">(This field is required|an annotation)', empty.text
    )
    assert '<option selected value="sat_bus">' in empty.text
    assert "{&#39;" not in unknown.text + not_expert.text + empty.text


def test_overview_forms_carry_their_csrf_token_when_protection_is_on(
    make_app, bind_app, session, campaign
):
    app = bind_app(make_app(WTF_CSRF_ENABLED=True))
    client = app.test_client()
    organizer = UserFactory(role="organizer")
    session.commit()
    with app.app_context():
        login_page = client.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)[1]
        client.post(
            "/login",
            data={"username": organizer.username, "password": PASSWORD, "csrf_token": token},
        )
        page = client.get("/campaigns/transport-2026/reviews").text
        token = re.search(r'name="round-csrf_token" type="hidden" value="([^"]+)"', page)[1]
        refused = client.post(
            "/campaigns/transport-2026/reviews/round", data={"round-action": "close"}
        )
        assert refused.status_code == 400
        client.post(
            "/campaigns/transport-2026/reviews/round",
            data={"round-action": "close", "round-csrf_token": token},
        )
        assert (
            "Closed: scores are final."
            in client.get("/campaigns/transport-2026/reviews?lang=en").text
        )


def test_old_review_urls_redirect_permanently_to_the_campaign_pages(client, login, campaign):
    login("organizer")
    old = client.get("/reviews/campaigns/transport-2026?lang=en")
    assert old.status_code == 308
    assert old.headers["Location"] == "/campaigns/transport-2026/reviews?lang=en"
    posted = client.post("/reviews/campaigns/transport-2026/round", data={"round-action": "close"})
    assert posted.status_code == 308
    assert posted.headers["Location"] == "/campaigns/transport-2026/reviews/round"
    assert client.get(old.headers["Location"]).status_code == 200
