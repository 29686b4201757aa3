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

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MultipleLocator, PercentFormatter

from exporters.fonts import CJKFont

# A restrained palette: one ink colour for bars, a red-grey-blue scale for agreement.
INK = "#1f4e79"
WHISKER = "#404040"
GRID = "#d9d9d9"
TEXT = "#262626"
MUTED = "#6b6b6b"
DIVERGING = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")

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
            axes.text(
                0.5,
                y,
                bar.note or "–",
                va="center",
                ha="left",
                color=MUTED,
                fontproperties=font.properties(size=FONT_PT - 1),
            )
            continue
        if bar.ci_low is not None and bar.ci_high is not None:
            axes.errorbar(
                bar.percent,
                y,
                # A Wilson bound of 0 of n comes out as 7e-16, past the estimate 0: matplotlib
                # refuses a negative whisker, so rounding noise is clipped to none.
                xerr=[[max(0.0, bar.percent - bar.ci_low)], [max(0.0, bar.ci_high - bar.percent)]],
                fmt="none",
                ecolor=WHISKER,
                elinewidth=0.8,
                capsize=2.5,
                zorder=3,
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


def likert_bars(
    items: Sequence[LikertItem],
    scale: Sequence[str],
    font: CJKFont,
    axis_label: str,
    key: str = "chart",
) -> str:
    """100 % stacked bars, one per item, segments coloured from the negative to the positive end
    of the scale, with the share printed inside segments wide enough to hold it."""
    colours = _scale_colours(len(scale))
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
    axes.set_yticks(range(len(items)), [_wrap(item.label) for item in items])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_locator(MultipleLocator(20))
    axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_xlabel(axis_label, color=MUTED)
    handles = [Patch(color=colour) for colour in colours]
    axes.legend(
        handles,
        list(scale),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=min(len(scale), 5),
        frameon=False,
        prop=font.properties(size=FONT_PT - 0.5),
        handlelength=1.2,
        columnspacing=1.4,
    )
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
