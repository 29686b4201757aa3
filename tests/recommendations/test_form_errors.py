"""A refused form of the loop comes back with what was typed, each problem under its field and a
summary linking to the fields (status 422); never the raw `form.errors` dict."""

from __future__ import annotations

import io
import re

from recommendations.feedback import close, evaluate, publish_feedback
from recommendations.models import Recommendation
from recommendations.proposals import decide
from tests.recommendations.conftest import complete

BASE = "/campaigns/transport-2026/recommendations"


def _summary(text: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', text, re.S)
    assert found, "no error summary on the page"
    return found.group(0)


def _error(text: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', text, re.S)
    assert found, f"no error under {field_id!r}"
    return found.group(1)


def _no_raw_dict(text: str) -> None:
    assert "{&#39;" not in text and "[&#39;" not in text


def test_refused_steps_keep_what_was_typed_with_the_problem_under_its_field_or_in_the_summary(
    client, login, session, make_recommendation
):
    login("organizer")
    rec = make_recommendation()
    session.commit()
    page = client.post(f"{BASE}/{rec.id}/decision?lang=en", data={"decision": "not_adopted"})
    assert page.status_code == 422
    assert _error(page.text, "reason") == "a not_adopted decision needs a reason"
    assert '<a href="#reason">Reason (told to the suggesters): a not_adopted' in _summary(page.text)
    assert '<option selected value="not_adopted">' in page.text
    _no_raw_dict(page.text)
    # A state the recommendation is not in names no field: the summary says it.
    early = client.post(f"{BASE}/{rec.id}/feedback?lang=en", data={"text": "已办结"})
    assert early.status_code == 422
    allowed = "is &#39;proposed&#39;; feedback follows completion"
    assert allowed in _summary(early.text)
    assert "\n已办结</textarea>" in early.text
    session.refresh(rec)
    assert (rec.status, rec.public_feedback) == ("proposed", "")


def test_an_assignment_in_the_past_keeps_the_departments_and_the_date(
    client, login, session, make_recommendation, departments, on_day
):
    login("organizer")
    rec = make_recommendation()
    decide(session, rec, "adopted")
    session.commit()
    past = "2026-06-28"
    transport = departments["transport"].id
    page = client.post(
        f"{BASE}/{rec.id}/assignments?lang=en",
        data={"lead": transport, "deadline": past},
    )
    assert page.status_code == 422
    assert f"{past} is not a working day after today (2026-07-01)" in _error(page.text, "deadline")
    assert f'value="{past}"' in page.text
    assert f'<option selected value="{transport}">' in page.text
    missing = client.post(f"{BASE}/{rec.id}/assignments?lang=en", data={"lead": "0"})
    assert missing.status_code == 422
    assert "needs a lead" in _summary(missing.text)
    session.refresh(rec)
    assert rec.assignments == []


def test_progress_with_a_refused_file_keeps_the_note_under_that_assignment(
    client, login, session, assigned
):
    login("department", department_code="transport")
    (mine,) = [a for a in assigned.assignments if a.department.code == "transport"]
    prefix = f"a{mine.id}"
    page = client.post(
        f"{BASE}/assignments/{mine.id}/progress?lang=en",
        data={
            f"{prefix}-note": "已调整时刻表",
            f"{prefix}-attachments": (io.BytesIO(b"MZ"), "run.exe"),
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert "run.exe: type &#39;.exe&#39;; allowed .pdf" in _error(
        page.text, f"{prefix}-attachments"
    )
    assert "\n已调整时刻表</textarea>" in page.text
    assert f'href="#{prefix}-attachments"' in _summary(page.text)
    _no_raw_dict(page.text)
    session.refresh(mine)
    assert mine.updates == []


def test_an_evaluation_without_a_score_and_a_recognition_of_nobody_are_shown_again(
    client, login, session, assigned
):
    complete(session, assigned)
    publish_feedback(session, assigned, "已延后末班车。")
    session.commit()
    login("organizer")
    page = client.post(
        f"{BASE}/{assigned.id}/evaluations?lang=en",
        data={"rater": "organizer", "comment": "群众认可"},
    )
    assert page.status_code == 422
    assert "This field is required." in _error(page.text, "satisfaction")
    assert '<a href="#satisfaction-0">Satisfaction:' in _summary(page.text)
    assert 'value="群众认可"' in page.text
    evaluate(session, assigned, 4, "suggester")
    close(session, assigned)
    session.commit()
    refused = client.post(
        f"{BASE}/{assigned.id}/recognitions?lang=en",
        data={"kind": "expert", "expert": "no-such-expert", "note": "贡献突出"},
    )
    assert refused.status_code == 422
    assert _error(refused.text, "expert") == "name a user with role &#39;expert&#39;"
    assert 'value="no-such-expert"' in refused.text and 'value="贡献突出"' in refused.text
    _no_raw_dict(refused.text)


def test_a_new_recommendation_without_a_title_keeps_its_text(client, login, session, campaign):
    login("organizer")
    page = client.post(
        f"{BASE}?lang=en",
        data={"title": "", "text": "夏季候车酷热", "source": "expert", "golden_idea_id": "0"},
    )
    assert page.status_code == 422
    assert "This field is required." in _error(page.text, "title")
    assert "\n夏季候车酷热</textarea>" in page.text
    assert '<a href="#title">Title:' in _summary(page.text)
    assert session.query(Recommendation).count() == 0
