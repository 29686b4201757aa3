"""Report charts drawn with matplotlib and returned as SVG text for the report HTML.

Figures are built as `matplotlib.figure.Figure` objects, never through pyplot, so there is no
global figure registry to leak into and nothing for a long-running worker to close; rcParams are
only touched inside `rc_context` while saving. Labels stay text (`svg.fonttype = none`) named by
the CJK family: matplotlib measures them with the same face that WeasyPrint then draws, so they
fit, can be searched and copied in the PDF, and cost a fraction of glyph outlines to lay out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MultipleLocator, PercentFormatter

from exporters.fonts import CJKFont

# A restrained palette that stays apart for the common colour-vision deficiencies: one ink
# colour for bars, and ColorBrewer's 5-class RdBu for agreement (marked colour-blind safe by
# ColorBrewer, Harrower & Brewer 2003), red and blue never told apart by hue alone since they
# sit at the two ends with the lightness running to grey in the middle.
INK = "#1f4e79"
WHISKER = "#1a1a1a"
#: Drawn under each whisker, so the interval shows on a dark bar as on the white page.
HALO = "#ffffff"
GRID = "#d9d9d9"
TEXT = "#262626"
MUTED = "#6b6b6b"
DIVERGING = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")
#: Suppressed shares: a hatched light band, never a bar of zero length.
SUPPRESSED_FILL = "#f2f2f2"
SUPPRESSED_HATCH = "////"
SUPPRESSED_STYLE: dict[str, Any] = {
    "color": SUPPRESSED_FILL,
    "hatch": SUPPRESSED_HATCH,
    "edgecolor": GRID,
    "linewidth": 0.0,
}
#: A chart longer than this many bars would not fit an A4 page (the table lists all).
MAX_BARS = 30

WIDTH_IN = 6.3  # the text block of an A4 page with 2.2 cm margins
ROW_IN = 0.28
FONT_PT = 9.0


@dataclass(frozen=True)
class Bar:
    """One bar: a percentage (0-100) with its confidence interval; None when not estimable or
    suppressed, in which case the bar is left empty and labelled with `note`."""

    label: str
    percent: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str = ""


@dataclass(frozen=True)
class LikertItem:
    """One stacked bar of a rating scale: the item's label and the percent of each scale point,
    in scale order (most negative first)."""

    label: str
    percents: Sequence[float | None]


def percent_bars(bars: Sequence[Bar], font: CJKFont, axis_label: str, key: str = "chart") -> str:
    """Horizontal bars of percentages with confidence-interval whiskers, in the given order
    (first on top). Single choice: shares of the base; multiple choice: % of respondents."""
    figure = Figure(figsize=(WIDTH_IN, 0.55 + ROW_IN * max(len(bars), 1)))
    axes = figure.add_axes((0.26, 0.2, 0.68, 0.78))
    positions = list(range(len(bars)))
    values = [bar.percent or 0.0 for bar in bars]
    axes.barh(positions, values, height=0.62, color=INK, zorder=2)
    highs = [b.ci_high for b in bars if b.ci_high is not None]
    limit = min(100.0, max([*values, *highs, 1.0]) * 1.18 + 2.0)
    for y, bar in enumerate(bars):
        if bar.percent is None:
            _suppressed_band(axes, y, limit, bar.note or "–", font)
            continue
        if bar.ci_low is not None and bar.ci_high is not None:
            # A Wilson bound of 0 of n comes out as 7e-16, past the estimate 0: matplotlib
            # refuses a negative whisker, so rounding noise is clipped to none.
            error = [[max(0.0, bar.percent - bar.ci_low)], [max(0.0, bar.ci_high - bar.percent)]]
            for colour, width, cap, z in ((HALO, 2.6, 3.2, 3), (WHISKER, 0.9, 2.5, 4)):
                axes.errorbar(
                    bar.percent,
                    y,
                    xerr=error,
                    fmt="none",
                    ecolor=colour,
                    elinewidth=width,
                    capsize=cap,
                    capthick=width,
                    zorder=z,
                )
        right = bar.ci_high if bar.ci_high is not None else bar.percent
        axes.text(
            right + limit * 0.015,
            y,
            f"{bar.percent:.1f}%",
            va="center",
            ha="left",
            color=TEXT,
            fontproperties=font.properties(size=FONT_PT - 0.5),
        )
    axes.set_yticks(positions, [_wrap(bar.label) for bar in bars])
    axes.invert_yaxis()
    axes.set_xlim(0, limit)
    # Whole-number ticks: 5 % apart for small shares, 10 % or 20 % for larger ones.
    axes.xaxis.set_major_locator(MultipleLocator(5 if limit <= 30 else 10 if limit <= 60 else 20))
    axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_xlabel(axis_label, color=MUTED)
    _style(axes, font)
    return _svg(figure, key)


def _suppressed_band(axes: Axes, y: float, limit: float, note: str, font: CJKFont) -> None:
    """A hatched band across the whole row with its note: plainly not a value, so a hidden
    share is never read as none (issue 12)."""
    axes.barh(y, limit, height=0.62, zorder=1, **SUPPRESSED_STYLE)
    axes.text(
        limit * 0.02,
        y,
        note,
        va="center",
        ha="left",
        color=TEXT,
        fontproperties=font.properties(size=FONT_PT - 1),
        zorder=3,
    )


def likert_bars(
    items: Sequence[LikertItem],
    scale: Sequence[str],
    font: CJKFont,
    axis_label: str,
    key: str = "chart",
    suppressed_label: str = "suppressed",
) -> str:
    """100 % stacked bars, one per item, segments coloured from the negative to the positive end
    of the scale, with the share printed inside segments wide enough to hold it. Suppressed
    points (None) are drawn together as one hatched segment at the end, labelled
    ``suppressed_label`` in the legend, so the visible shares are never stretched to 100 %."""
    colours = _scale_colours(len(scale))
    hidden = any(share is None for item in items for share in item.percents)
    figure = Figure(figsize=(WIDTH_IN, 0.7 + ROW_IN * 1.2 * max(len(items), 1)))
    left = 0.28 if any(item.label for item in items) else 0.02
    axes = figure.add_axes((left, 0.25, 0.97 - left, 0.6))
    for y, item in enumerate(items):
        start = 0.0
        for k, share in enumerate(item.percents):
            width = share or 0.0
            axes.barh(
                y,
                width,
                left=start,
                height=0.6,
                color=colours[k],
                zorder=2,
                edgecolor="white",
                linewidth=0.6,
            )
            if width >= 6:
                dark = k in (0, len(scale) - 1)
                axes.text(
                    start + width / 2,
                    y,
                    f"{width:.0f}%",
                    ha="center",
                    va="center",
                    color="white" if dark else TEXT,
                    fontproperties=font.properties(size=FONT_PT - 1),
                )
            start += width
        if any(share is None for share in item.percents) and start < 100:
            # The suppressed points together hold what the visible ones leave of 100 %.
            axes.barh(y, 100 - start, left=start, height=0.6, zorder=2, **SUPPRESSED_STYLE)
    axes.set_yticks(range(len(items)), [_wrap(item.label) for item in items])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_locator(MultipleLocator(20))
    axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_xlabel(axis_label, color=MUTED)
    handles = [Patch(color=colour) for colour in colours]
    names = list(scale)
    if hidden:
        handles.append(Patch(facecolor=SUPPRESSED_FILL, hatch=SUPPRESSED_HATCH, edgecolor=GRID))
        names.append(suppressed_label)
    axes.legend(
        handles,
        names,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=min(len(names), 6),
        frameon=False,
        prop=font.properties(size=FONT_PT - 0.5),
        handlelength=1.2,
        columnspacing=1.4,
    )
    _style(axes, font)
    return _svg(figure, key)


@dataclass(frozen=True)
class Spread:
    """A numeric answer's five-number summary and its mean with the mean's interval."""

    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float | None = None
    mean_low: float | None = None
    mean_high: float | None = None


def spread_box(spread: Spread, font: CJKFont, axis_label: str, key: str = "chart") -> str:
    """One horizontal box plot (quartiles, median, whiskers to the smallest and largest answer)
    with the mean as a diamond and its confidence interval as a whisker above the box: a
    number question read at a glance, its skew and its outliers' reach included."""
    figure = Figure(figsize=(WIDTH_IN, 1.35))
    axes = figure.add_axes((0.04, 0.32, 0.92, 0.62))
    stats = {
        "med": spread.median,
        "q1": spread.q1,
        "q3": spread.q3,
        "whislo": spread.minimum,
        "whishi": spread.maximum,
        "fliers": [],
        "label": "",
    }
    axes.bxp(
        [stats],
        orientation="horizontal",
        widths=0.5,
        patch_artist=True,
        boxprops={"facecolor": "#dbe5f1", "edgecolor": INK, "linewidth": 1.0},
        medianprops={"color": INK, "linewidth": 2.0},
        whiskerprops={"color": INK, "linewidth": 1.0},
        capprops={"color": INK, "linewidth": 1.0},
    )
    if spread.mean is not None:
        if spread.mean_low is not None and spread.mean_high is not None:
            error = [[spread.mean - spread.mean_low], [spread.mean_high - spread.mean]]
            axes.errorbar(
                spread.mean,
                1.42,
                xerr=error,
                fmt="none",
                ecolor=WHISKER,
                elinewidth=0.9,
                capsize=2.5,
                zorder=4,
            )
        axes.plot([spread.mean], [1.42], marker="D", color=WHISKER, markersize=4.5, zorder=5)
    axes.set_ylim(0.6, 1.7)
    axes.set_yticks([])
    span = max(spread.maximum - spread.minimum, 1e-9)
    axes.set_xlim(spread.minimum - span * 0.04, spread.maximum + span * 0.04)
    axes.set_xlabel(axis_label, color=MUTED)
    _style(axes, font)
    return _svg(figure, key)


def _wrap(label: str, width: int = 12) -> str:
    """Break a long label every `width` characters (Chinese has no spaces to break at), so
    the axis keeps its width."""
    if len(label) <= width + 2:
        return label
    return "\n".join(label[i : i + width] for i in range(0, len(label), width))


def _scale_colours(points: int) -> list[str]:
    """Pick `points` colours symmetric around the neutral middle of `DIVERGING`."""
    if points == len(DIVERGING):
        return list(DIVERGING)
    cmap = LinearSegmentedColormap.from_list("agreement", DIVERGING)
    return [to_hex(cmap(k / max(points - 1, 1))) for k in range(points)]


def _style(axes: Axes, font: CJKFont) -> None:
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    axes.tick_params(axis="y", length=0, pad=6, colors=TEXT)
    axes.tick_params(axis="x", colors=MUTED, length=3, color=GRID)
    axes.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
    axes.set_axisbelow(True)
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        label.set_fontproperties(font.properties(size=FONT_PT))
    axes.xaxis.label.set_fontproperties(font.properties(size=FONT_PT - 0.5))


_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')


def _svg(figure: Figure, key: str) -> str:
    """The figure as an `<svg>` element (no XML prologue, no timestamp), ready to inline.

    Every id is prefixed with `key`: inlined charts share one HTML document, where matplotlib's
    ids (`patch_1`, glyph ids) would otherwise collide.
    """
    buffer = io.StringIO()
    # A fixed hash salt makes clip-path ids, and so the whole file, reproducible run to run.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "minsheng"}):
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None},
            transparent=True,
            bbox_inches="tight",
            pad_inches=0.04,
        )
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    svg = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', svg)
    return _REFERENCE.sub(lambda m: f"{m.group(1)}{key}-{m.group(2)}", svg)
