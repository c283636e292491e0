"""The study report's charts, drawn by matplotlib as static SVG text to inline in the page.

Two kinds, each one function: `wave_bars` (a share per item and wave, the waves side by side, n on every
bar and the change between the first and the last wave beside them) and `count_bars` (counts stacked by
kind per row, for the case studies' fieldwork). Only matplotlib's object API is used (no pyplot, so no
global figure state), with text kept as text in the SVG (searchable, and read by the tests), and every id
in a chart prefixed with the chart's id, so several charts live in one page.

A bar is a group with the id `<chart>-bar:<wave>:<row>` (or `<chart>-bar:<kind>:<row>`), so a test or a
reader of the SVG can tell which figure each bar shows.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

# Okabe & Ito's palette, distinguishable with every common colour-vision deficiency; the first wave
# light, the last dark.
BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, YELLOW = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
)
WAVE_COLOURS = (SKY, BLUE, ORANGE, GREEN, PINK)
KIND_COLOURS = (BLUE, SKY, PINK, ORANGE, YELLOW, GREEN, VERMILLION)
INK, MUTED, GRID = "#222222", "#555555", "#DDDDDD"

STYLE = {
    "svg.fonttype": "none",  # text stays text
    "text.parse_math": False,  # a "$" in a label is a dollar sign, not the start of a formula
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": INK,
}
LABEL_WIDTH = 38  # characters per line of a row's label


@dataclass(frozen=True)
class WaveValue:
    """One bar: a share (None: no valid answers) of `n`, with its text ("43 % (n = 411)")."""

    share: float | None
    text: str


@dataclass(frozen=True)
class WaveRow:
    """One item: a bar per wave (in the order of `waves`) and the change beside them ("+5 pp", or "")."""

    label: str
    values: dict[str, WaveValue]
    change: str


@dataclass(frozen=True)
class CountRow:
    """One row of counts stacked by kind, with the total's text at its end."""

    label: str
    counts: Sequence[int]
    total_text: str


def _wrapped(label: str) -> str:
    return "\n".join(textwrap.wrap(label, LABEL_WIDTH)) or label


def _svg(figure: Figure, chart_id: str, title: str, description: str) -> str:
    """The figure as one `<svg>` element: titled and described for a screen reader, ids made unique."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**STYLE, "svg.hashsalt": chart_id}):
        FigureCanvasSVG(figure).print_svg(
            buffer, metadata={"Creator": None, "Date": None, "Format": None, "Type": None}
        )
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\bid="', f'id="{chart_id}-', svg)
    svg = svg.replace("url(#", f"url(#{chart_id}-").replace('xlink:href="#', f'xlink:href="#{chart_id}-')
    head_end = svg.index(">") + 1
    opening = svg[:head_end].replace("<svg ", f'<svg role="img" aria-labelledby="{chart_id}-title" ', 1)
    accessible = f'<title id="{chart_id}-title">{escape(title)}</title><desc>{escape(description)}</desc>'
    return opening + accessible + svg[head_end:]


def wave_bars(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[WaveRow],
    waves: Sequence[str],
    axis_label: str,
    tick_labels: Sequence[str],
    change_heading: str,
) -> str:
    """Horizontal bars of a share, one per wave side by side for every row, the share and n at each bar's
    end and the change between the waves in a column on the right. `tick_labels` name 0, 25, 50, 75 and
    100 % in the page's language."""
    bar = 0.8 / len(waves)
    labels = [_wrapped(row.label) for row in rows]
    row_inches = [max(0.22 * len(waves) + 0.12, 0.18 * (label.count("\n") + 1) + 0.1) for label in labels]
    top, bottom = 0.45, 0.65
    height = top + sum(row_inches) + bottom
    figure = Figure(figsize=(9.5, height))
    with matplotlib.rc_context(STYLE):
        axes = figure.add_axes((0.33, bottom / height, 0.5, sum(row_inches) / height))
        for index, row in enumerate(rows):
            for position, wave in enumerate(waves):
                value = row.values.get(wave)
                y = index + (position - (len(waves) - 1) / 2) * bar
                share = value.share if value is not None and value.share is not None else 0.0
                drawn = axes.barh(y, share, height=bar * 0.92, color=WAVE_COLOURS[position % len(WAVE_COLOURS)])
                drawn[0].set_gid(f"bar:{wave}:{index}")
                text = value.text if value is not None else "–"
                axes.text(share + 0.01, y, text, va="center", ha="left", fontsize=8, color=INK)
            axes.text(1.2, index, row.change, va="center", ha="right", fontsize=9, color=INK, fontweight="bold")
        axes.text(1.2, -0.55, change_heading, va="bottom", ha="right", fontsize=8, color=MUTED)
        axes.set_yticks(range(len(rows)), labels)
        axes.set_ylim(len(rows) - 0.5, -0.5)
        axes.set_xlim(0, 1.22)
        axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], list(tick_labels))
        axes.set_xlabel(axis_label)
        axes.xaxis.grid(True, color=GRID)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        handles = [
            Patch(color=WAVE_COLOURS[position % len(WAVE_COLOURS)], label=wave) for position, wave in enumerate(waves)
        ]
        axes.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(waves), frameon=False)
    return _svg(figure, chart_id, title, description)


def count_bars(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[CountRow],
    kinds: Sequence[str],
    axis_label: str,
) -> str:
    """Horizontal bars of counts stacked by kind, one per row, each segment's count in it when it fits and
    the total's text at the end."""
    figure = Figure(figsize=(9.5, 1.4 + 0.5 * len(rows)))
    most = max([sum(row.counts) for row in rows] + [1])
    with matplotlib.rc_context(STYLE):
        axes = figure.add_axes((0.3, 1.0 / figure.get_figheight(), 0.6, 1 - 1.6 / figure.get_figheight()))
        for index, row in enumerate(rows):
            left = 0
            for position, count in enumerate(row.counts):
                colour = KIND_COLOURS[position % len(KIND_COLOURS)]
                drawn = axes.barh(index, count, left=left, height=0.6, color=colour)
                drawn[0].set_gid(f"bar:{position}:{index}")
                if count and count / most > 0.04:
                    dark = colour in (BLUE, GREEN, VERMILLION)
                    axes.text(left + count / 2, index, str(count), ha="center", va="center", fontsize=8,
                              color="white" if dark else INK)  # fmt: skip
                left += count
            axes.text(left + most * 0.01, index, row.total_text, va="center", ha="left", fontsize=9, color=INK)
        axes.set_yticks(range(len(rows)), [_wrapped(row.label) for row in rows])
        axes.set_ylim(len(rows) - 0.5, -0.5)
        axes.set_xlim(0, most * 1.25)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(axis_label)
        axes.xaxis.grid(True, color=GRID)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        handles = [
            Patch(color=KIND_COLOURS[position % len(KIND_COLOURS)], label=kind) for position, kind in enumerate(kinds)
        ]
        axes.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3, frameon=False, fontsize=8)
    return _svg(figure, chart_id, title, description)
