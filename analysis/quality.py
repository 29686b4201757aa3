"""Data quality: speeders, straight-lining in rating blocks and duplicate submissions, flagged per
response. Flagged responses are left out of the statistics by default and counted in the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import UnknownOptionError
from analysis.frames import answer_columns, category_codes_of, choice_names, rating_scores
from analysis.results import Result, nan_to_none
from questionnaire.schema import Form, Group, Question

#: Every flag, in report order.
FLAGS = ("speeder", "straightliner", "duplicate")
SPEED_FACTOR = 0.3
MIN_DURATIONS = 10
MIN_BLOCK_ITEMS = 4

BoolArray = npt.NDArray[np.bool_]


def speeders(
    durations: pd.Series[float] | npt.ArrayLike,
    factor: float = SPEED_FACTOR,
    min_durations: int = MIN_DURATIONS,
) -> tuple[BoolArray, float | None]:
    """Responses completed in less than ``factor`` x the median completion time.

    Returns the flags and the threshold in seconds (None when there are fewer than
    ``min_durations`` known durations, in which case nobody is flagged).

    Notes
    -----
    Cut-offs relative to the median completion time are the usual practice because the median
    is not pulled by the few who leave a form open for hours; Greszki, Meyer & Schoen (2015)
    compare such definitions of "too fast", and 1KA's speed index is built on per-page medians.
    0.3 x median is a common, deliberately conservative choice; pass another ``factor`` to
    change it. Missing durations (e.g. imported responses) are never flagged.

    References
    ----------
    Greszki, R., Meyer, M., Schoen, H. (2015). Exploring the effects of removing "too fast"
    responses and respondents from web surveys. Public Opinion Quarterly 79(2), 471-503.
    """
    if not 0 < factor < 1:
        raise UnknownOptionError.for_choice("factor", factor, ["a number in (0, 1)"])
    seconds = np.asarray(durations, dtype=np.float64)
    known = ~np.isnan(seconds)
    if int(known.sum()) < min_durations:
        return np.zeros(seconds.shape[0], dtype=bool), None
    threshold = factor * float(np.median(seconds[known]))
    return known & (seconds < threshold), threshold


MATRIX_APPEARANCES = frozenset({"table-list", "matrix"})


def rating_blocks(form: Form, min_items: int = MIN_BLOCK_ITEMS) -> list[tuple[str, ...]]:
    """Runs of at least ``min_items`` consecutive questions on one choice list within one group,
    where straight-lining is looked for: rating questions (a Likert battery), and any single
    choice questions inside a matrix (a group with appearance ``table-list`` or ``matrix``)."""
    blocks: list[tuple[str, ...]] = []

    def eligible(node: Question | Group | None, matrix: bool) -> bool:
        if not isinstance(node, Question) or node.type != "select_one":
            return False
        return matrix or rating_scores(form, node) is not None

    def visit(children: Sequence[Question | Group], matrix: bool) -> None:
        run: list[Question] = []
        for child in [*children, None]:
            if eligible(child, matrix) and (
                not run or getattr(child, "list_name", None) == run[0].list_name
            ):
                assert isinstance(child, Question)
                run.append(child)
                continue
            if len(run) >= min_items:
                blocks.append(tuple(q.name for q in run))
            run = [child] if isinstance(child, Question) and eligible(child, matrix) else []
            if isinstance(child, Group):
                kinds = set((child.appearance or "").split())
                visit(child.children, bool(kinds & MATRIX_APPEARANCES))

    visit(form.children, False)
    return blocks


def straightliners(frame: pd.DataFrame, form: Form, blocks: Sequence[Sequence[str]]) -> BoolArray:
    """Responses that gave the same answer to every item of at least one block (and answered
    all of them): non-differentiation, the simplest straight-lining indicator (Kim et al. 2019).

    References
    ----------
    Kim, Y., Dykema, J., Stevenson, J., Black, P., Moberg, D. P. (2019). Straightlining:
    overview of measurement, comparison of indicators, and effects in mail-web mixed-mode
    surveys. Social Science Computer Review 37(2), 214-233.
    """
    flags = np.zeros(len(frame), dtype=bool)
    for block in blocks:
        # Codes against the form's choice list, so equal answers have equal codes in every item.
        names = choice_names(form, form.question(block[0]))
        first = category_codes_of(frame[block[0]], names)
        same = first >= 0
        for item in block[1:]:
            same &= category_codes_of(frame[item], names) == first
        flags |= same
    return flags


def text_columns(form: Form) -> list[str]:
    """The open-text answer columns of ``form``: text questions and the "other" texts."""
    names = []
    for question in form.questions():
        if question.type == "text":
            names.append(question.name)
        if question.or_other:
            names.append(f"{question.name}_other")
    return names


def _text_columns(form: Form, frame: pd.DataFrame) -> list[str]:
    return [n for n in text_columns(form) if n in frame.columns]


def duplicates(frame: pd.DataFrame, form: Form, require_text: bool = True) -> BoolArray:
    """Later copies of an identical answer vector (every question, open text included).

    The first response of each set (in frame order, i.e. by id) is kept unflagged. With
    ``require_text`` (default) only responses with a non-blank open-text answer can be
    duplicates: on a short closed questionnaire two honest respondents easily give the same
    answers (Kuriakose & Robbins 2016 warn against reading every match as fraud), whereas the
    same free text with the same closed answers is a resubmission.

    References
    ----------
    Kuriakose, N., Robbins, M. (2016). Don't get duped: fraud through duplication in public
    opinion surveys. Statistical Journal of the IAOS 32(3), 283-291.
    """
    columns = [c for c in answer_columns(form) if c in frame.columns]
    flags = np.zeros(len(frame), dtype=bool)
    if not columns or frame.empty:
        return flags
    candidates = np.ones(len(frame), dtype=bool)
    if require_text:
        texts = _text_columns(form, frame)
        if not texts:
            return flags
        candidates = np.zeros(len(frame), dtype=bool)
        for name in texts:
            # Strip only the answers that exist: open text is usually missing in most rows.
            present = np.flatnonzero(frame[name].notna().to_numpy())
            given = frame[name].iloc[present].astype(str).str.strip().ne("").to_numpy()
            candidates[present[given]] = True
    if not candidates.any():
        return flags
    # One 64-bit hash per row over all answer columns; rows with equal hashes are equal.
    hashes = pd.util.hash_pandas_object(frame.loc[candidates, columns], index=False)
    flags[np.flatnonzero(candidates)] = hashes.duplicated(keep="first").to_numpy()
    return flags


@dataclass(frozen=True)
class FlagCount(Result):
    """How many responses carry one flag, and the rule that set it."""

    flag: str
    count: int
    excluded: bool
    rule: str


@dataclass(frozen=True)
class QualityReport(Result):
    """Counts of flagged responses; ``n_excluded`` responses (any excluded flag) were left out,
    so the summary's statistics rest on ``n_received - n_excluded`` responses."""

    n_received: int
    n_excluded: int
    flags: tuple[FlagCount, ...]
    median_duration: float | None
    speed_threshold: float | None
    rating_blocks: tuple[tuple[str, ...], ...]


def quality_report(
    *,
    n_received: int,
    n_excluded: int,
    counts: dict[str, int],
    exclude: Sequence[str],
    threshold: float | None,
    speed_factor: float,
    min_block_items: int,
    blocks: Sequence[tuple[str, ...]],
    duplicates_require_text: bool = True,
) -> QualityReport:
    """The report of the rules, whichever way the flags were computed (frame or Arrow)."""
    rules = {
        "speeder": f"duration < {speed_factor:g} x median duration",
        "straightliner": f"same answer to every item of a rating block of >= {min_block_items}",
        "duplicate": "same answers as an earlier response"
        + (" (with open text)" if duplicates_require_text else ""),
    }
    return QualityReport(
        n_received=n_received,
        n_excluded=n_excluded,
        flags=tuple(FlagCount(name, counts[name], name in exclude, rules[name]) for name in FLAGS),
        median_duration=None if threshold is None else nan_to_none(threshold / speed_factor),
        speed_threshold=threshold,
        rating_blocks=tuple(blocks),
    )


@dataclass(frozen=True)
class QualityCheck:
    """Per-response flags (a boolean frame with one column per flag) and the report."""

    flags: pd.DataFrame
    keep: BoolArray
    report: QualityReport


def quality_check(
    frame: pd.DataFrame,
    form: Form,
    exclude: Sequence[str] = FLAGS,
    *,
    speed_factor: float = SPEED_FACTOR,
    min_block_items: int = MIN_BLOCK_ITEMS,
    duplicates_require_text: bool = True,
) -> QualityCheck:
    """Flag every response and decide which to keep.

    ``exclude`` names the flags whose responses are left out (default: all of `FLAGS`; pass
    ``()`` to keep everyone and still count the flags). A frame without a ``duration`` column
    flags no speeders.
    """
    unknown = [f for f in exclude if f not in FLAGS]
    if unknown:
        raise UnknownOptionError.for_choice("exclude", unknown[0], list(FLAGS))
    durations = (
        frame["duration"].to_numpy(dtype=np.float64)
        if "duration" in frame.columns
        else np.full(len(frame), np.nan)
    )
    fast, threshold = speeders(durations, speed_factor)
    blocks = rating_blocks(form, min_block_items)
    flags = pd.DataFrame(
        {
            "speeder": fast,
            "straightliner": straightliners(frame, form, blocks),
            "duplicate": duplicates(frame, form, duplicates_require_text),
        },
        index=frame.index,
    )
    keep: BoolArray = np.ones(len(frame), dtype=bool)
    for name in exclude:
        keep &= ~flags[name].to_numpy(dtype=bool)
    report = quality_report(
        n_received=len(frame),
        n_excluded=int((~keep).sum()),
        counts={name: int(flags[name].sum()) for name in FLAGS},
        exclude=exclude,
        threshold=threshold,
        speed_factor=speed_factor,
        min_block_items=min_block_items,
        blocks=blocks,
        duplicates_require_text=duplicates_require_text,
    )
    return QualityCheck(flags, keep, report)
