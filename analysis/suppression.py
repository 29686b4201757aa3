"""Small-cell suppression for department-facing outputs: counts below the threshold, and enough
other cells that no suppressed count can be worked back out of the totals that stay visible.

Works on the plain summary (`CampaignSummary.to_dict()`), the one shape that pages, the API,
stored job results and the PDF report share. `suppress_summary` is what every department-facing
output calls.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.errors import UnknownOptionError
from analysis.summary_types import CampaignSummary
from minsheng.problems import Problem

DEFAULT_THRESHOLD = 5
#: Fields of a row (or crosstab cell) that reveal its count, blanked when it is suppressed.
# A design-based row's standard error and effective n give its share back as well.
ROW_FIELDS = (
    "count",
    "weighted_count",
    "percent",
    "ci_low",
    "ci_high",
    "percent_of_mentions",
    "se",
    "design_effect",
    "effective_n",
)

BoolArray = npt.NDArray[np.bool_]


def protected_cells(
    counts: Sequence[float] | npt.NDArray[np.float64],
    lines: Sequence[Sequence[int]],
    threshold: int,
    primary: Sequence[bool] | BoolArray | None = None,
) -> BoolArray:
    """Which cells to suppress: the primary ones and their complements.

    Parameters
    ----------
    counts : sequence of numbers
        Unweighted count of every cell (flattened).
    lines : sequence of index lists
        Groups of cells whose total is published (a table's total, each row and each column of
        a crosstab, the top-box share of a rating); each is checked on its own.
    threshold : int
        Cells with 0 < count < threshold are suppressed (primary suppression).
    primary : sequence of bool, optional
        Cells to suppress in the first place, when the rule above is not the right one.

    Returns
    -------
    numpy array of bool, True where the cell must be hidden.

    Notes
    -----
    Complementary suppression by lines: in every line holding a suppressed cell, further cells
    are suppressed, smallest non-zero count first, until the line has at least two suppressed
    cells whose total reaches the threshold. Then no suppressed cell equals a visible total minus
    visible cells, and the suppressed cells of a line together stand for at least ``threshold``
    respondents. Lines are revisited until nothing changes, because a complement in one row can
    leave a column exposed. This is the usual line-by-line heuristic (Hundepool et al. 2012,
    section 4.4); it guards against recovery by differencing from published totals, not against
    every bound a linear program could derive from a large multi-way table.

    References
    ----------
    Hundepool, A., Domingo-Ferrer, J., Franconi, L., et al. (2012). Statistical Disclosure
    Control. Wiley, chapter 4.
    """
    values = np.asarray(counts, dtype=np.float64)
    hidden = (
        np.asarray(primary, dtype=bool).copy()
        if primary is not None
        else (values > 0) & (values < threshold)
    )
    indices = [np.asarray(line, dtype=np.int64) for line in lines if len(line)]
    changed = bool(hidden.any())
    while changed:
        changed = False
        for line in indices:
            while hidden[line].any():
                shut = line[hidden[line]]
                if shut.size >= 2 and values[shut].sum() >= threshold:
                    break
                open_cells = line[~hidden[line]]
                if open_cells.size == 0:
                    break
                # Smallest non-zero count first: it costs the reader least; zeros last.
                order = np.lexsort((values[open_cells], values[open_cells] == 0))
                hidden[open_cells[order[0]]] = True
                changed = True
    return hidden


def _blank_rows(rows: list[dict[str, Any]], hidden: BoolArray) -> None:
    for row, shut in zip(rows, hidden, strict=True):
        row["suppressed"] = bool(shut)
        if shut:
            for key in ROW_FIELDS:
                if key in row:
                    row[key] = None


def _suppress_question(question: dict[str, Any], threshold: int) -> int:
    """Suppress one question in place; return the number of hidden cells."""
    n = int(question.get("n_base") or 0)
    rows: list[dict[str, Any]] = question.get("rows") or []
    counts = np.array([float(r.get("count") or 0) for r in rows])
    everything = 0 < n < threshold
    kind = question.get("kind")
    if everything:
        hidden = np.ones(len(rows), dtype=bool)
    elif kind == "multiple":
        # An option is a two-cell table (chosen, not chosen) over the base; both must be large.
        small = ((counts > 0) & (counts < threshold)) | (
            (n - counts > 0) & (n - counts < threshold)
        )
        hidden = protected_cells(counts, [range(len(rows))], threshold, small)
    else:
        lines: list[Sequence[int]] = [range(len(rows))]
        top = set(question.get("top_box_choices") or ())
        if top and question.get("top_box"):
            lines.append([i for i, r in enumerate(rows) if r.get("name") in top])
            lines.append([i for i, r in enumerate(rows) if r.get("name") not in top])
        hidden = protected_cells(counts, lines, threshold)
    _blank_rows(rows, hidden)
    _suppress_blocks(question, threshold, n, everything or bool(hidden.any()))
    if question.get("text"):
        _suppress_text(question["text"], threshold)
    return int(hidden.sum())


def _suppress_blocks(question: dict[str, Any], threshold: int, n: int, touched: bool) -> None:
    """Estimates derived from the cells: blanked when they could give a hidden cell away."""
    if touched:
        # A mean adds one more equation over the cells; with hidden cells it could solve them.
        question["mean"] = None
        question["nps"] = None
    top_box = question.get("top_box")
    if top_box and top_box.get("estimate") is not None:
        in_top = round(float(top_box["estimate"]) * n)
        if 0 < n < threshold or 0 < in_top < threshold or 0 < n - in_top < threshold:
            question["top_box"] = None
    numeric = question.get("numeric")
    if numeric:
        # The minimum and maximum are single respondents' answers.
        numeric["minimum"] = numeric["maximum"] = None
        if touched or 0 < n < threshold:
            question["numeric"] = None
    nps = question.get("nps")
    if nps and nps.get("estimate") is not None:
        shares = [nps.get(k) or 0.0 for k in ("promoters_percent", "detractors_percent")]
        groups = [round(s * n / 100) for s in shares]
        if any(0 < g < threshold for g in groups):
            question["nps"] = None
    items = question.get("ranking") or []
    if items:
        firsts = np.array(
            [round(float((i["ranked_first"] or {}).get("estimate") or 0) * n) for i in items]
        )
        shut = protected_cells(firsts, [range(len(items))], threshold)
        for item, hide in zip(items, shut, strict=True):
            if hide or 0 < n < threshold:
                item["ranked_first"] = None
            if int((item.get("mean_rank") or {}).get("n_unweighted") or 0) < threshold:
                item["mean_rank"] = None


def _suppress_text(text: dict[str, Any], threshold: int) -> None:
    """Keywords, themes and repeated suggestions shared by fewer than ``threshold`` answers are
    dropped: a quote or count that few people share could point at them."""
    text["keywords"] = [k for k in text.get("keywords", []) if k["answers"] >= threshold]
    text["themes"] = [t for t in text.get("themes", []) if t["count"] >= threshold]
    text["duplicates"] = [d for d in text.get("duplicates", []) if d["count"] >= threshold]


def _suppress_crosstab(table: dict[str, Any], threshold: int) -> int:
    counts = np.array(
        [[float(c or 0) for c in row] for row in table.get("counts") or []], dtype=np.float64
    )
    if counts.size == 0:
        return 0
    rows, cols = counts.shape
    lines = [list(range(r * cols, (r + 1) * cols)) for r in range(rows)]
    lines += [list(range(c, rows * cols, cols)) for c in range(cols)]
    hidden = protected_cells(counts.ravel(), lines, threshold).reshape(rows, cols)
    for key in ("counts", "weighted_counts", "column_percents", "adjusted_residuals"):
        grid = table.get(key)
        if grid:
            table[key] = [
                [None if hidden[r][c] else grid[r][c] for c in range(cols)] for r in range(rows)
            ]
    if table.get("marks"):
        table["marks"] = [
            ["" if hidden[r][c] else table["marks"][r][c] for c in range(cols)] for r in range(rows)
        ]
    table["column_n"] = [
        None if n is not None and 0 < n < threshold else n for n in table.get("column_n", [])
    ]
    table["suppressed"] = hidden.tolist()
    return int(hidden.sum())


def suppress_summary(
    summary: CampaignSummary | Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """A copy of the summary fit for a department: small cells and what gives them away hidden.

    Parameters
    ----------
    summary : CampaignSummary or its ``to_dict()``
        The staff summary (it is not changed).
    threshold : int
        The smallest count shown (configuration: ``SUPPRESSION_THRESHOLD``, default 5).

    Returns
    -------
    dict
        The summary with suppressed counts, percentages and intervals set to None and
        ``"suppressed": true`` on their rows; for each question, means and NPS are dropped when
        any of its cells is hidden, minimum and maximum always; top-box shares built on fewer
        than ``threshold`` answers (in or out of the box) are dropped; crosstab cells follow the
        same rule with every row and column as a published total, and so do the responses by
        channel, collection point and target group (``responses_by``); open-text keywords, themes
        and repeated suggestions shared by fewer than ``threshold`` answers are left out.
        ``"suppression"`` records the threshold and the number of cells hidden.
    """
    if not isinstance(threshold, int) or threshold < 1:
        raise UnknownOptionError(
            [Problem("threshold", f"got {threshold!r}; expected an integer >= 1")]
        )
    data = (
        summary.to_dict() if isinstance(summary, CampaignSummary) else copy.deepcopy(dict(summary))
    )
    hidden = sum(_suppress_question(q, threshold) for q in data.get("questions", []))
    crosstabs = data.get("crosstabs") or {}
    hidden += sum(_suppress_crosstab(t, threshold) for t in crosstabs.get("tables", []))
    hidden += sum(
        suppress_counts(counts, threshold) for counts in (data.get("responses_by") or {}).values()
    )
    data["suppression"] = {"threshold": threshold, "cells_suppressed": hidden}
    return data


def suppress_counts(counts: dict[str, int | None], threshold: int) -> int:
    """Hide, in place, the small counts of a one-way table whose total is published (responses
    by channel, collection point or target group) and their complements, so that none is the
    total minus the others; return how many were hidden."""
    names = list(counts)
    hidden = protected_cells([float(counts[n] or 0) for n in names], [range(len(names))], threshold)
    for name, hide in zip(names, hidden, strict=True):
        if hide:
            counts[name] = None
    return int(hidden.sum())
