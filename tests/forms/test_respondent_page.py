"""The respondent pages behind a campaign's public link: one page per group, drafts, resume codes,
QR attribution, languages and the accessible error summary."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from campaigns.models import CollectionPoint
from forms.models import Draft, Response

EXAMPLE = Path(__file__).parents[2] / "examples" / "transport.yaml"
URL = "/s/transport-2026"

PAGES = [
    {"district": "wuhou", "age_group": "a30_44"},
    {"commute_mode": "metro", "commute_time": "m30_60", "problems": ["parking", "congestion"]},
    {"sat_bus": "3", "sat_metro": "4", "sat_parking": "2"},
    {"suggestion": "建议在地铁站周边增加非机动车停放区。"},
]


def count(session, model=Response):
    return session.scalar(select(func.count()).select_from(model))


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html
    )
    assert match, f"no hidden field {name}"
    return match.group(1)


def post_page(client, index, answers, nav="next", url=URL):
    page = client.get(f"{url}{'&' if '?' in url else '?'}page={index}").get_data(as_text=True)
    data = {
        "page": str(index),
        "nav": nav,
        "submission_id": hidden_value(page, "submission_id"),
        "started_at": hidden_value(page, "started_at"),
        **answers,
    }
    return client.post(url, data=data)


def walk(client, url=URL, pages=PAGES):
    """Answer every page in order and press Submit on the last one; return the last response."""
    for index, answers in enumerate(pages):
        last = index == len(pages) - 1
        reply = post_page(client, index, answers, "submit" if last else "next", url)
        if not last:
            assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply


def test_first_page_shows_first_group_with_progress_in_simplified_chinese(client, campaign):
    page = client.get(URL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "交通出行专项征集" in text
    assert "您居住在哪个区？" in text
    assert "您最主要的通勤方式是？" not in text
    assert "第 1 页，共 4 页" in text
    assert '<progress max="4" value="1"' in text
    assert "下一页" in text and "上一页" not in text


def test_page_switches_to_english(client, campaign):
    text = client.get(f"{URL}?lang=en").get_data(as_text=True)
    assert "Which district do you live in?" in text
    assert "Page 1 of 4" in text
    assert '<html lang="en">' in text


def test_next_saves_a_draft_and_shows_the_resume_code(client, session, campaign):
    reply = post_page(client, 0, PAGES[0])
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(f"{URL}?page=1")
    draft = session.scalars(select(Draft)).one()
    assert draft.answers == PAGES[0]
    assert draft.page == 1
    assert draft.response_id is None
    text = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "您最主要的通勤方式是？" in text
    assert "第 2 页，共 4 页" in text
    code = re.search(r'id="resume-code">([A-Z0-9-]+)<', text).group(1)
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
    assert draft.resume_code_hash != code.encode()


def test_errors_block_next_and_the_summary_links_to_each_field(client, session, campaign):
    reply = post_page(client, 0, {"district": "", "age_group": "a200"})
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert 'href="#district"' in text
    assert 'href="#age_group-0"' in text
    assert 'id="district"' in text and 'id="age_group-0"' in text
    assert 'aria-invalid="true"' in text
    assert 'aria-describedby="e-age_group"' in text
    assert "第 1 页，共 4 页" in text
    assert count(session, Draft) == 0


def test_errors_from_the_constraint_of_a_later_page_are_not_shown_early(client, campaign):
    reply = post_page(client, 0, PAGES[0])
    assert reply.status_code == 302
    reply = post_page(
        client, 1, {**PAGES[1], "problems": ["parking", "congestion", "safety", "sidewalk"]}
    )
    assert reply.status_code == 422
    assert "最多只能选择 3 项" in reply.get_data(as_text=True)


def test_back_keeps_what_was_typed_on_the_page(client, session, campaign):
    post_page(client, 0, PAGES[0])
    reply = post_page(client, 1, {"commute_mode": "bus"}, nav="back")
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("?page=0")
    assert session.scalars(select(Draft)).one().answers == {**PAGES[0], "commute_mode": "bus"}
    text = client.get(f"{URL}?page=1").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="bus"|value="bus"[^>]*checked', text)
    first = client.get(f"{URL}?page=0").get_data(as_text=True)
    assert re.search(r'<option selected value="wuhou">|<option value="wuhou" selected', first)


def test_clearing_an_answer_on_the_way_back_removes_it(client, session, campaign):
    post_page(client, 0, PAGES[0])
    post_page(client, 1, {"commute_mode": "bus"}, nav="back")
    post_page(client, 1, {"commute_mode": ""}, nav="back")
    assert "commute_mode" not in session.scalars(select(Draft)).one().answers


def test_the_whole_walk_stores_one_response_before_thanks(client, session, campaign):
    reply = walk(client)
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(f"{URL}/thanks")
    stored = session.scalars(select(Response)).one()
    assert stored.answers["problems"] == ["parking", "congestion"]
    assert stored.answers["district"] == "wuhou"
    assert stored.answers["suggestion"].startswith("建议")
    assert stored.channel == "web"
    assert stored.collection_point_id is None
    assert stored.language == "zh_CN"
    assert stored.duration_seconds is not None and stored.duration_seconds >= 0
    draft = session.scalars(select(Draft)).one()
    assert draft.response_id == stored.id
    assert draft.answers == {}
    thanks = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "您的意见已收到" in thanks


def test_a_repeated_final_submit_stores_one_response(client, session, campaign):
    for index, answers in enumerate(PAGES[:-1]):
        post_page(client, index, answers)
    page = client.get(f"{URL}?page=3").get_data(as_text=True)
    data = {
        "page": "3",
        "nav": "submit",
        "submission_id": hidden_value(page, "submission_id"),
        "started_at": hidden_value(page, "started_at"),
        **PAGES[3],
    }
    assert client.post(URL, data=data).status_code == 302
    assert client.post(URL, data=data).status_code == 302
    assert count(session) == 1


def test_after_submitting_the_link_starts_a_new_questionnaire(client, session, campaign):
    walk(client)
    text = client.get(URL).get_data(as_text=True)
    assert "第 1 页，共 4 页" in text
    assert "resume-code" not in text


def test_resume_code_continues_on_another_device(app, client, session, campaign):
    post_page(client, 0, PAGES[0])
    text = client.get(f"{URL}?page=1").get_data(as_text=True)
    code = re.search(r'id="resume-code">([A-Z0-9-]+)<', text).group(1)

    phone = app.test_client()
    assert "您居住在哪个区？" in phone.get(URL).get_data(as_text=True)
    reply = phone.post(f"{URL}/resume", data={"code": code.lower().replace("-", " ")})
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(f"{URL}?page=1")
    assert "您最主要的通勤方式是？" in phone.get(reply.headers["Location"]).get_data(as_text=True)
    for index, answers in enumerate(PAGES[1:], start=1):
        last = index == len(PAGES) - 1
        reply = post_page(phone, index, answers, "submit" if last else "next")
    assert reply.status_code == 302
    stored = session.scalars(select(Response)).one()
    assert stored.answers["district"] == "wuhou"
    assert stored.answers["sat_metro"] == "4"


def test_an_unknown_resume_code_is_refused_with_a_message(client, campaign):
    reply = client.post(f"{URL}/resume", data={"code": "ABCDE-FGHJK"})
    assert reply.status_code == 404
    assert "未找到该续填码" in reply.get_data(as_text=True)


def test_save_shows_the_code_without_checking_answers(client, session, campaign):
    reply = post_page(client, 0, {"district": "wuhou"}, nav="save")
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert "您的回答已保存" in text
    assert 'id="resume-code"' in text
    assert session.scalars(select(Draft)).one().answers == {"district": "wuhou"}


def test_qr_poster_link_attributes_the_response_to_its_collection_point(client, session, campaign):
    point = session.scalars(
        select(CollectionPoint).where(CollectionPoint.code == "jinniu-tea")
    ).one()
    url = f"{URL}?p=jinniu-tea"
    assert 'action="/s/transport-2026?p=jinniu-tea"' in client.get(url).get_data(as_text=True)
    reply = walk(client, url=url)
    assert reply.status_code == 302
    stored = session.scalars(select(Response)).one()
    assert stored.channel == "qr"
    assert stored.collection_point_id == point.id


def test_unknown_collection_point_code_still_accepts_the_response(client, session, campaign):
    assert walk(client, url=f"{URL}?p=nowhere").status_code == 302
    stored = session.scalars(select(Response)).one()
    assert (stored.channel, stored.collection_point_id) == ("web", None)


def test_submitting_without_earlier_pages_shows_the_first_page_with_errors(
    client, session, campaign
):
    reply = post_page(client, 3, PAGES[3], nav="submit")
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert "第 1 页，共 4 页" in text
    assert 'href="#district"' in text
    assert count(session) == 0


def test_closed_campaign_refuses_responses(client, session, campaign):
    for index, answers in enumerate(PAGES[:-1]):
        post_page(client, index, answers)
    last_page = client.get(f"{URL}?page=3").get_data(as_text=True)  # open before it closes
    campaign.status = "closed"
    session.commit()
    reply = client.post(
        URL,
        data={
            "page": "3",
            "nav": "submit",
            "submission_id": hidden_value(last_page, "submission_id"),
            "started_at": hidden_value(last_page, "started_at"),
            **PAGES[3],
        },
    )
    assert reply.status_code == 409
    assert "本问卷目前不接受填写" in reply.get_data(as_text=True)
    assert count(session) == 0


def test_a_closed_or_paused_campaign_says_so_before_anyone_starts(client, session, campaign):
    campaign.status = "paused"
    session.commit()
    page = client.get(URL).get_data(as_text=True)
    assert "本问卷暂停收集，请稍后再来。" in page and 'id="questionnaire"' not in page
    campaign.status = "closed"
    session.commit()
    page = client.get(f"{URL}?lang=en").get_data(as_text=True)
    assert "This questionnaire is closed." in page and 'id="questionnaire"' not in page


def test_questions_have_labels_and_choice_groups_have_legends(client, campaign):
    text = client.get(f"{URL}?page=1&lang=en").get_data(as_text=True)
    assert re.search(r"<fieldset[^>]*>\s*<legend>How do you mainly commute\?", text)
    assert '<label class="option" for="commute_mode-0">' in text
    assert '<label for="commute_mode_other">Please specify</label>' in text
    assert 'class="visually-hidden">(required)' in text


def test_csrf_token_is_required_when_protection_is_on(make_app, bind_app, campaign, session):
    app = bind_app(make_app(WTF_CSRF_ENABLED=True))
    client = app.test_client()
    with app.app_context():
        assert client.post(URL, data={"page": "0", "nav": "next", **PAGES[0]}).status_code == 400
        form = client.get(URL).get_data(as_text=True)
        token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        data = {"page": "0", "nav": "next", "csrf_token": token, **PAGES[0]}
        assert client.post(URL, data=data).status_code == 302
    assert count(session, Draft) == 1


def test_background_autosave_stores_the_draft_without_a_page(client, session, campaign):
    page = client.get(URL).get_data(as_text=True)
    data = {
        "page": "0",
        "nav": "save",
        "submission_id": hidden_value(page, "submission_id"),
        "district": "jinjiang",
    }
    reply = client.post(URL, data=data, headers={"X-Autosave": "1"})
    assert reply.status_code == 204
    assert session.scalars(select(Draft)).one().answers == {"district": "jinjiang"}
    assert 'id="resume-code"' in client.get(URL).get_data(as_text=True)


def test_switching_language_keeps_the_poster_code_and_the_page(client, campaign):
    text = client.get(f"{URL}?p=jinniu-tea").get_data(as_text=True)
    assert 'href="/s/transport-2026?p=jinniu-tea&amp;lang=en"' in text
    assert "English" in client.get(f"{URL}?p=jinniu-tea&lang=en").get_data(as_text=True)


def test_thanks_page_points_to_the_public_feedback(client, campaign):
    text = client.get("/s/transport-2026/thanks").get_data(as_text=True)
    assert 'href="/s/transport-2026/feedback"' in text
    assert "查看建议的办理和反馈情况" in text


def test_a_resume_code_sent_without_a_csrf_token_says_to_reload_the_page(
    make_app, bind_app, campaign
):
    app = bind_app(make_app(WTF_CSRF_ENABLED=True))
    client = app.test_client()
    with app.app_context():
        reply = client.post(f"{URL}/resume?lang=en", data={"code": "ABCDE-FGHJK"})
        assert reply.status_code == 400
        assert "The form expired or did not come from this site" in reply.get_data(as_text=True)
        reply = client.post(f"{URL}/resume?lang=zh_CN", data={"code": "ABCDE-FGHJK"})
        assert "表单已过期" in reply.get_data(as_text=True)
