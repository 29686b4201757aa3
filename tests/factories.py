"""factory_boy factories for the main models, built the way users build them (style.md, habit 11).

Simple rows (a department) come from `SQLAlchemyModelFactory`; anything with invariants goes
through the domain function a user's action calls (`create_user`, `load_campaign`,
`publish_form`, `submit_response`, `import_contacts`, `create_invitation`,
`create_recommendation`), so a factory cannot build a state the product cannot reach. Every
factory writes to the current app's session (the test's rolled-back connection) and flushes;
the test commits when it wants to. Unique values come from sequences.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from pathlib import Path
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select

from campaigns.definition import read_campaign_file
from campaigns.models import Campaign
from contacts.lists import get_or_create_list, import_contacts
from contacts.models import Contact, ContactList
from forms.ingest import Submission, submit_response
from forms.models import QuestionnaireVersion, Response
from forms.publishing import current_version, form_of, load_campaign, publish_form
from invitations.models import Invitation
from invitations.tokens import create_invitation
from minsheng.accounts.models import Department, User
from minsheng.accounts.users import create_user
from minsheng.db import get_session
from questionnaire.schema import form_to_dict, parse_form
from recommendations.models import Recommendation
from recommendations.proposals import create_recommendation

ROOT = Path(__file__).resolve().parents[1]
TRANSPORT = ROOT / "examples" / "transport.yaml"
DAY_IN_CAMPAIGN = date(2026, 6, 1)
PASSWORD = "lantern-harbour-47"


class DepartmentFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    """A receiving department (承办部门)."""

    class Meta:
        model = Department
        sqlalchemy_session_factory = get_session
        sqlalchemy_session_persistence = "flush"

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.LazyAttribute(lambda o: f"部门 {o.code}")


class UserFactory(factory.Factory):  # type: ignore[misc]
    """A staff account through `create_user`; `role="department"` gets a department of its own
    unless one is given. Its password is `PASSWORD`."""

    class Meta:
        model = User

    username = factory.LazyAttributeSequence(lambda o, n: f"{o.role}-{n}")
    password = PASSWORD
    role = "organizer"
    display_name = None
    email = None
    department = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == "department"),
        yes_declaration=factory.SubFactory(DepartmentFactory),
        no_declaration=None,
    )

    @classmethod
    def _create(cls, model_class: type[User], **kwargs: Any) -> User:
        return create_user(get_session(), **kwargs)


class CampaignFactory(factory.Factory):  # type: ignore[misc]
    """A campaign loaded from a campaign file (default: the demo's `examples/transport.yaml`)
    with its questionnaire published, as `minsheng campaign load` does.

    `slug=None` keeps the file's slug (pages and fixtures name it); pass one for a second
    campaign from the same file. `anonymous` overrides the file's setting.
    """

    class Meta:
        model = Campaign

    file = TRANSPORT
    slug = None
    anonymous = None

    @classmethod
    def _create(cls, model_class: type[Campaign], **kwargs: Any) -> Campaign:
        definition = read_campaign_file(kwargs["file"])
        changes = {k: kwargs[k] for k in ("slug", "anonymous") if kwargs[k] is not None}
        campaign, _ = load_campaign(get_session(), dataclasses.replace(definition, **changes))
        return campaign


class QuestionnaireVersionFactory(factory.Factory):  # type: ignore[misc]
    """The next version of a campaign's questionnaire, published through `publish_form`:
    `edit(definition)` changes the current definition in place (default: the title gets a
    numbered suffix, which is enough to make a new version)."""

    class Meta:
        model = QuestionnaireVersion

    campaign = factory.SubFactory(CampaignFactory)
    edit = None
    suffix = factory.Sequence(lambda n: f"（第{n}版）")

    @classmethod
    def _create(cls, model_class: type[QuestionnaireVersion], **kwargs: Any) -> Any:
        session, campaign = get_session(), kwargs["campaign"]
        current = current_version(session, campaign)
        assert current is not None, f"campaign {campaign.slug} has no questionnaire"
        definition = form_to_dict(form_of(current))
        if kwargs["edit"] is None:
            title = definition["settings"]["form_title"]
            title["zh_CN"] = title.get("zh_CN", "") + kwargs["suffix"]
        else:
            kwargs["edit"](definition)
        return publish_form(session, campaign, parse_form(definition, source="factory"))


def transport_answers(rng: random.Random | None = None) -> dict[str, Any]:
    """Valid answers to the transport questionnaire (every required question answered)."""
    rng = rng or random.Random()
    return {
        "district": rng.choice(["jinjiang", "qingyang", "jinniu", "wuhou"]),
        "age_group": rng.choice(["a18_29", "a30_44", "a45_59", "a60_plus"]),
        "commute_mode": rng.choice(["metro", "bus", "car", "ebike", "walk"]),
        "commute_time": rng.choice(["lt15", "m15_30", "m30_60", "gt60"]),
        "problems": rng.sample(["congestion", "parking", "bus_frequency", "safety"], 2),
        "sat_bus": str(rng.randint(1, 5)),
        "sat_metro": str(rng.randint(1, 5)),
        "sat_parking": str(rng.randint(1, 5)),
    }


class ResponseFactory(factory.Factory):  # type: ignore[misc]
    """A response submitted through `submit_response` to the campaign's current version, on a
    day the demo campaign is open; `submission` fields (channel, invitation_id...) pass
    through."""

    class Meta:
        model = Response

    campaign = factory.SubFactory(CampaignFactory)
    answers = factory.LazyFunction(transport_answers)
    submission_id = factory.Sequence(lambda n: f"factory-{n:010d}")
    channel = "web"
    today = DAY_IN_CAMPAIGN

    @classmethod
    def _create(cls, model_class: type[Response], **kwargs: Any) -> Response:
        session = get_session()
        campaign = kwargs.pop("campaign")
        version = current_version(session, campaign)
        assert version is not None, f"campaign {campaign.slug} has no questionnaire"
        answers, today = kwargs.pop("answers"), kwargs.pop("today")
        response, _ = submit_response(
            session, campaign, version, answers, Submission(**kwargs), today=today
        )
        session.flush()
        return response


class ContactListFactory(factory.Factory):  # type: ignore[misc]
    """A target list (名单) through `get_or_create_list`."""

    class Meta:
        model = ContactList

    name = factory.Sequence(lambda n: f"list-{n}")
    campaign = None

    @classmethod
    def _create(cls, model_class: type[ContactList], **kwargs: Any) -> ContactList:
        campaign = kwargs["campaign"]
        return get_or_create_list(get_session(), kwargs["name"], campaign and campaign.id)


class ContactFactory(factory.Factory):  # type: ignore[misc]
    """One person imported into a list the way an organizer's file brings them: encrypted,
    with keyed lookup hashes."""

    class Meta:
        model = Contact

    contact_list = factory.SubFactory(ContactListFactory)
    name = factory.Sequence(lambda n: f"居民{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    district = "锦江区"

    @classmethod
    def _create(cls, model_class: type[Contact], **kwargs: Any) -> Contact:
        session, contact_list = get_session(), kwargs["contact_list"]
        row = f"姓名,手机号,邮箱,district\r\n{kwargs['name']},{kwargs['phone']},"
        row += f"{kwargs['email']},{kwargs['district']}\r\n"
        result = import_contacts(session, contact_list, row.encode("utf-8"), "factory.csv")
        assert result.imported == 1, result.problems
        newest = select(Contact).where(Contact.list_id == contact_list.id)
        return session.scalars(newest.order_by(Contact.id.desc()).limit(1)).one()


class InvitationFactory(factory.Factory):  # type: ignore[misc]
    """An invitation through `create_invitation` (an anonymous link unless `contact` is given).
    The token exists only at creation: `InvitationFactory.with_token()` returns it too."""

    class Meta:
        model = Invitation

    campaign = factory.SubFactory(CampaignFactory)
    contact = None

    @classmethod
    def _create(cls, model_class: type[Invitation], **kwargs: Any) -> Invitation:
        return cls._created(**kwargs)[0]

    @classmethod
    def _created(cls, **kwargs: Any) -> tuple[Invitation, str]:
        campaign, contact = kwargs.pop("campaign"), kwargs.pop("contact")
        return create_invitation(get_session(), campaign, contact, **kwargs)

    @classmethod
    def with_token(cls, **kwargs: Any) -> tuple[Invitation, str]:
        """(invitation, token), the pair `create_invitation` returns."""
        if "campaign" not in kwargs:
            kwargs["campaign"] = CampaignFactory()
        kwargs.setdefault("contact", None)
        return cls._created(**kwargs)


class RecommendationFactory(factory.Factory):  # type: ignore[misc]
    """A proposed recommendation (建议) drawn from a campaign, through
    `create_recommendation`."""

    class Meta:
        model = Recommendation

    campaign = factory.SubFactory(CampaignFactory)
    title = factory.Sequence(lambda n: f"延长地铁末班车运营时间（{n}）")
    text = "根据征集意见，建议末班车延后30分钟。"
    source = "expert"

    @classmethod
    def _create(cls, model_class: type[Recommendation], **kwargs: Any) -> Recommendation:
        return create_recommendation(get_session(), **kwargs)
