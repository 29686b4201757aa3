"""Response frames: a campaign's responses as one pandas DataFrame with typed columns, read from the
database in chunks of ids, and the questionnaire every version of the campaign adds up to.

Column layout (one row per response):

- single choice: categorical, categories in the form's choice order (``other`` last when the
  question allows it), so a choice nobody picked still shows with 0;
- multiple choice: one nullable-boolean column per option named ``<question>/<option>``
  (XLSForm's export convention), missing in every column when the question was not answered;
- ranking: one float column per option, ``<question>/<option>``, holding the rank (1 = first);
- integer, decimal, range: float; date: datetime; acknowledge: nullable boolean; text: str;
- ``<question>_other`` text for questions with an "other, please specify" box;
- response metadata: `META_COLUMNS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.errors import AnalysisError, AnalysisProblem
from campaigns.models import Campaign
from forms.ingest import CHANNELS
from forms.models import Questionnaire, QuestionnaireVersion, Response
from forms.publishing import form_of
from questionnaire.schema import Choice, Form, Group, Question

#: Response metadata columns, in frame order.
META_COLUMNS = (
    "response_id",
    "version",
    "channel",
    "collection_point",
    "target_group",
    "language",
    "submitted_at",
    "duration",
)
#: Metadata columns that can serve as a segment (crosstab column).
SEGMENT_META = ("channel", "collection_point", "target_group", "language", "version")
OTHER = "other"
OTHER_LABEL = {"zh": "其他", "en": "Other"}
DEFAULT_CHUNK_SIZE = 20_000
#: Question types that store no answer.
NO_ANSWER_TYPES = frozenset({"note", "calculate"})


class NoQuestionnaireError(AnalysisError):
    """The campaign has no published questionnaire, so its responses have no columns."""


def option_column(question: Question | str, option: str) -> str:
    """The frame column of one option of a multiple-choice or ranking question."""
    name = question if isinstance(question, str) else question.name
    return f"{name}/{option}"


def choice_names(form: Form, question: Question) -> list[str]:
    """The categories of a choice question in form order, with ``other`` when it is allowed."""
    names = [c.name for c in form.choices_for(question)]
    if question.or_other and OTHER not in names:
        names.append(OTHER)
    return names


def rating_scores(form: Form, question: Question) -> list[float] | None:
    """Scores of a rating (Likert) question's choices, or None if it is not a rating.

    A select_one question is a rating when its appearance says ``likert`` or when its choices are
    named "1", "2", ... "k" (4 <= k <= 11) in that order. Choices named by numbers score those
    numbers; otherwise they score 1..k in form order.
    """
    if question.type != "select_one":
        return None
    names = [c.name for c in form.choices_for(question)]
    likert = "likert" in (question.appearance or "").split()
    numbered = names == [str(i) for i in range(1, len(names) + 1)] and 4 <= len(names) <= 11
    if not (likert or numbered) or len(names) < 2:
        return None
    try:
        return [float(n) for n in names]
    except ValueError:
        return [float(i) for i in range(1, len(names) + 1)]


def categorical_of(column: pd.Series[Any], names: Sequence[str]) -> pd.Series[Any]:
    """``column`` as a categorical with exactly the categories ``names``, in that order: the
    column itself when it already is one (every frame column is), so nothing is recoded."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == list(names):
        return column
    return pd.Series(pd.Categorical(column, categories=list(names)), index=column.index)


def category_codes_of(column: pd.Series[Any], names: Sequence[str]) -> npt.NDArray[np.integer[Any]]:
    """Codes of ``column`` against ``names``: 0..k-1, and -1 for a missing answer (or one not
    among ``names``). The integer width is the categorical's own (often int8)."""
    return categorical_of(column, names).cat.codes.to_numpy()


def answer_columns(form: Form) -> list[str]:
    """Every answer column `answers_frame` builds for ``form``, in form order."""
    columns: list[str] = []
    for question in form.questions():
        if question.type in NO_ANSWER_TYPES:
            continue
        if question.type in ("select_multiple", "rank"):
            columns.extend(option_column(question, c) for c in choice_names(form, question))
        else:
            columns.append(question.name)
        if question.or_other:
            columns.append(f"{question.name}_other")
    return columns


def merged_form(versions: Sequence[Form]) -> Form:
    """One questionnaire covering every version, oldest first, so answers map by question name.

    The newest version gives the order, labels and types. A question that only older versions
    ask is appended at the end; a choice that an older version offered and the newest dropped is
    appended to that question's choices, so old answers keep their category instead of becoming
    missing. A question whose type changed keeps the newest type (old answers that do not fit it
    become missing).
    """
    if not versions:
        raise NoQuestionnaireError(
            [AnalysisProblem("questionnaire", "no version given; publish one first")]
        )
    current = versions[-1]
    if len(versions) == 1:
        return current
    seen = {q.name for q in current.questions()}
    extra_questions: list[Question] = []
    extra_choices: dict[str, list[Choice]] = {}
    lists = dict(current.choices)
    for older in reversed(versions[:-1]):
        for question in older.questions():
            if question.name not in seen:
                seen.add(question.name)
                extra_questions.append(question)
                if question.list_name:
                    lists.setdefault(question.list_name, older.choices_for(question))
                continue
            if not question.has_choices:
                continue
            have = {c.name for c in current.choices_for(current.question(question.name))}
            have |= {c.name for c in extra_choices.get(question.name, [])}
            missing = [c for c in older.choices_for(question) if c.name not in have]
            if missing:
                extra_choices.setdefault(question.name, []).extend(missing)
    children = tuple(
        _with_choices(child, current, extra_choices, lists) for child in current.children
    )
    return dataclasses.replace(current, children=children + tuple(extra_questions), choices=lists)


def _with_choices(
    node: Question | Group,
    current: Form,
    extra: Mapping[str, list[Choice]],
    lists: dict[str, tuple[Choice, ...]],
) -> Question | Group:
    if isinstance(node, Group):
        kids = tuple(_with_choices(c, current, extra, lists) for c in node.children)
        return dataclasses.replace(node, children=kids)
    if node.name not in extra:
        return node
    # The list may be shared with other questions, so the widened one gets its own name.
    list_name = f"{node.name}.{node.list_name}"
    lists[list_name] = current.choices_for(node) + tuple(extra[node.name])
    return dataclasses.replace(node, list_name=list_name)


def _column_for(form: Form, question: Question, values: list[Any]) -> dict[str, Any]:
    """The frame column(s) of one question from its raw stored answers (None = not answered)."""
    kind = question.type
    name = question.name
    if kind == "select_one":
        cats = choice_names(form, question)
        return {
            name: pd.Categorical(
                [v if isinstance(v, str) else None for v in values], categories=cats
            )
        }
    if kind in ("select_multiple", "rank"):
        options = choice_names(form, question)
        chosen = [v if isinstance(v, list) and v else None for v in values]
        out: dict[str, Any] = {}
        for option in options:
            if kind == "select_multiple":
                out[option_column(question, option)] = pd.array(
                    [None if c is None else option in c for c in chosen], dtype="boolean"
                )
            else:
                out[option_column(question, option)] = np.array(
                    [
                        c.index(option) + 1 if c is not None and option in c else np.nan
                        for c in chosen
                    ],
                    dtype=np.float64,
                )
        return out
    if kind in ("integer", "decimal", "range"):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return {name: numbers.to_numpy(dtype=np.float64, na_value=np.nan)}
    if kind == "date":
        return {name: pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")}
    if kind == "acknowledge":
        return {name: pd.array([None if v is None else v == "OK" for v in values], "boolean")}
    texts = [v if isinstance(v, str) and v.strip() else None for v in values]
    return {name: pd.array(texts, dtype="str")}


def answers_frame(answers: Sequence[Mapping[str, Any]], form: Form) -> pd.DataFrame:
    """Answer columns (see the module docstring) for a list of stored answer mappings.

    Works without a database: pass ``[response.answers, ...]`` or the parsed JSON of an export.
    Keys the form does not know are ignored; a question nobody answered gives an all-missing
    column of the right type, so an empty list still gives every column.
    """
    columns: dict[str, Any] = {}
    for question in form.questions():
        if question.type in NO_ANSWER_TYPES:
            continue
        columns.update(_column_for(form, question, [a.get(question.name) for a in answers]))
        if question.or_other:
            key = f"{question.name}_other"
            texts = [a.get(key) if isinstance(a.get(key), str) else None for a in answers]
            columns[key] = pd.array(texts, dtype="str")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(answers)))


def campaign_form(session: Session, campaign: Campaign) -> Form:
    """`merged_form` of every published version of the campaign's questionnaire."""
    versions = _versions(session, campaign)
    if not versions:
        raise NoQuestionnaireError(
            [
                AnalysisProblem(
                    f"campaign `{campaign.slug}`",
                    "has no published questionnaire; load the campaign file first",
                )
            ]
        )
    return merged_form([form_of(v) for v in versions])


def _versions(session: Session, campaign: Campaign) -> list[QuestionnaireVersion]:
    return list(
        session.scalars(
            select(QuestionnaireVersion)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(Questionnaire.campaign_id == campaign.id)
            .order_by(QuestionnaireVersion.number)
        )
    )


@dataclasses.dataclass(frozen=True)
class _Lookups:
    versions: dict[int, int]
    points: dict[int, str]
    groups: dict[int, str]


def _lookups(session: Session, campaign: Campaign) -> _Lookups:
    return _Lookups(
        versions={v.id: v.number for v in _versions(session, campaign)},
        points={p.id: p.code for p in campaign.collection_points},
        groups={g.id: g.code for g in campaign.target_groups},
    )


def _meta_frame(rows: Sequence[Any], lookups: _Lookups) -> pd.DataFrame:
    def codes(values: Iterable[int | None], table: dict[int, str]) -> pd.Categorical:
        return pd.Categorical(
            [None if v is None else table.get(v) for v in values], categories=list(table.values())
        )

    return pd.DataFrame(
        {
            "response_id": np.array([r.id for r in rows], dtype=np.int64),
            "version": np.array([lookups.versions.get(r.version_id, 0) for r in rows], np.int64),
            "channel": pd.Categorical([r.channel for r in rows], categories=list(CHANNELS)),
            "collection_point": codes((r.collection_point_id for r in rows), lookups.points),
            "target_group": codes((r.target_group_id for r in rows), lookups.groups),
            "language": pd.array([r.language for r in rows], dtype="str"),
            # One unit whatever the rows (an empty list would otherwise give seconds).
            "submitted_at": pd.to_datetime([r.submitted_at for r in rows], utc=True).as_unit("us"),
            "duration": np.array(
                [np.nan if r.duration_seconds is None else r.duration_seconds for r in rows],
                dtype=np.float64,
            ),
        }
    )


def iter_response_chunks(
    session: Session,
    campaign: Campaign,
    form: Form | None = None,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_size`` responses with ``after_id < id <= up_to_id``, by id.

    Keyset pagination on the (campaign_id, id) index: each chunk is one query starting after
    the last id of the previous one, so memory stays bounded and no OFFSET scan grows with the
    campaign. ``form`` defaults to `campaign_form`.
    """
    form = form or campaign_form(session, campaign)
    lookups = _lookups(session, campaign)
    cursor = after_id
    while True:
        query = (
            select(
                Response.id,
                Response.version_id,
                Response.channel,
                Response.collection_point_id,
                Response.target_group_id,
                Response.language,
                Response.submitted_at,
                Response.duration_seconds,
                Response.answers,
            )
            .where(Response.campaign_id == campaign.id, Response.id > cursor)
            .order_by(Response.id)
            .limit(chunk_size)
        )
        if up_to_id is not None:
            query = query.where(Response.id <= up_to_id)
        rows = session.execute(query).all()
        if not rows:
            return
        meta = _meta_frame(rows, lookups)
        answers = answers_frame([r.answers or {} for r in rows], form)
        yield pd.concat([meta, answers], axis=1)
        cursor = rows[-1].id
        if len(rows) < chunk_size:
            return


def empty_frame(form: Form) -> pd.DataFrame:
    """A frame with every column and no rows (what a campaign without responses gives)."""
    meta = _meta_frame([], _Lookups({}, {}, {}))
    return pd.concat([meta, answers_frame([], form)], axis=1)


def frame_template(session: Session, campaign: Campaign, form: Form) -> pd.DataFrame:
    """An empty frame with every column and dtype of the campaign's response frames, including
    its collection points and target groups as categories."""
    lookups = _lookups(session, campaign)
    frame = empty_frame(form)
    frame["collection_point"] = pd.Categorical([], categories=list(lookups.points.values()))
    frame["target_group"] = pd.Categorical([], categories=list(lookups.groups.values()))
    return frame


def conform(frame: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns, order and dtypes of ``template`` (e.g. after a Parquet round
    trip, which keeps only the categories that occur in each file). Missing columns are added
    empty; extra columns are dropped."""
    columns: dict[str, Any] = {}
    for name, dtype in template.dtypes.items():
        column = str(name)
        if column not in frame.columns:
            columns[column] = pd.Series(index=frame.index, dtype=dtype)
        elif isinstance(dtype, pd.CategoricalDtype):
            columns[column] = pd.Categorical(frame[column], categories=dtype.categories)
        elif frame[column].dtype != dtype:
            columns[column] = frame[column].astype(dtype)
        else:
            columns[column] = frame[column]
    return pd.DataFrame(columns, index=frame.index)


def response_frame(
    session: Session,
    campaign: Campaign,
    form: Form | None = None,
    *,
    after_id: int = 0,
    up_to_id: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """All responses of the campaign (within the id range) as one frame, read in chunks."""
    form = form or campaign_form(session, campaign)
    chunks = list(
        iter_response_chunks(
            session, campaign, form, after_id=after_id, up_to_id=up_to_id, chunk_size=chunk_size
        )
    )
    if not chunks:
        return frame_template(session, campaign, form)
    return pd.concat(chunks, ignore_index=True)
