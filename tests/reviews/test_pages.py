"""The expert's queue and scoring form, the organizer's overview, and the CLI."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from minsheng.audit import AuditEvent
from reviews.experts import assign_expert, close_review_round
from reviews.models import GoldenIdea, SuggestionScore
from reviews.scoring import score_suggestion
from tests.factories import PASSWORD, UserFactory

SCORE = {"authenticity": "4", "cause": "3", "feasibility": "5", "comment": "可行"}


def test_expert_queue_lists_masked_suggestions_of_assigned_campaigns(
    client, login, session, campaign, responses
):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    session.commit()
    page = client.get("/campaigns/transport-2026/reviews/queue?lang=en")
    assert page.status_code == 200
    assert "建议增加地铁末班车的班次" in page.text
    assert "138****5678" in page.text
    assert "13812345678" not in page.text
    assert "5 not scored yet" in page.text
    assert "transport-2026" in client.get("/reviews/").text
    assert "待评分建议" in client.get("/campaigns/transport-2026/reviews/queue?lang=zh_CN").text


def test_an_expert_not_assigned_gets_403(client, login, campaign, responses):
    login("expert")
    assert client.get("/campaigns/transport-2026/reviews/queue").status_code == 403


def test_department_users_cannot_open_review_pages(client, login, campaign):
    login("department")
    assert client.get("/campaigns/transport-2026/reviews").status_code == 403


def test_scoring_form_stores_the_score_and_audits_it(client, login, session, campaign, responses):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    session.commit()
    url = f"/campaigns/transport-2026/reviews/suggestions/{responses[0].id}/suggestion"
    assert "建议增加地铁末班车的班次" in client.get(url).text
    answer = client.post(url, data=SCORE)
    assert answer.status_code == 302
    stored = session.scalar(select(SuggestionScore).where(SuggestionScore.expert_id == expert.id))
    assert (stored.authenticity, stored.cause, stored.feasibility) == (4, 3, 5)
    assert stored.comment == "可行"
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "review.score", AuditEvent.actor_id == expert.id
        )
    )
    # The form shows the earlier score for editing.
    form = client.get(url).text
    assert re.search(r'<input checked[^>]*name="feasibility"[^>]*value="5"', form)


def test_scoring_form_with_a_missing_criterion_is_shown_again_with_the_error(
    client, login, session, campaign, responses
):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    session.commit()
    url = f"/campaigns/transport-2026/reviews/suggestions/{responses[0].id}/suggestion?lang=en"
    answer = client.post(url, data={"authenticity": "4", "cause": "3", "comment": "值得推广"})
    assert answer.status_code == 422
    assert re.search(r'<p class="error" id="feasibility-error">This field is required', answer.text)
    summary = re.search(r'<div class="error-summary".*?</div>', answer.text, re.S)[0]
    assert '<a href="#feasibility-0">Feasibility of the remedy: This field is required' in summary
    assert re.search(r'<input checked id="authenticity-3"[^>]*value="4"', answer.text)
    assert "\n值得推广</textarea>" in answer.text
    assert "{&#39;" not in answer.text
    assert session.scalar(select(SuggestionScore)) is None


def test_a_score_after_the_round_closed_is_refused_in_the_summary_keeping_the_form(
    client, login, session, campaign, responses
):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    close_review_round(session, campaign)
    session.commit()
    url = f"/campaigns/transport-2026/reviews/suggestions/{responses[0].id}/suggestion?lang=en"
    answer = client.post(url, data={**SCORE, "comment": "晚了一步"})
    assert answer.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', answer.text, re.S)[0]
    assert "round: the review round of &#39;transport-2026&#39; is closed" in summary
    assert "\n晚了一步</textarea>" in answer.text
    assert session.scalar(select(SuggestionScore)) is None


def test_organizer_overview_shows_agreement_ranking_and_golden_idea_flow(
    client, login, session, campaign, responses
):
    experts = [UserFactory(role="expert") for _ in range(2)]
    for expert in experts:
        assign_expert(session, campaign, expert)
        for i, response in enumerate(responses[:5]):
            value = 5 - i
            scores = {"authenticity": value, "cause": value, "feasibility": value}
            score_suggestion(session, campaign, expert, response.id, "suggestion", scores)
    session.commit()
    login("organizer")
    page = client.get("/campaigns/transport-2026/reviews?lang=en")
    assert page.status_code == 200
    assert "ICC(2,1)" in page.text
    assert "1.00" in page.text  # identical scores: perfect agreement
    assert page.text.index("建议增加地铁末班车的班次") < page.text.index("立体停车场")

    top = responses[0].id
    base = "/campaigns/transport-2026/reviews"
    client.post(
        f"{base}/nominations",
        data={"nominate-response_id": top, "nominate-question_name": "suggestion"},
    )
    refused = client.post(
        f"{base}/golden-ideas?lang=en", data={"golden-nomination_id": 1, "golden-citation": "x"}
    )
    assert refused.status_code == 422
    assert "round: close the review round first" in refused.text
    client.post(f"{base}/round", data={"round-action": "close"})
    page = client.get(f"{base}?lang=en")
    assert "Closed: scores are final." in page.text
    nomination_id = int(page.text.split('name="golden-nomination_id" value="')[1].split('"')[0])
    blank = client.post(
        f"{base}/golden-ideas?lang=en",
        data={"golden-nomination_id": nomination_id, "golden-citation": " "},
    )
    assert blank.status_code == 422  # shown again in the nomination's row, under the citation
    assert re.search(
        r'id="golden-citation-error">(This field is required|needs a citation)', blank.text
    )
    assert 'href="#golden-citation"' in blank.text
    client.post(
        f"{base}/golden-ideas",
        data={"golden-nomination_id": nomination_id, "golden-citation": "惠及夜归通勤者"},
    )
    assert session.scalar(select(GoldenIdea)).citation == "惠及夜归通勤者"
    assert "Golden idea" in client.get(f"{base}?lang=en").text
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"review.nominate", "review.close_round", "review.golden_idea"} <= actions


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


def test_an_experts_refused_annotation_stays_on_the_queue_with_the_text(
    client, login, session, campaign, responses
):
    expert = login("expert")
    assign_expert(session, campaign, expert)
    session.commit()
    page = client.post(
        "/campaigns/transport-2026/reviews/annotations?lang=en",
        data={"annotation-question": "sat_bus", "annotation-text": "长" * 5001},
    )
    assert page.status_code == 422
    assert "Annotation: Field cannot be longer than 5000 characters." in page.text
    assert "5 not scored yet" in page.text  # the queue, not the organizer's overview
    assert "长" * 5001 + "</textarea>" in page.text


def test_cli_assigns_experts_and_prints_agreement(runner, session, campaign, responses):
    expert = UserFactory(role="expert")
    session.commit()
    result = runner.invoke(args=["reviews", "assign", "transport-2026", expert.username])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(args=["reviews", "assign", "transport-2026", "nobody"])
    assert missing.exit_code == 2
    assert "nobody: no such user" in missing.output
    score_suggestion(
        session,
        campaign,
        expert,
        responses[0].id,
        "suggestion",
        {"authenticity": 4, "cause": 4, "feasibility": 4},
    )
    session.commit()
    agreement = runner.invoke(args=["reviews", "agreement", "transport-2026"])
    rows = json.loads(agreement.output)
    assert [r["criterion"] for r in rows] == ["authenticity", "cause", "feasibility"]
    assert rows[0]["icc"]["note"] == "needs 2 targets and 2 judges"
    ranking = runner.invoke(args=["reviews", "ranking", "transport-2026"])
    assert f"{responses[0].id}:suggestion\t4.00\tn=1" in ranking.output
    closed = runner.invoke(args=["reviews", "close", "transport-2026"])
    assert closed.exit_code == 0, closed.output
    # The commands are audited once each, by the domain functions they call.
    audited = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in audited if a.startswith("review.")] == [
        "review.assign_expert",
        "review.score",
        "review.close_round",
    ]


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


def test_a_refused_nomination_form_shows_its_field_errors_not_a_raw_dict(client, login, campaign):
    login("organizer")
    base = "/campaigns/transport-2026/reviews"
    refused = client.post(f"{base}/nominations?lang=en", data={"nominate-reason": "值得推广"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert '<p class="error" id="nominate-response_id-error">This field is required.' in page
    assert '<a href="#nominate-response_id">Nominate suggestion no.: This field' in page
    assert 'value="值得推广"' in page
    assert "{&#39;" not in page and "nomination form:" not in page
    unknown = client.post(
        f"{base}/nominations?lang=en",
        data={"nominate-response_id": "999999", "nominate-question_name": "suggestion"},
    )
    assert unknown.status_code == 422
    assert re.search(r'id="nominate-response_id-error">response 999999 of campaign', unknown.text)
    assert 'value="999999"' in unknown.text


def test_old_review_urls_redirect_permanently_to_the_campaign_pages(client, login, campaign):
    login("organizer")
    old = client.get("/reviews/campaigns/transport-2026?lang=en")
    assert old.status_code == 308
    assert old.headers["Location"] == "/campaigns/transport-2026/reviews?lang=en"
    posted = client.post("/reviews/campaigns/transport-2026/round", data={"round-action": "close"})
    assert posted.status_code == 308
    assert posted.headers["Location"] == "/campaigns/transport-2026/reviews/round"
    assert client.get(old.headers["Location"]).status_code == 200
