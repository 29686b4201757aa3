"""A refused staff form comes back with what was typed, each message under its field (tied to
the input by aria-describedby) and a summary at the top linking to the fields; never the raw
`form.errors` dict."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from contacts.models import ContactList
from invitations.models import Quota, Sample
from tests.factories import CampaignFactory
from tests.page_parts import error_summary, input_tag

from .builders import csv_bytes, people
from .sending_helpers import invited_campaign


def _upload_list(client, session, size: int = 40) -> int:
    client.post(
        "/contacts/lists/",
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
        f"/campaigns/{camp.slug}/invitations/sample?lang=en",
        data={"list_id": list_id, "by": "district", "allocation": "proportional", "count": 1000},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    count = input_tag(text, "count")
    assert 'value="1000"' in count
    assert 'aria-invalid="true"' in count and 'aria-describedby="count-error"' in count
    assert re.search(r'<p class="error" id="count-error">got 1000; expected 1 to 40', text)
    assert 'value="district"' in input_tag(text, "by")
    summary = error_summary(text)
    assert "Please correct the following:" in summary
    assert '<a href="#count">Sample size, or number per stratum: got 1000' in summary
    assert "{'" not in text  # no raw errors dict
    assert session.scalar(select(func.count()).select_from(Sample)) == 0


def test_a_refused_quota_keeps_the_typed_stratum_and_maximum(client, login, session):
    camp = CampaignFactory()
    session.commit()
    login("organizer")
    page = client.post(
        f"/campaigns/{camp.slug}/invitations/quotas?lang=en",
        data={"stratum": "锦江区, age=18-34", "maximum": 3},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'value="锦江区, age=18-34"' in input_tag(text, "stratum")
    assert 'value="3"' in input_tag(text, "maximum")
    assert 'id="stratum-error">got &#39;锦江区&#39;; expected attribute=value' in text
    assert '<a href="#stratum">' in error_summary(text)
    assert session.scalar(select(func.count()).select_from(Quota)) == 0


def test_problems_of_no_field_are_listed_in_the_summary_with_their_location(client, login, session):
    templates = {"invitation": {"sms": {"en": {"text": "{{ link }}"}}}}
    camp, _ = invited_campaign(session, 1, settings={"sending": {"templates": templates}})
    login("organizer")
    page = client.post(
        f"/campaigns/{camp.slug}/sending?lang=en", data={"kind": "invitation", "channel": "sms"}
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    summary = error_summary(text)
    assert "<li>settings.sending.templates.invitation.sms.en: template en/invitation.sms" in summary
    assert "has no opt-out link" in summary
    assert re.search(r'<option selected value="sms">|<option value="sms" selected>', text)
