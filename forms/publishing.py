"""Publishing questionnaires: a changed definition becomes a new version; versions with responses
are never edited in place; answers line up across versions by question name."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, UOWTransaction

from campaigns.definition import CampaignDefinition, read_campaign_file
from campaigns.lifecycle import Note, StatusCheck
from campaigns.models import Campaign
from campaigns.store import store_campaign
from forms.models import Draft, Questionnaire, QuestionnaireVersion, Response
from minsheng.audit import record
from minsheng.caches import BoundedCache
from minsheng.errors import InputError, Problem
from questionnaire.schema import Form, Label, Question, form_to_dict, parse_form


class VersionLockedError(InputError):
    """A questionnaire version that already has responses was about to be changed or deleted;
    publish the changed form instead (`publish_form`), which creates the next version. Answered
    as 409 Conflict: the request is well formed, the stored state refuses it."""

    http_status = 409

    def __init__(self, message: str) -> None:
        super().__init__([Problem("questionnaire", message)])


def definition_checksum(definition: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def form_checksum(form: Form) -> str:
    """The checksum `publish_form` stores: equal for forms that would reuse the same version."""
    return definition_checksum(form_to_dict(form))


def publish_form(
    session: Session, campaign: Campaign, form: Form, actor_id: int | None = None
) -> QuestionnaireVersion:
    """Make `form` the campaign's current questionnaire.

    An identical definition reuses the current version; any change creates version n+1 (recorded
    in the audit log), so every stored response keeps pointing at the exact questions it answered.
    """
    questionnaire = session.scalar(
        select(Questionnaire).where(Questionnaire.campaign_id == campaign.id)
    )
    if questionnaire is None:
        questionnaire = Questionnaire(campaign_id=campaign.id)
        session.add(questionnaire)
        session.flush()
    definition = form_to_dict(form)
    checksum = definition_checksum(definition)
    current = current_version(session, campaign)
    if current is not None and current.checksum == checksum:
        return current
    version = QuestionnaireVersion(
        questionnaire_id=questionnaire.id,
        number=(current.number if current else 0) + 1,
        definition=definition,
        checksum=checksum,
    )
    session.add(version)
    session.flush()
    record(
        session,
        actor_id,
        "questionnaire.publish",
        "questionnaire_version",
        version.id,
        campaign=campaign.slug,
        number=version.number,
    )
    return version


def current_version(session: Session, campaign: Campaign) -> QuestionnaireVersion | None:
    return session.scalar(
        select(QuestionnaireVersion)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.campaign_id == campaign.id)
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
    )


# One parsed `Form` per content: what the form derives (its evaluation order, its logic for the
# browser) is computed once per version too.
PARSED_VERSIONS: BoundedCache[str, Form] = BoundedCache("parsed questionnaire versions", 512)


def form_of(version: QuestionnaireVersion) -> Form:
    """The parsed `Form` of a stored version, cached by its checksum (of the content): versions
    never change, and on a hit the definition (deferred by some queries) is not even loaded."""
    return PARSED_VERSIONS.get_or_compute(
        version.checksum, lambda: parse_form(version.definition, source="stored questionnaire")
    )


def load_campaign(
    session: Session, definition: CampaignDefinition, actor_id: int | None = None
) -> tuple[Campaign, QuestionnaireVersion]:
    """Store a campaign and publish its questionnaire (the caller commits both at once)."""
    if definition.form is None:
        raise InputError(
            [Problem("questionnaire", "missing; a campaign file carries its questionnaire")]
        )
    campaign = store_campaign(session, definition, actor_id)
    return campaign, publish_form(session, campaign, definition.form, actor_id)


def load_campaign_file(
    session: Session, path: str, actor_id: int | None = None
) -> tuple[Campaign, QuestionnaireVersion]:
    """Read, validate, store and publish a campaign file; nothing is written if it has errors."""
    return load_campaign(session, read_campaign_file(path), actor_id)


def versions_of(session: Session, campaign: Campaign) -> list[QuestionnaireVersion]:
    """Every version of the campaign's questionnaire, oldest first."""
    return list(
        session.scalars(
            select(QuestionnaireVersion)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(Questionnaire.campaign_id == campaign.id)
            .order_by(QuestionnaireVersion.number)
        )
    )


def has_responses(session: Session, version: QuestionnaireVersion) -> bool:
    with session.no_autoflush:
        return (
            session.scalar(select(Response.id).where(Response.version_id == version.id).limit(1))
            is not None
        )


@event.listens_for(Session, "before_flush")
def _refuse_editing_answered_versions(
    session: Session, _context: UOWTransaction, _instances: object
) -> None:
    # Responses point at the exact questions they answered (issue 4, point 5): once a version
    # has one, changing its definition in place would silently re-label stored answers.
    for version in (*session.dirty, *session.deleted):
        if not isinstance(version, QuestionnaireVersion) or version.id is None:
            continue
        deleting = version in session.deleted
        if not deleting and not session.is_modified(version):
            continue
        if has_responses(session, version):
            raise VersionLockedError(
                f"questionnaire version {version.number} has responses and cannot be "
                f"{'deleted' if deleting else 'changed'}; publish the edited form as a new version"
            )
        if not deleting:
            # A correction before any response: the checksum names the content (parsed forms are
            # cached by it), so it follows the definition.
            version.checksum = definition_checksum(version.definition)


@dataclass(frozen=True)
class QuestionAcrossVersions:
    """One question name followed through a campaign's versions, for analysis.

    `versions` lists the version numbers that ask it; `types` and `lists` give its type and
    choice list per version; `choices` is the union of its choice names (first appearance order);
    `label` is from the newest version that has it. `changes` says in plain words what differs
    between consecutive versions (type, choice list, choices added or removed, relevance), so an
    analyst can decide whether answers from different versions may be pooled.
    """

    name: str
    versions: tuple[int, ...]
    types: dict[int, str]
    lists: dict[int, str | None]
    choices: tuple[str, ...]
    label: Label
    changes: tuple[str, ...]

    @property
    def comparable(self) -> bool:
        """The same type and choice list in every version that asks it."""
        return len(set(self.types.values())) == 1 and len(set(self.lists.values())) == 1


def question_map(versions: Sequence[QuestionnaireVersion]) -> dict[str, QuestionAcrossVersions]:
    """Question name -> `QuestionAcrossVersions`, in the newest version's order, then questions
    only older versions ask. Answers of one name are one column whatever version they came from;
    a question renamed between versions is two names (XLSForm keys answers by name)."""
    ordered = sorted(versions, key=lambda v: v.number)
    forms = [(v.number, form_of(v)) for v in ordered]
    names: list[str] = []
    for _number, form in reversed(forms):
        names += [q.name for q in form.questions() if q.name not in names]
    out: dict[str, QuestionAcrossVersions] = {}
    for name in names:
        present = [(n, f, f.question(name)) for n, f in forms if _asks(f, name)]
        choices: list[str] = []
        for _n, form, question in present:
            choices += [c.name for c in form.choices_for(question) if c.name not in choices]
        out[name] = QuestionAcrossVersions(
            name=name,
            versions=tuple(n for n, _f, _q in present),
            types={n: q.type for n, _f, q in present},
            lists={n: q.list_name for n, _f, q in present},
            choices=tuple(choices),
            label=dict(present[-1][2].label),
            changes=tuple(_changes(present)),
        )
    return out


def _asks(form: Form, name: str) -> bool:
    return any(q.name == name for q in form.questions())


def _changes(present: list[tuple[int, Form, Question]]) -> list[str]:
    notes = []
    for (_n0, f0, q0), (n1, f1, q1) in pairwise(present):
        if q0.type != q1.type:
            notes.append(f"version {n1}: type {q0.type} -> {q1.type}")
        old = {c.name for c in f0.choices_for(q0)}
        new = {c.name for c in f1.choices_for(q1)}
        if new - old:
            notes.append(f"version {n1}: choices added {', '.join(sorted(new - old))}")
        if old - new:
            notes.append(f"version {n1}: choices removed {', '.join(sorted(old - new))}")
        if q0.relevant != q1.relevant:
            notes.append(f"version {n1}: relevance {q0.relevant!r} -> {q1.relevant!r}")
    return notes


def questionnaire_check(session: Session, campaign: Campaign, new: str) -> StatusCheck:
    """The questionnaire's say on a status change (`campaigns.lifecycle.add_status_check`): a
    campaign opens only with a published questionnaire that parses without problems; pausing or
    closing says how many respondents have a saved draft they cannot send until it reopens."""
    found = StatusCheck()
    if new == "open":
        version = current_version(session, campaign)
        if version is None:
            found.problems.append(
                Problem("questionnaire", "there is no published questionnaire to answer yet")
            )
        else:
            try:
                form_of(version)
            except InputError as exc:
                found.problems.extend(exc.problems)
    elif new in ("paused", "closed"):
        drafts = session.scalar(
            select(func.count()).select_from(Draft).where(Draft.campaign_id == campaign.id)
        )
        if drafts:
            found.notes.append(
                Note(
                    "%(n)s respondent(s) have a saved draft; they can send it only once the "
                    "campaign is open again",
                    {"n": int(drafts)},
                )
            )
    return found
