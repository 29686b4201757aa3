"""Parsed versions and respondent page classes are cached per content (the version's checksum),
and a submission's campaign lookup per slug, each within a bound; two different questionnaires
never share an entry."""

from __future__ import annotations

from forms.ingest import open_questionnaire
from forms.publishing import PARSED_VERSIONS, current_version, form_of, publish_form
from forms.webforms import PAGE_CLASSES, page_form_class
from questionnaire.schema import form_to_dict, parse_form
from tests.factories import CampaignFactory, QuestionnaireVersionFactory


def without_question(form, name):
    data = form_to_dict(form)

    def keep(nodes):
        return [
            {**n, "questions": keep(n["questions"])} if "questions" in n else n
            for n in nodes
            if n["name"] != name
        ]

    data["survey"] = keep(data["survey"])
    return parse_form(data, "edited")


def names(form):
    return {q.name for q in form.questions()}


def names_on(items):
    out = set()
    for item in items:
        out.add(item.name)
        out |= names_on(getattr(item, "children", ()))
    return out


def test_each_version_is_parsed_once_and_never_shares_its_form(session, campaign):
    first = current_version(session, campaign)
    second = publish_form(session, campaign, without_question(form_of(first), "sat_parking"))
    assert form_of(first) is form_of(first)
    assert form_of(second) is not form_of(first)
    assert "sat_parking" in names(form_of(first))
    assert "sat_parking" not in names(form_of(second))
    order = [q.name for q in form_of(second).evaluation_order]
    assert "sat_parking" not in order
    assert len(PARSED_VERSIONS) <= PARSED_VERSIONS.maxsize


def test_page_classes_of_two_questionnaires_are_their_own(session, campaign):
    first = current_version(session, campaign)
    form = form_of(first)
    page = next(i for i, (_, items) in enumerate(form.pages()) if "sat_parking" in names_on(items))
    second = publish_form(session, campaign, without_question(form, "sat_parking"))
    old = page_form_class(form, first.checksum, page, "zh_CN")
    new = page_form_class(form_of(second), second.checksum, page, "zh_CN")
    assert old is page_form_class(form, first.checksum, page, "zh_CN")
    assert new is not old
    assert hasattr(old, "sat_parking") and not hasattr(new, "sat_parking")
    assert len(PAGE_CLASSES) <= PAGE_CLASSES.maxsize


def test_two_campaigns_lookups_for_submissions_are_their_own(session, campaign):
    other = CampaignFactory(slug="transport-other")
    QuestionnaireVersionFactory(campaign=other)
    session.commit()
    fresh = {slug: open_questionnaire(session, slug) for slug in (campaign.slug, other.slug)}
    kept = {slug: open_questionnaire(session, slug, snapshot=True) for slug in fresh}
    for slug, found in kept.items():
        assert found is not None and found.cached
        assert found.campaign.id == fresh[slug].campaign.id
        assert found.version.id == fresh[slug].version.id
    assert kept[campaign.slug].version.number == 1
    assert kept[other.slug].version.number == 2
