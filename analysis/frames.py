"""Response frames: the column layout of a campaign's responses as one pandas DataFrame with typed
columns, and the questionnaire every version of the campaign adds up to. Pure: it builds frames
from answer mappings and row-like objects, so the statistics import it without a database
(`analysis.loading` reads the rows).

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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import AnalysisError
from minsheng.problems import Problem
from questionnaire.schema import MAX_NUMBER, Choice, Form, Group, Question

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
    "honeypot",
    "address",
    "fingerprint",
)
#: Metadata columns that can serve as a segment (crosstab column).
SEGMENT_META = ("channel", "collection_point", "target_group", "language", "version")
OTHER = "other"
OTHER_LABEL = {"zh": "其他", "en": "Other"}
#: Question types that store no answer.
NO_ANSWER_TYPES = frozenset({"note", "calculate"})


def segment_names(form: Form) -> tuple[str, ...]:
    """The columns a summary can be broken down by: the single-choice questions, then the
    response metadata of `SEGMENT_META`."""
    questions = tuple(q.name for q in form.questions() if q.type == "select_one")
    return questions + SEGMENT_META


def check_segments(form: Form, segments: Sequence[str]) -> None:
    """Refuse segments that are not `segment_names` before any work is queued for them."""
    known = set(segment_names(form))
    unknown = [s for s in segments if s not in known]
    if unknown:
        raise AnalysisError(
            [
                Problem(
                    f"segment `{name}`",
                    "is not a single-choice question or one of " + ", ".join(SEGMENT_META),
                )
                for name in unknown
            ]
        )


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
            [Problem("questionnaire", "no version given; publish one first")]
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
        # A code the questionnaire does not know (written past the checks) is no answer.
        known = set(cats)
        return {
            name: pd.Categorical(
                [v if isinstance(v, str) and v in known else None for v in values],
                categories=cats,
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
        low, high = _bounds(question)
        return {
            name: np.array([_number(v, low, high) for v in values], dtype=np.float64),
        }
    if kind == "date":
        return {name: pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")}
    if kind == "acknowledge":
        return {name: pd.array([None if v is None else v == "OK" for v in values], "boolean")}
    texts = [v if isinstance(v, str) and v.strip() else None for v in values]
    return {name: pd.array(texts, dtype="str")}


def _bounds(question: Question) -> tuple[float, float]:
    """The range a number answer may take: `min`/`max` (`start`/`end` for range), else
    `MAX_NUMBER` either side of 0."""
    params = question.parameters
    low = params.get("start" if question.type == "range" else "min")
    high = params.get("end" if question.type == "range" else "max")
    return float(low) if low else -MAX_NUMBER, float(high) if high else MAX_NUMBER


def _number(value: Any, low: float, high: float) -> float:
    """A stored number answer, or NaN (missing) for anything that is not one: text that is not
    a number, a boolean, NaN or an infinity, a number outside the question's range (written
    straight into the database, past the checks; issue 11)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return np.nan
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return np.nan
    return number if np.isfinite(number) and low <= number <= high else np.nan


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


@dataclasses.dataclass(frozen=True)
class ResponseCodes:
    """How a campaign's response metadata reads in a frame: version id -> version number,
    collection point and target group id -> code, and the channels a response can come by. The
    codes are the categories of those columns, so a point nobody answered at still shows."""

    versions: Mapping[int, int]
    points: Mapping[int, str]
    groups: Mapping[int, str]
    channels: Sequence[str]


def hash_code(hexdigest: str | None) -> int | None:
    """The first 60 bits of a stored hex hash as a non-negative integer: a frame column of
    8 bytes a row instead of a 32-character string, read fast from a snapshot. Two of a million
    different hashes share a code with a probability under 1e-6."""
    return None if hexdigest is None else int(hexdigest[:15], 16)


def meta_frame(rows: Sequence[Any], codes: ResponseCodes) -> pd.DataFrame:
    """The `META_COLUMNS` of ``rows``: objects with a response's ``id``, ``version_id``,
    ``channel``, ``collection_point_id``, ``target_group_id``, ``language``, ``submitted_at``,
    ``duration_seconds``, ``honeypot``, ``address_hash`` and ``answers_fingerprint`` (a database
    row or anything shaped like one). The last two are for the near-duplicate rule: a keyed
    hash, never an address (`hash_code`)."""

    def coded(values: Iterable[int | None], table: Mapping[int, str]) -> pd.Categorical:
        return pd.Categorical(
            [None if v is None else table.get(v) for v in values], categories=list(table.values())
        )

    return pd.DataFrame(
        {
            "response_id": np.array([r.id for r in rows], dtype=np.int64),
            "version": np.array([codes.versions.get(r.version_id, 0) for r in rows], np.int64),
            "channel": pd.Categorical([r.channel for r in rows], categories=list(codes.channels)),
            "collection_point": coded((r.collection_point_id for r in rows), codes.points),
            "target_group": coded((r.target_group_id for r in rows), codes.groups),
            "language": pd.array([r.language for r in rows], dtype="str"),
            # One unit whatever the rows (an empty list would otherwise give seconds).
            "submitted_at": pd.to_datetime([r.submitted_at for r in rows], utc=True).as_unit("us"),
            "duration": np.array(
                [np.nan if r.duration_seconds is None else r.duration_seconds for r in rows],
                dtype=np.float64,
            ),
            "honeypot": np.array([bool(r.honeypot) for r in rows], dtype=bool),
            "address": pd.array([hash_code(r.address_hash) for r in rows], dtype="Int64"),
            "fingerprint": pd.array(
                [hash_code(r.answers_fingerprint) for r in rows], dtype="Int64"
            ),
        }
    )


def empty_frame(form: Form, codes: ResponseCodes) -> pd.DataFrame:
    """A frame with every column and dtype and no rows (what a campaign without responses
    gives), its metadata categories taken from ``codes``."""
    return pd.concat([meta_frame([], codes), answers_frame([], form)], axis=1)
