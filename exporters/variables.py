"""The columns of a campaign's exports (`Variable`): names, labels, types and value labels,
from its questionnaire and settings, in the order every format writes them."""

from __future__ import annotations

import dataclasses
from typing import Any

from analysis.frames import NO_ANSWER_TYPES, OTHER, OTHER_LABEL, choice_names, option_column
from analysis.quality import FLAGS
from analysis.summary import campaign_margins
from campaigns.models import Campaign
from minsheng.db import LOCAL_TIMEZONE
from questionnaire.schema import Form, Question, text_in

TEXT_TYPES = frozenset({"text"})


@dataclasses.dataclass(frozen=True)
class Variable:
    """One exported column: its name, label, type, value labels and how a frame fills it.

    `kind` is how a response frame's column becomes this one: plain (as is), flag and option
    (0/1), choice (code or label), text (masked), number, date, time (local), weight.
    `question` is the question it comes from ("" for metadata), for the codebook's skip logic.
    """

    name: str
    label: str
    type: str
    values: tuple[tuple[str, str], ...] = ()
    source: str = ""
    kind: str = "plain"
    question: str = ""


def _label(form: Form, label: dict[str, str], fallback: str) -> str:
    return text_in(label, form.default_language, form.default_language) or fallback


def _meta(timezone: str) -> list[Variable]:
    return [
        Variable("response_id", "Response id", "integer", source="response_id"),
        Variable("submitted_at", f"Submission time ({timezone})", "datetime", (), "", "time"),
        Variable("channel", "Channel", "text", source="channel"),
        Variable("collection_point", "Collection point", "text", source="collection_point"),
        Variable("target_group", "Target group", "text", source="target_group"),
        Variable("language", "Language", "text", source="language"),
        Variable("duration", "Duration (seconds)", "decimal", (), "duration", "number"),
    ]


def variables(
    form: Form, *, timezone: str = LOCAL_TIMEZONE, weight: bool = False
) -> list[Variable]:
    """Every exported column in order: metadata, the weight (when the campaign declares
    population margins), quality flags, then the answers."""
    out = _meta(timezone)
    if weight:
        out.append(
            Variable("weight", "Raking weight (none if flagged)", "decimal", (), "weight", "weight")
        )
    out += [
        Variable(f"flag_{f}", f"Quality flag: {f}", "0/1", (("0", "no"), ("1", "yes")), f, "flag")
        for f in FLAGS
    ]
    for question in form.questions():
        if question.type in NO_ANSWER_TYPES:
            continue
        out += _question_variables(form, question)
    return out


def _question_variables(form: Form, question: Question) -> list[Variable]:
    label = _label(form, question.label, question.name)
    name = question.name
    if question.type in ("select_multiple", "rank"):
        labels = {c.name: _label(form, c.label, c.name) for c in form.choices_for(question)}
        multiple = question.type == "select_multiple"
        found = [
            Variable(
                option_column(question, o),
                f"{label}: {labels.get(o, o)}",
                "0/1" if multiple else "rank",
                (("0", "not chosen"), ("1", "chosen")) if multiple else (),
                option_column(question, o),
                "option" if multiple else "number",
                name,
            )
            for o in choice_names(form, question)
        ]
    elif question.type == "select_one":
        labels = {c.name: _label(form, c.label, c.name) for c in form.choices_for(question)}
        labels.setdefault(OTHER, text_in(OTHER_LABEL, form.default_language, "zh"))
        values = tuple((c, labels[c]) for c in choice_names(form, question))
        found = [Variable(name, label, "code", values, name, "choice", name)]
    elif question.type in TEXT_TYPES:
        found = [Variable(name, label, "text (masked)", (), name, "text", name)]
    elif question.type in ("integer", "decimal", "range"):
        found = [Variable(name, label, question.type, (), name, "number", name)]
    elif question.type in ("date", "today"):
        found = [Variable(name, label, "date", (), name, "date", name)]
    elif question.type == "acknowledge":
        found = [Variable(name, label, "0/1", (("0", "no"), ("1", "yes")), name, "option", name)]
    else:
        found = [Variable(name, label, question.type, (), name, "plain", name)]
    if question.or_other:
        other = f"{name}_other"
        found.append(Variable(other, f"{label} (other)", "text (masked)", (), other, "text", name))
    return found


def export_columns(campaign: Campaign, form: Form) -> list[Variable]:
    """The exported columns of the campaign: a weight column when its file declares margins."""
    margins, _ = declared_margins(campaign)
    return variables(form, timezone=campaign.timezone, weight=bool(margins))


def declared_margins(campaign: Campaign) -> tuple[Any, tuple[float, float] | None]:
    """The population margins and weight bounds of the campaign file, ({}, None) if none."""
    settings = campaign.settings if isinstance(campaign.settings, dict) else {}
    weighting = settings.get("weighting")
    if not isinstance(weighting, dict) or not weighting.get("margins"):
        return {}, None
    return campaign_margins(settings)
