"""A refused staff form comes back with what was typed, each message under its field (tied to
the input by aria-describedby) and a summary at the top linking to the fields; never the raw
`form.errors` dict."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from contacts.models import Contact, ContactList
from invitations.models import Quota, Sample
from tests.factories import CampaignFactory

from .builders import csv_bytes, people
from .sending_helpers import invited_campaign


def _input(text: str, name: str) -> str:
    found = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', text)
    assert found, f"no input {name!r} in the page"
    return found.group(0)


def _summary(text: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', text, re.S)
    assert found, "no error summary on the page"
    return found.group(0)


def _upload_list(client, session, size: int = 40) -> int:
    client.post(
        "/invitations/lists/",
        data={"file": (io.BytesIO(csv_bytes(people(size))), "p.csv"), "list_name": "s"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    return session.scalar(select(ContactList.id).where(ContactList.name == "s"))


def test_a_refused_sample_keeps_the_typed_values_and_shows_the_problem_under_its_field(
    client, login, session
):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    list_id = _upload_list(client, session)
    page = client.post(
        f"/invitations/campaigns/{camp.slug}/sample?lang=en",
        data={"list_id": list_id, "by": "district", "allocation": "proportional", "count": 1000},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    count = _input(text, "count")
    assert 'value="1000"' in count
    assert 'aria-invalid="true"' in count and 'aria-describedby="count-error"' in count
    assert re.search(r'<p class="error" id="count-error">got 1000; expected 1 to 40', text)
    assert 'value="district"' in _input(text, "by")
    summary = _summary(text)
    assert "Please correct the following:" in summary
    assert '<a href="#count">Sample size, or number per stratum: got 1000' in summary
    assert "{'" not in text  # no raw errors dict
    assert session.scalar(select(func.count()).select_from(Sample)) == 0


def test_a_refused_quota_keeps_the_typed_stratum_and_maximum(client, login, session):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    page = client.post(
        f"/invitations/campaigns/{camp.slug}/quotas?lang=en",
        data={"stratum": "锦江区, age=18-34", "maximum": 3},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'value="锦江区, age=18-34"' in _input(text, "stratum")
    assert 'value="3"' in _input(text, "maximum")
    assert 'id="stratum-error">got &#39;锦江区&#39;; expected attribute=value' in text
    assert '<a href="#stratum">' in _summary(text)
    assert session.scalar(select(func.count()).select_from(Quota)) == 0


def test_an_upload_without_a_list_name_says_so_under_the_field(client, login, session):
    login("organizer")
    page = client.post(
        "/invitations/lists/?lang=en",
        data={"file": (io.BytesIO(csv_bytes(people(2))), "p.csv"), "required": "district"},
        content_type="multipart/form-data",
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="list_name-error">This field is required.' in text
    assert 'aria-describedby="list_name-error"' in _input(text, "list_name")
    assert 'value="district"' in _input(text, "required")
    assert '<a href="#list_name">Target list: This field is required.' in _summary(text)
    assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_problems_of_no_field_are_listed_in_the_summary_with_their_location(client, login, session):
    templates = {"invitation": {"sms": {"en": {"text": "{{ link }}"}}}}
    camp, _ = invited_campaign(session, 1, settings={"sending": {"templates": templates}})
    login("organizer")
    page = client.post(
        f"/campaigns/{camp.slug}/sending?lang=en", data={"kind": "invitation", "channel": "sms"}
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    summary = _summary(text)
    assert "<li>settings.sending.templates.invitation.sms.en: template en/invitation.sms" in summary
    assert "has no opt-out link" in summary
    assert re.search(r'<option selected value="sms">|<option value="sms" selected>', text)
