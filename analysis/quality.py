"""Data quality: speeders (against the median and the questionnaire's minimum time), straight-lining
in rating blocks, duplicate and near-duplicate submissions, and bots caught by the honeypot,
flagged per response. Flagged responses are left out of the statistics by default and counted in
the summary.
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
from questionnaire.schema import INPUT_FREE_TYPES, Form, Group, Question

#: Every flag, in report order.
FLAGS = ("speeder", "straightliner", "duplicate", "near_duplicate", "honeypot")
SPEED_FACTOR = 0.3
MIN_DURATIONS = 10
MIN_BLOCK_ITEMS = 4
#: The default minimum completion time per question every respondent is asked (Huang et al.
#: 2012: under 2 s an item cannot have been read).
SECONDS_PER_QUESTION = 2.0
#: Near-duplicates are looked for among responses this close in time (the address hashes of
#: `forms.provenance` change every UTC day, so a pair across midnight is not seen either).
NEAR_DUPLICATE_WINDOW = 24 * 3600.0

BoolArray = npt.NDArray[np.bool_]


def minimum_duration(form: Form) -> float:
    """The questionnaire's minimum completion time in seconds: its `min_completion_seconds`
    setting, else `SECONDS_PER_QUESTION` for each question every respondent is asked (one
    with no `relevant` on it or on a group around it; notes and calculations do not count).

    Notes
    -----
    A floor in absolute time catches what the relative rule cannot: a campaign flooded by a
    script from its first response has a median as fast as the script. Only questions nobody
    can skip are counted, so a respondent routed past whole pages is never below it.

    References
    ----------
    Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., DeShon, R. P. (2012). Detecting
    and deterring insufficient effort responding to surveys. Journal of Business and Psychology
    27(1), 99-114.
    """
    setting = form.settings.get("min_completion_seconds")
    if setting is not None:
        return float(setting)
    return SECONDS_PER_QUESTION * _asked_of_everyone(form.children)


def _asked_of_everyone(children: Sequence[Question | Group]) -> int:
    count = 0
    for child in children:
        if child.relevant:
            continue
        if isinstance(child, Group):
            count += _asked_of_everyone(child.children)
        elif child.type not in INPUT_FREE_TYPES:
            count += 1
    return count


def speeders(
    durations: pd.Series[float] | npt.ArrayLike,
    factor: float = SPEED_FACTOR,
    min_durations: int = MIN_DURATIONS,
    minimum: float = 0.0,
) -> tuple[BoolArray, float | None]:
    """Responses completed in less than ``factor`` x the median completion time, or in less
    than ``minimum`` seconds (`minimum_duration` of the questionnaire).

    Returns the flags and the threshold relative to the median in seconds (None when there are
    fewer than ``min_durations`` known durations; then only ``minimum`` applies).

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
    threshold = None
    if int(known.sum()) >= min_durations:
        threshold = factor * float(np.median(seconds[known]))
    limit = max(threshold or 0.0, minimum)
    return known & (seconds < limit), threshold


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


def text_candidates(frame: pd.DataFrame, form: Form) -> BoolArray:
    """Responses with a non-blank open-text answer: the only ones that can be duplicates."""
    candidates = np.zeros(len(frame), dtype=bool)
    for name in _text_columns(form, frame):
        # Strip only the answers that exist: open text is usually missing in most rows.
        present = np.flatnonzero(frame[name].notna().to_numpy())
        given = frame[name].iloc[present].astype(str).str.strip().ne("").to_numpy()
        candidates[present[given]] = True
    return candidates


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
    candidates = text_candidates(frame, form) if require_text else np.ones(len(frame), bool)
    if not candidates.any():
        return flags
    # One 64-bit hash per row over all answer columns; rows with equal hashes are equal.
    hashes = pd.util.hash_pandas_object(frame.loc[candidates, columns], index=False)
    flags[np.flatnonzero(candidates)] = hashes.duplicated(keep="first").to_numpy()
    return flags


def near_duplicate_flags(
    origins: npt.NDArray[np.int64],
    fingerprints: npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
    window: float = NEAR_DUPLICATE_WINDOW,
) -> BoolArray:
    """Responses with the origin and the answers' fingerprint of an earlier one (in time, then
    in row order) submitted at most ``window`` seconds before it.

    ``origins`` and ``fingerprints`` are non-negative codes of the address hash and of the
    fingerprint (`analysis.frames.hash_code`; -1 unknown, never matched), ``times`` the
    submission times in microseconds. Each response is compared with
    the latest earlier one of its kind, so a run of resubmissions is flagged but its first.
    """
    flags = np.zeros(origins.shape[0], dtype=bool)
    rows = np.flatnonzero((origins >= 0) & (fingerprints >= 0))
    if rows.size < 2:
        return flags
    origin, fingerprint, moment = origins[rows], fingerprints[rows], times[rows]
    order = np.lexsort((rows, moment, fingerprint, origin))
    origin, fingerprint, moment = origin[order], fingerprint[order], moment[order]
    later = (
        (origin[1:] == origin[:-1])
        & (fingerprint[1:] == fingerprint[:-1])
        & (moment[1:] - moment[:-1] <= window * 1e6)
    )
    flags[rows[order[1:][later]]] = True
    return flags


def near_duplicates(
    frame: pd.DataFrame, form: Form, window: float = NEAR_DUPLICATE_WINDOW
) -> BoolArray:
    """Resubmissions from one address (`near_duplicate_flags`): the same answers with the same
    text once normalised (the ``fingerprint`` `forms.fingerprints` stored), from the same
    ``address`` hash within ``window`` seconds.

    Notes
    -----
    Only responses with open text can be near-duplicates, as for `duplicates`, and for a
    further reason: many respondents share one address behind a mobile carrier's NAT, so equal
    closed answers from one address are common among honest people; equal free text is not.
    """
    needed = {"address", "fingerprint", "submitted_at"}
    if frame.empty or not needed <= set(frame.columns):
        return np.zeros(len(frame), dtype=bool)
    candidates = text_candidates(frame, form)
    origins = np.where(candidates, frame["address"].fillna(-1).to_numpy(np.int64), -1)
    fingerprints = frame["fingerprint"].fillna(-1).to_numpy(np.int64)
    times = frame["submitted_at"].dt.as_unit("us").astype("int64").to_numpy()
    return near_duplicate_flags(origins, fingerprints, times, window)


def honeypots(frame: pd.DataFrame) -> BoolArray:
    """Responses whose page sent the honeypot field back filled (`forms.provenance`): no
    person sees that field, so they are bots however plausible their answers."""
    if "honeypot" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["honeypot"].fillna(False).to_numpy(dtype=bool)


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
    minimum_duration: float | None = None


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
    minimum: float = 0.0,
    window: float = NEAR_DUPLICATE_WINDOW,
) -> QualityReport:
    """The report of the rules, whichever way the flags were computed (frame or Arrow).
    ``threshold`` is the one relative to the median; ``speed_threshold`` in the report is the
    one applied, the larger of it and ``minimum``."""
    rules = {
        "speeder": f"duration < {speed_factor:g} x median duration"
        + (f" or < {minimum:g} s (the questionnaire's minimum)" if minimum > 0 else ""),
        "straightliner": f"same answer to every item of a rating block of >= {min_block_items}",
        "duplicate": "same answers as an earlier response"
        + (" (with open text)" if duplicates_require_text else ""),
        "near_duplicate": "same answers and normalised open text as a response from the same "
        f"address within {window / 3600:g} h",
        "honeypot": "filled in the hidden honeypot field no person sees",
    }
    applied = max(threshold or 0.0, minimum)
    return QualityReport(
        n_received=n_received,
        n_excluded=n_excluded,
        flags=tuple(FlagCount(name, counts[name], name in exclude, rules[name]) for name in FLAGS),
        median_duration=None if threshold is None else nan_to_none(threshold / speed_factor),
        speed_threshold=applied if applied > 0 else None,
        rating_blocks=tuple(blocks),
        minimum_duration=minimum if minimum > 0 else None,
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
    minimum = minimum_duration(form)
    fast, threshold = speeders(durations, speed_factor, minimum=minimum)
    blocks = rating_blocks(form, min_block_items)
    flags = pd.DataFrame(
        {
            "speeder": fast,
            "straightliner": straightliners(frame, form, blocks),
            "duplicate": duplicates(frame, form, duplicates_require_text),
            "near_duplicate": near_duplicates(frame, form),
            "honeypot": honeypots(frame),
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
        minimum=minimum,
    )
    return QualityCheck(flags, keep, report)
