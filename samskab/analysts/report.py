"""The study report: one self-contained HTML file drawn from the marts of the published file.

`build_report` reads the marts through an open (read-only) connection and writes one HTML page that opens
without a network: no scripts, no external stylesheets or fonts, no images; every chart is inline SVG drawn
here. Each chart is a `<figure id=...>` with a caption naming the mart and columns it shows, axis labels,
value labels, a legend where colours encode something, and the chart's numbers in a table beneath it.

Rules the charts follow (the marts' own, see README.md):

- Survey charts show the latest wave the mart holds (the greatest `wave_id`); the caption names it.
- Shares are the marts' own `share` columns (share = n_category / n_valid, "Ved ikke" left out), shown as
  percentages; the weighted shares are in the tables.
- Response is AAPOR RR2 from `survey_coverage`: heads answering (complete or partial) / eligible heads.
- A mart without the rows a chart needs gives the chart a sentence, "No data in this file", never an error.
"""

from __future__ import annotations

import html
import textwrap
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from samskab.common.atomic_files import write_atomically
from samskab.common.settings import Settings

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

CHARTS: tuple[tuple[str, str], ...] = (
    ("response-by-region", "Response rate by region"),
    ("response-by-sector-area", "Response rate by sector area"),
    ("partner-types-by-sector-area", "Partner types the sector areas collaborate with always or often"),
    ("motives", "Motives for collaborating with civil actors"),
    ("barriers", "Barriers to collaboration"),
    ("roles", "The municipality's roles in collaboration"),
    ("case-fieldwork", "Fieldwork progress of the case studies"),
)

NO_DATA = "No data in this file"

# Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, YELLOW = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
)
GREY = "#BBBBBB"
INK = "#222222"
MUTED = "#555555"
# An ordered extent scale, diverging purple (high) to orange (not at all): ColorBrewer PuOr, colour-blind safe.
EXTENT_COLOURS = {
    "high_extent": "#5E3C99",
    "some_extent": "#B2ABD2",
    "low_extent": "#FDB863",
    "not_at_all": "#E66101",
}
FALLBACK_COLOURS = (BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, YELLOW)
# Viridis, light (low) to dark (high): a sequential scale readable in grey and by colour-blind readers.
HEAT_STOPS = ("#FDE725", "#5EC962", "#21918C", "#3B528B", "#440154")

FONT = 12
CHAR_WIDTH = 0.58  # of the font size: an estimate of a character's width, for layout only


def esc(value: object) -> str:
    """Text made safe for HTML and SVG, attributes included."""
    return html.escape("" if value is None else str(value), quote=True)


def percent(share: float | None, decimals: int = 0) -> str:
    return "–" if share is None else f"{share * 100:.{decimals}f}%"


def count_text(value: object) -> str:
    return "–" if value is None else f"{value}"


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * CHAR_WIDTH


def dark_fill(colour: str) -> bool:
    """Whether white text contrasts more than black with `colour` (WCAG relative luminance below 0.179)."""
    red, green, blue = (int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5))

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue) < 0.179


def heat_colour(share: float) -> str:
    share = min(max(share, 0.0), 1.0)
    position = share * (len(HEAT_STOPS) - 1)
    index = min(int(position), len(HEAT_STOPS) - 2)
    fraction = position - index
    low, high = HEAT_STOPS[index], HEAT_STOPS[index + 1]
    channels = [
        round(int(low[i : i + 2], 16) + (int(high[i : i + 2], 16) - int(low[i : i + 2], 16)) * fraction)
        for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{channel:02X}" for channel in channels)


# --- reading the marts ------------------------------------------------------------------------------------


class MissingMart(Exception):
    """The file has no such table (an older or partial file): the chart says so instead of failing."""


def query(connection: DuckDBPyConnection, sql: str, parameters: Sequence[object] = ()) -> list[dict[str, Any]]:
    try:
        cursor = connection.execute(sql, list(parameters))
    except duckdb.CatalogException as error:
        raise MissingMart(str(error).splitlines()[0]) from error
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def latest_wave(connection: DuckDBPyConnection, mart: str) -> str | None:
    return query(connection, f"select max(wave_id) as wave_id from {mart}")[0]["wave_id"]


# --- SVG primitives -----------------------------------------------------------------------------------------


def svg_text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: float = FONT,
    fill: str = INK,
    weight: str | None = None,
    halo: bool = False,
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    extra = ' stroke="#FFFFFF" stroke-width="3" stroke-linejoin="round" paint-order="stroke"' if halo else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"'
        f"{bold}{extra}>{esc(text)}</text>"
    )


def svg_rect(
    x: float, y: float, width: float, height: float, fill: str, tooltip: str | None = None, **attrs: str
) -> str:
    more = "".join(f' {name.replace("_", "-")}="{esc(value)}"' for name, value in attrs.items())
    head = f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" fill="{fill}"{more}'
    return f"{head}><title>{esc(tooltip)}</title></rect>" if tooltip else f"{head}/>"


def svg_line(x1: float, y1: float, x2: float, y2: float, stroke: str, dash: str | None = None, width: float = 1) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{dashed}/>'
    )


def svg_document(chart_id: str, title: str, description: str, width: float, height: float, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" role="img" '
            f'aria-labelledby="{chart_id}-svg-title {chart_id}-svg-desc" '
            "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\">",
            f'<title id="{chart_id}-svg-title">{esc(title)}</title>',
            f'<desc id="{chart_id}-svg-desc">{esc(description)}</desc>',
            *body,
            "</svg>",
        ]
    )


def legend(x: float, y: float, entries: Sequence[tuple[str, str]], max_width: float) -> tuple[list[str], float]:
    """Swatches with their names, wrapping onto new lines; returns the elements and the height used."""
    parts: list[str] = []
    cursor_x, cursor_y = x, y
    for name, colour in entries:
        needed = 18 + text_width(name) + 18
        if cursor_x > x and cursor_x + needed > x + max_width:
            cursor_x, cursor_y = x, cursor_y + 20
        parts.append(svg_rect(cursor_x, cursor_y, 12, 12, colour, stroke="#444444", stroke_width="0.5"))
        parts.append(svg_text(cursor_x + 17, cursor_y + 10.5, name))
        cursor_x += needed
    return parts, cursor_y - y + 20


def percent_axis(x0: float, plot_width: float, top: float, bottom: float, label: str, ticks: int = 4) -> list[str]:
    parts = []
    for step in range(ticks + 1):
        x = x0 + plot_width * step / ticks
        parts.append(svg_line(x, top, x, bottom, "#DDDDDD"))
        parts.append(svg_text(x, bottom + 15, f"{100 * step // ticks}%", anchor="middle", fill=MUTED))
    parts.append(svg_line(x0, top, x0, bottom, "#888888"))
    parts.append(svg_text(x0 + plot_width / 2, bottom + 34, label, anchor="middle", weight="bold"))
    return parts


def count_scale(maximum: float) -> tuple[int, int]:
    """A count axis's step and end: about five whole-number steps reaching at least `maximum`."""
    whole = max(1, int(-(-maximum // 1)))
    step = max(1, -(-whole // 5))
    return step, -(-whole // step) * step


def count_axis(x0: float, plot_width: float, top: float, bottom: float, maximum: float, label: str) -> list[str]:
    step, top_value = count_scale(maximum)
    parts = []
    for value in range(0, top_value + 1, step):
        x = x0 + plot_width * value / top_value
        parts.append(svg_line(x, top, x, bottom, "#DDDDDD"))
        parts.append(svg_text(x, bottom + 15, str(value), anchor="middle", fill=MUTED))
    parts.append(svg_line(x0, top, x0, bottom, "#888888"))
    parts.append(svg_text(x0 + plot_width / 2, bottom + 34, label, anchor="middle", weight="bold"))
    return parts


# --- chart kinds --------------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    share: float | None
    value_label: str
    tooltip: str


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    axis_label: str,
    category_label: str,
    reference: tuple[float, str] | None = None,
) -> str:
    """Horizontal bars of shares on a 0-100 % axis, a value label at each bar's end, an optional dashed
    reference line (named beneath the axis)."""
    row_height, bar_height = 30, 20
    label_width = max([text_width(bar.label) for bar in bars] + [text_width(category_label, FONT)]) + 16
    plot_width = 520
    value_room = max(text_width(bar.value_label) for bar in bars) + 14
    x0 = label_width
    top = 34
    bottom = top + row_height * len(bars)
    width = x0 + plot_width + value_room + 10
    parts = [svg_text(x0 - 8, top - 12, category_label, anchor="end", weight="bold")]
    parts += percent_axis(x0, plot_width, top, bottom, axis_label)
    labels: list[str] = []  # drawn last, over the reference line, each on a white halo
    for index, bar in enumerate(bars):
        y = top + index * row_height + (row_height - bar_height) / 2
        parts.append(svg_text(x0 - 8, y + bar_height / 2 + 4, bar.label, anchor="end"))
        if bar.share is None:
            parts.append(svg_rect(x0, y, 2, bar_height, GREY, bar.tooltip, class_="mark"))
            labels.append(svg_text(x0 + 8, y + bar_height / 2 + 4, "no valid answers", fill=MUTED, halo=True))
            continue
        bar_width = plot_width * min(max(bar.share, 0.0), 1.0)
        parts.append(svg_rect(x0, y, bar_width, bar_height, BLUE, bar.tooltip, class_="mark"))
        if reference is not None:  # a white ground, so that the reference line never runs through a label
            ground = text_width(bar.value_label) + 4
            labels.append(svg_rect(x0 + bar_width + 3, y + 2, ground, bar_height - 4, "#FFFFFF"))
        labels.append(svg_text(x0 + bar_width + 5, y + bar_height / 2 + 4, bar.value_label, halo=True))
    height = bottom + 44
    if reference is not None:
        share, name = reference
        x = x0 + plot_width * min(max(share, 0.0), 1.0)
        parts.append(svg_line(x, top - 6, x, bottom + 4, INK, dash="5 3", width=1.5))
        parts.append(svg_line(x0, height + 4, x0 + 24, height + 4, INK, dash="5 3", width=1.5))
        parts.append(svg_text(x0 + 30, height + 8, f"{name}: {percent(share)}"))
        height += 20
    parts += labels
    return svg_document(chart_id, title, description, width, height, parts)


@dataclass
class Segment:
    value: float | None
    colour: str
    label: str
    tooltip: str


@dataclass
class StackedRow:
    label: str
    segments: list[Segment]
    end_label: str = ""


@dataclass
class Panel:
    title: str
    rows: list[StackedRow]
    axis_label: str
    legend: Sequence[tuple[str, str]]  # (name, colour) of each segment kind, drawn beneath the panel
    maximum: float | None = None  # None: a percent axis (values are shares in [0, 1])


def stacked_panels(
    chart_id: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    panels: Sequence[Panel],
    panel_width: float = 300,
) -> str:
    """Horizontal stacked bars, one row per label, in one or more panels side by side, each with its own axis
    and its own legend beneath it."""
    row_height, bar_height = 30, 20
    label_width = max(text_width(label) for label in row_labels) + 16
    top = 40
    bottom = top + row_height * len(row_labels)
    end_rooms = [max([text_width(row.end_label) for row in panel.rows] + [0]) + 14 for panel in panels]
    parts: list[str] = []
    legend_height = 0.0
    x0 = label_width
    for index, label in enumerate(row_labels):
        parts.append(svg_text(label_width - 8, top + index * row_height + row_height / 2 + 4, label, anchor="end"))
    for panel, end_room in zip(panels, end_rooms, strict=True):
        parts.append(svg_text(x0, top - 14, panel.title, weight="bold"))
        if panel.maximum is None:
            scale = 1.0
            parts += percent_axis(x0, panel_width, top, bottom, panel.axis_label)
        else:
            scale = count_scale(panel.maximum)[1]
            parts += count_axis(x0, panel_width, top, bottom, panel.maximum, panel.axis_label)
        for index, row in enumerate(panel.rows):
            y = top + index * row_height + (row_height - bar_height) / 2
            cursor = x0
            for segment in row.segments:
                value = segment.value or 0.0
                segment_width = panel_width * value / scale
                parts.append(
                    svg_rect(cursor, y, segment_width, bar_height, segment.colour, segment.tooltip, class_="mark")
                )
                if segment.label and segment_width >= text_width(segment.label, 11) + 6:
                    fill = "#FFFFFF" if dark_fill(segment.colour) else INK
                    parts.append(
                        svg_text(
                            cursor + segment_width / 2,
                            y + bar_height / 2 + 4,
                            segment.label,
                            anchor="middle",
                            size=11,
                            fill=fill,
                        )
                    )
                cursor += segment_width
            if row.end_label:
                parts.append(svg_text(cursor + 5, y + bar_height / 2 + 4, row.end_label))
        legend_parts, height = legend(x0, bottom + 50, panel.legend, panel_width + end_room)
        parts += legend_parts
        legend_height = max(legend_height, height)
        x0 += panel_width + end_room + 24
    return svg_document(chart_id, title, description, x0, bottom + 50 + legend_height + 4, parts)


def heat_map(
    chart_id: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: dict[tuple[int, int], tuple[float | None, str]],
    row_title: str,
    column_title: str,
    separate_last_row: bool = False,
) -> str:
    """A grid of rects coloured by share (viridis), the share written in each cell, a colour key below."""
    cell_width, cell_height = 96, 30
    label_width = max([text_width(label) for label in row_labels] + [text_width(row_title)]) + 16
    wrapped = [textwrap.wrap(label, 15) or [""] for label in column_labels]
    header_lines = max(len(lines) for lines in wrapped)
    top = 26 + header_lines * 14 + 8
    gap = 8 if separate_last_row else 0
    parts = [
        svg_text(label_width + cell_width * len(column_labels) / 2, 14, column_title, anchor="middle", weight="bold"),
        svg_text(label_width - 8, top - 8, row_title, anchor="end", weight="bold"),
    ]
    for column, lines in enumerate(wrapped):
        x = label_width + column * cell_width + cell_width / 2
        first = top - 8 - (len(lines) - 1) * 14
        for line_index, line in enumerate(lines):
            parts.append(svg_text(x, first + line_index * 14, line, anchor="middle", size=11))
    for row, row_label in enumerate(row_labels):
        y = top + row * cell_height + (gap if separate_last_row and row == len(row_labels) - 1 else 0)
        parts.append(svg_text(label_width - 8, y + cell_height / 2 + 4, row_label, anchor="end"))
        for column in range(len(column_labels)):
            x = label_width + column * cell_width
            share, tooltip = cells.get((row, column), (None, f"{row_label}, {column_labels[column]}: not in the mart"))
            fill = GREY if share is None else heat_colour(share)
            parts.append(svg_rect(x + 1, y + 1, cell_width - 2, cell_height - 2, fill, tooltip, class_="mark"))
            text_fill = "#FFFFFF" if dark_fill(fill) else INK
            parts.append(
                svg_text(x + cell_width / 2, y + cell_height / 2 + 4, percent(share), anchor="middle", fill=text_fill)
            )
    bottom = top + len(row_labels) * cell_height + gap
    # The colour key: eleven steps from 0 % to 100 %.
    key_y = bottom + 18
    key_x = label_width
    parts.append(svg_text(key_x, key_y + 11, "Share:", weight="bold"))
    step_width = 34
    for step in range(11):
        x = key_x + 52 + step * step_width
        parts.append(svg_rect(x, key_y, step_width, 14, heat_colour(step / 10)))
        if step % 5 == 0:
            parts.append(svg_text(x + step_width / 2, key_y + 28, f"{step * 10}%", anchor="middle", fill=MUTED))
    no_answer_x = key_x + 52 + 11 * step_width + 24
    parts.append(svg_rect(no_answer_x, key_y, 14, 14, GREY))
    parts.append(svg_text(no_answer_x + 20, key_y + 11, "no valid answers (–)"))
    width = max(label_width + cell_width * len(column_labels) + 10, no_answer_x + 160)
    return svg_document(chart_id, title, description, width, key_y + 40, parts)


# --- the figures --------------------------------------------------------------------------------------------


@dataclass
class Figure:
    chart_id: str
    title: str
    caption: str
    svg: str | None = None
    no_data: str | None = None
    table_columns: Sequence[str] = ()
    table_rows: list[Sequence[object]] = field(default_factory=list)


def no_data(chart_id: str, title: str, caption: str, why: str) -> Figure:
    return Figure(chart_id, title, caption, no_data=f"{NO_DATA}: {why}")


def response_figure(connection: DuckDBPyConnection, chart_id: str, title: str, breakdown: str, noun: str) -> Figure:
    caption = (
        f"AAPOR response rate RR2 by {noun}: heads of sector areas who answered, fully or partly "
        "(rr2_numerator = n_complete + n_partial), out of the eligible heads (rr2_denominator = n_invited − "
        f"n_ineligible), from survey_coverage (breakdown = '{breakdown}', columns rr2, rr2_numerator, "
        "rr2_denominator); the dashed line is the whole country (breakdown = 'all'). municipality_profile's "
        "n_sector_areas_answering / n_sector_areas_invited has the same numerator but keeps heads outside the "
        "target group in the denominator, so it is not the study's response rate."
    )
    wave = latest_wave(connection, "survey_coverage")
    if wave is None:
        return no_data(chart_id, title, caption, "survey_coverage has no rows.")
    rows = query(
        connection,
        """
        select breakdown, group_code, group_name_da, group_name_en, n_invited, n_ineligible, n_eligible,
               n_complete, n_partial, rr1, rr2_numerator, rr2_denominator, rr2
        from survey_coverage
        where wave_id = ? and breakdown in (?, 'all')
        order by breakdown = 'all', rr2 desc nulls last, group_code
        """,
        [wave, breakdown],
    )
    groups = [row for row in rows if row["breakdown"] == breakdown]
    country = next((row for row in rows if row["breakdown"] == "all"), None)
    caption = f"Wave {wave}. " + caption
    if not groups:
        return no_data(chart_id, title, caption, f"survey_coverage has no {breakdown} rows for wave {wave}.")
    bars = [
        Bar(
            label=row["group_name_en"],
            share=row["rr2"],
            value_label=f"{percent(row['rr2'])} ({row['rr2_numerator']} of {row['rr2_denominator']})",
            tooltip=f"{row['group_name_en']}: {percent(row['rr2'], 1)}, {row['rr2_numerator']} of "
            f"{row['rr2_denominator']} eligible heads answered",
        )
        for row in groups
    ]
    reference = (country["rr2"], "Whole country") if country and country["rr2"] is not None else None
    description = "; ".join(f"{bar.label} {bar.value_label}" for bar in bars)
    svg = bar_chart(
        chart_id,
        f"{title}, wave {wave}",
        description,
        bars,
        "Response rate RR2 (answering heads / eligible heads)",
        noun.capitalize(),
        reference,
    )
    table_rows = [
        [
            row["group_name_en"],
            row["n_invited"],
            row["n_ineligible"],
            row["n_eligible"],
            row["n_complete"],
            row["n_partial"],
            percent(row["rr1"], 1),
            percent(row["rr2"], 1),
        ]
        for row in [*groups, *([country] if country else [])]
    ]
    return Figure(
        chart_id,
        title,
        caption,
        svg,
        table_columns=[noun.capitalize(), "Invited", "Ineligible", "Eligible", "Complete", "Partial", "RR1", "RR2"],
        table_rows=table_rows,
    )


def partner_figure(connection: DuckDBPyConnection, chart_id: str, title: str) -> Figure:
    caption = (
        "Share of heads answering that the sector area collaborates with the partner type 'always or often' "
        "(answer_category = 'always_or_often'; the 2019 wave asked on a five-point scale whose 'Ofte' and "
        "'Altid' both count as always or often), out of the heads who answered the item other than 'Ved ikke': "
        "partner_collaboration, columns share "
        "(= n_category / n_valid), item_name_en and sector_area_name_en, breakdown 'sector_area' for each "
        "sector area and 'all' for the bottom row."
    )
    wave = latest_wave(connection, "partner_collaboration")
    if wave is None:
        return no_data(chart_id, title, caption, "partner_collaboration has no rows.")
    rows = query(
        connection,
        """
        select breakdown, sector_area_code, sector_area_name_en, item_code, item_name_en, item_name_da,
               n_category, n_valid, share, weighted_share, n_dont_know
        from partner_collaboration
        where wave_id = ? and answer_category = 'always_or_often' and breakdown in ('sector_area', 'all')
        order by breakdown = 'all', sector_area_code, item_code
        """,
        [wave],
    )
    caption = f"Wave {wave}. " + caption
    if not any(row["breakdown"] == "sector_area" for row in rows):
        return no_data(chart_id, title, caption, f"partner_collaboration has no sector-area rows for wave {wave}.")
    row_keys: dict[tuple[str, int | None], str] = {}
    column_keys: dict[int, str] = {}
    for row in rows:
        row_keys.setdefault(
            (row["breakdown"], row["sector_area_code"]), row["sector_area_name_en"] or "All sector areas"
        )
        column_keys.setdefault(row["item_code"], row["item_name_en"])
    row_index = {key: index for index, key in enumerate(row_keys)}
    column_codes = sorted(column_keys)
    column_index = {code: index for index, code in enumerate(column_codes)}
    cells = {
        (row_index[(row["breakdown"], row["sector_area_code"])], column_index[row["item_code"]]): (
            row["share"],
            f"{row['sector_area_name_en'] or 'All sector areas'}, {row['item_name_en']}: {percent(row['share'], 1)} "
            f"({row['n_category']} of {row['n_valid']})",
        )
        for row in rows
    }
    svg = heat_map(
        chart_id,
        f"{title}, wave {wave}",
        "Heat map: rows are sector areas, columns partner types, each cell the share collaborating always or "
        "often. " + "; ".join(f"{description}" for description in (cell[1] for cell in cells.values())),
        list(row_keys.values()),
        [column_keys[code] for code in column_codes],
        cells,
        "Sector area",
        "Partner type",
        separate_last_row=("all", None) in row_keys,
    )
    table_rows = [
        [
            row["sector_area_name_en"] or "All sector areas",
            row["item_name_en"],
            row["n_category"],
            row["n_valid"],
            row["n_dont_know"],
            percent(row["share"], 1),
            percent(row["weighted_share"], 1),
        ]
        for row in rows
    ]
    return Figure(
        chart_id,
        title,
        caption,
        svg,
        table_columns=[
            "Sector area",
            "Partner type",
            "Always or often",
            "Valid answers",
            "Don't know",
            "Share",
            "Weighted share",
        ],
        table_rows=table_rows,
    )


def motives_figure(connection: DuckDBPyConnection, chart_id: str, title: str) -> Figure:
    caption = (
        "Share of heads who selected each motive (multiple choice; answer_category = 'selected'), all sector "
        "areas together (breakdown = 'all'), ranked: motives, columns share (= n_category / n_valid), "
        "n_category, n_valid, item_name_en."
    )
    wave = latest_wave(connection, "motives")
    if wave is None:
        return no_data(chart_id, title, caption, "motives has no rows.")
    rows = query(
        connection,
        """
        select item_code, item_name_en, item_name_da, n_category, n_valid, share, weighted_share, n_dont_know
        from motives
        where wave_id = ? and breakdown = 'all' and answer_category = 'selected'
        order by share desc nulls last, item_code
        """,
        [wave],
    )
    caption = f"Wave {wave}. " + caption
    if not rows:
        return no_data(chart_id, title, caption, f"motives has no 'all' rows of 'selected' for wave {wave}.")
    bars = [
        Bar(
            label=row["item_name_en"],
            share=row["share"],
            value_label=f"{percent(row['share'])} ({row['n_category']} of {row['n_valid']})",
            tooltip=f"{row['item_name_en']}: {percent(row['share'], 1)}, {row['n_category']} of {row['n_valid']}",
        )
        for row in rows
    ]
    svg = bar_chart(
        chart_id,
        f"{title}, wave {wave}",
        "; ".join(f"{bar.label} {bar.value_label}" for bar in bars),
        bars,
        "Share of heads selecting the motive",
        "Motive",
    )
    table_rows = [
        [
            row["item_name_en"],
            row["item_name_da"],
            row["n_category"],
            row["n_valid"],
            percent(row["share"], 1),
            percent(row["weighted_share"], 1),
        ]
        for row in rows
    ]
    return Figure(
        chart_id,
        title,
        caption,
        svg,
        table_columns=["Motive", "Motiv (da)", "Selected", "Valid answers", "Share", "Weighted share"],
        table_rows=table_rows,
    )


def extent_figure(connection: DuckDBPyConnection, chart_id: str, title: str, mart: str, noun: str) -> Figure:
    """Every item's answers on the extent scale as a 100 % stacked bar, ranked by the share of the scale's
    top category ('to a high extent'), then by the next one."""
    caption = (
        f"How the heads answered for each {noun}, all sector areas together (breakdown = 'all'): {mart}, "
        "columns share (= n_category / n_valid, 'Ved ikke' left out) per answer_category on the extent scale, "
        "ranked by the share 'to a high extent', then 'to some extent'. Labels of segments too narrow to hold "
        "them are in the table."
    )
    wave = latest_wave(connection, mart)
    if wave is None:
        return no_data(chart_id, title, caption, f"{mart} has no rows.")
    rows = query(
        connection,
        f"""
        select item_code, item_name_en, item_name_da, answer_category, answer_category_name_en,
               answer_sort_order, n_category, n_valid, share, weighted_share, n_dont_know
        from {mart}
        where wave_id = ? and breakdown = 'all'
        order by item_code, answer_sort_order
        """,
        [wave],
    )
    caption = f"Wave {wave}. " + caption
    if not rows:
        return no_data(chart_id, title, caption, f"{mart} has no 'all' rows for wave {wave}.")
    categories: dict[str, tuple[int, str]] = {}
    items: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        categories.setdefault(row["answer_category"], (row["answer_sort_order"], row["answer_category_name_en"]))
        items.setdefault(row["item_code"], []).append(row)
    order = sorted(categories, key=lambda category: categories[category][0])
    colours = {
        category: EXTENT_COLOURS.get(category, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])
        for index, category in enumerate(order)
    }

    def rank(item_rows: list[dict[str, Any]]) -> tuple[float, ...]:
        by_category = {row["answer_category"]: row["share"] for row in item_rows}
        return tuple(-(by_category.get(category) or 0.0) for category in order[:2])

    ranked = sorted(items.values(), key=lambda item_rows: (*rank(item_rows), item_rows[0]["item_code"]))
    stacked = []
    for item_rows in ranked:
        by_category = {row["answer_category"]: row for row in item_rows}
        segments = [
            Segment(
                by_category[category]["share"] if category in by_category else None,
                colours[category],
                percent(by_category[category]["share"]) if category in by_category else "",
                f"{item_rows[0]['item_name_en']}, {categories[category][1]}: "
                + (
                    f"{percent(by_category[category]['share'], 1)} ({by_category[category]['n_category']} of "
                    f"{by_category[category]['n_valid']})"
                    if category in by_category
                    else "not in the mart"
                ),
            )
            for category in order
        ]
        valid = item_rows[0]["n_valid"]
        end = "no valid answers" if all(row["share"] is None for row in item_rows) else f"n = {valid}"
        stacked.append(StackedRow(item_rows[0]["item_name_en"], segments, end))
    labels = [row.label for row in stacked]
    svg = stacked_panels(
        chart_id,
        f"{title}, wave {wave}",
        "; ".join(
            f"{row.label}: "
            + ", ".join(f"{categories[c][1]} {s.label or '–'}" for c, s in zip(order, row.segments, strict=True))
            for row in stacked
        ),
        labels,
        [
            Panel(
                f"{noun.capitalize()}, all sector areas",
                stacked,
                "Share of heads with a valid answer",
                [(categories[category][1], colours[category]) for category in order],
            )
        ],
        panel_width=520,
    )
    table_rows = []
    for item_rows in ranked:
        by_category = {row["answer_category"]: row for row in item_rows}
        table_rows.append(
            [
                item_rows[0]["item_name_en"],
                item_rows[0]["item_name_da"],
                *(
                    f"{percent(by_category[c]['share'], 1)} ({by_category[c]['n_category']})"
                    if c in by_category
                    else "–"
                    for c in order
                ),
                item_rows[0]["n_valid"],
                item_rows[0]["n_dont_know"],
            ]
        )
    return Figure(
        chart_id,
        title,
        caption,
        svg,
        table_columns=[
            noun.capitalize(),
            "Danish",
            *(f"{categories[c][1]}: share (n)" for c in order),
            "Valid answers",
            "Don't know",
        ],
        table_rows=table_rows,
    )


ACTIVITY_KINDS = (
    ("n_individual_interviews", "Individual interviews", BLUE),
    ("n_group_interviews", "Group interviews", SKY),
    ("n_spot_interviews", "Spot interviews", PINK),
    ("n_participant_observations", "Participant observations", ORANGE),
    ("n_desk_research", "Desk research", YELLOW),
)


def fieldwork_figure(connection: DuckDBPyConnection, chart_id: str, title: str) -> Figure:
    caption = (
        "Per case study, from case_fieldwork: the fieldwork activities registered, by kind (n_individual_interviews, "
        "n_group_interviews, n_spot_interviews, n_participant_observations, n_desk_research; together "
        "n_activities); the transcripts of recorded activities, done and outstanding (n_transcripts_done, "
        "n_transcripts_outstanding); and the interviews' consent (n_interviews_with_consent, "
        "n_interviews_awaiting_consent, the rest of n_interviews without either), labelled with consent_coverage."
    )
    rows = query(connection, "select * from case_fieldwork order by case_id")
    if not rows:
        return no_data(chart_id, title, caption, "case_fieldwork has no rows.")
    labels = [f"{row['case_id']} {row['municipality_name']}" for row in rows]
    activity_rows, transcript_rows, consent_rows = [], [], []
    for label, row in zip(labels, rows, strict=True):
        activity_rows.append(
            StackedRow(
                label,
                [
                    Segment(row[column], colour, str(row[column] or ""), f"{label}: {row[column]} {name.lower()}")
                    for column, name, colour in ACTIVITY_KINDS
                ],
                str(row["n_activities"]),
            )
        )
        done, outstanding = row["n_transcripts_done"] or 0, row["n_transcripts_outstanding"] or 0
        transcript_rows.append(
            StackedRow(
                label,
                [
                    Segment(done, GREEN, str(done or ""), f"{label}: {done} transcripts done"),
                    Segment(outstanding, VERMILLION, str(outstanding or ""), f"{label}: {outstanding} outstanding"),
                ],
                f"{done} of {done + outstanding}",
            )
        )
        interviews = row["n_interviews"] or 0
        given, awaiting = row["n_interviews_with_consent"] or 0, row["n_interviews_awaiting_consent"] or 0
        other = max(interviews - given - awaiting, 0)
        consent_rows.append(
            StackedRow(
                label,
                [
                    Segment(given, GREEN, str(given or ""), f"{label}: consent given for {given} interviews"),
                    Segment(awaiting, VERMILLION, str(awaiting or ""), f"{label}: consent awaited for {awaiting}"),
                    Segment(other, GREY, str(other or ""), f"{label}: {other} interviews with neither"),
                ],
                "no interviews" if row["consent_coverage"] is None else f"{percent(row['consent_coverage'])} consent",
            )
        )

    def most(values: Sequence[StackedRow]) -> float:
        return max([sum(segment.value or 0 for segment in row.segments) for row in values] + [1])

    svg = stacked_panels(
        chart_id,
        title,
        "; ".join(
            f"{row['case_id']} {row['municipality_name']}: {row['n_activities']} activities, "
            f"{row['n_transcripts_done']} transcripts done and {row['n_transcripts_outstanding']} outstanding, "
            f"consent coverage {percent(row['consent_coverage'])}"
            for row in rows
        ),
        labels,
        [
            Panel(
                "Activities by kind",
                activity_rows,
                "Activities",
                [(name, colour) for _, name, colour in ACTIVITY_KINDS],
                most(activity_rows),
            ),
            Panel(
                "Transcripts of recorded activities",
                transcript_rows,
                "Recorded activities",
                [("Done", GREEN), ("Outstanding", VERMILLION)],
                most(transcript_rows),
            ),
            Panel(
                "Consent of interviews",
                consent_rows,
                "Interviews",
                [("Given", GREEN), ("Awaited", VERMILLION), ("Neither recorded", GREY)],
                most(consent_rows),
            ),
        ],
        panel_width=240,
    )
    table_rows = [
        [
            row["case_id"],
            row["municipality_name"],
            row["effort_title"],
            *(row[column] for column, _, _ in ACTIVITY_KINDS),
            row["n_activities"],
            row["n_transcripts_done"],
            row["n_transcripts_outstanding"],
            row["n_interviews"],
            row["n_interviews_with_consent"],
            row["n_interviews_awaiting_consent"],
            percent(row["consent_coverage"], 1),
        ]
        for row in rows
    ]
    return Figure(
        chart_id,
        title,
        caption,
        svg,
        table_columns=[
            "Case",
            "Municipality",
            "Effort",
            *(name for _, name, _ in ACTIVITY_KINDS),
            "Activities",
            "Transcripts done",
            "Transcripts outstanding",
            "Interviews",
            "Consent given",
            "Consent awaited",
            "Consent coverage",
        ],
        table_rows=table_rows,
    )


BUILDERS: dict[str, Callable[[DuckDBPyConnection, str, str], Figure]] = {
    "response-by-region": lambda c, i, t: response_figure(c, i, t, "region", "region"),
    "response-by-sector-area": lambda c, i, t: response_figure(c, i, t, "sector_area", "sector area"),
    "partner-types-by-sector-area": partner_figure,
    "motives": motives_figure,
    "barriers": lambda c, i, t: extent_figure(c, i, t, "barriers", "barrier"),
    "roles": lambda c, i, t: extent_figure(c, i, t, "municipal_roles", "role"),
    "case-fieldwork": fieldwork_figure,
}


def build_figure(connection: DuckDBPyConnection, chart_id: str, title: str) -> Figure:
    try:
        return BUILDERS[chart_id](connection, chart_id, title)
    except MissingMart as missing:
        return no_data(chart_id, title, "", f"the file lacks a table this chart reads ({missing}).")


# --- the page -----------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.source { background: #F3F3F3; border-left: 4px solid #0072B2; padding: 0.5em 0.8em; }
figure { margin: 2.5em 0; padding-top: 1em; border-top: 1px solid #DDD; }
figcaption h2 { font-size: 1.2em; margin: 0 0 0.3em; color: #222; }
figcaption p { color: #444; margin: 0 0 0.8em; }
svg { max-width: 100%; height: auto; display: block; }
.no-data { font-style: italic; background: #FFF8E1; padding: 0.6em 0.8em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #CCC; padding: 0.2em 0.5em; }
th { background: #F3F3F3; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; color: #0072B2; }
footer { margin-top: 3em; border-top: 1px solid #DDD; padding-top: 0.8em; color: #444; font-size: 0.9em; }
@media print { details { display: block; } figure { break-inside: avoid; } }
"""

INTRO = (
    "The study follows co-creation (samskabelse) between Denmark's 98 municipalities and civil society: a "
    "questionnaire to the heads of the sector areas of every municipality, and five qualitative case studies. "
    "The survey charts show the latest wave each mart holds, for all sector areas together unless the chart "
    "says otherwise. A share is of the heads who answered the question with anything but 'Ved ikke' (don't "
    "know), unweighted; the tables beneath the charts give the counts and the weighted shares (non-response "
    "weights of survey_weights). Each caption names the mart and columns its chart is drawn from."
)


FOOTER = (
    "Drawn from the marts of the published analytics file named above; the charts are inline SVG and the page "
    "needs no network."
)


def table_html(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f'<th scope="col">{esc(column)}</th>' for column in columns)
    body = []
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            numeric = numeric or (isinstance(value, str) and value.endswith("%") and value[:1].isdigit())
            cells.append(f'<td class="number">{esc(count_text(value))}</td>' if numeric else f"<td>{esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def figure_html(figure: Figure) -> str:
    parts = [
        f'<figure id="{esc(figure.chart_id)}">',
        f"<figcaption><h2>{esc(figure.title)}</h2>"
        + (f"<p>{esc(figure.caption)}</p>" if figure.caption else "")
        + "</figcaption>",
    ]
    if figure.svg is None:
        parts.append(f'<p class="no-data">{esc(figure.no_data)}</p>')
    else:
        parts.append(figure.svg)
        parts.append(
            f"<details>\n<summary>The chart's numbers ({len(figure.table_rows)} rows)</summary>\n"
            f"{table_html(figure.table_columns, figure.table_rows)}\n</details>"
        )
    parts.append("</figure>")
    return "\n".join(part for part in parts if part)


SYNTHETIC = (
    "SYNTHETIC: this file was built from the embedded sample, made-up data for trying the platform; no figure "
    "here describes a real municipality."
)


def render(source_label: str, figures: Sequence[Figure], synthetic: bool = False) -> str:
    contents = "".join(f'<li><a href="#{esc(f.chart_id)}">{esc(f.title)}</a></li>' for f in figures)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Co-creation between municipalities and civil society: study report</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            "<header>",
            "<h1>Co-creation between municipalities and civil society</h1>",
            "<p>Study report: the questionnaire to heads of sector areas and the case studies</p>",
            f'<p class="source">{esc(source_label)}</p>',
            f'<p class="synthetic"><strong>{esc(SYNTHETIC)}</strong></p>' if synthetic else "",
            f"<p>{esc(INTRO)}</p>",
            f"<nav><ol>{contents}</ol></nav>",
            "</header>",
            "<main>",
            *(figure_html(figure) for figure in figures),
            "</main>",
            f'<footer><p class="source-footer">{esc(source_label)}</p><p>{esc(FOOTER)}</p>'
            + (f'<p class="synthetic">{esc(SYNTHETIC)}</p>' if synthetic else "")
            + "</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def build_report(connection: DuckDBPyConnection, source_label: str, out_path: Path) -> Path:
    """Write the study report, one self-contained HTML file, from the marts of an open read-only connection."""
    out_path = Path(out_path)
    from samskab.publish.catalog import is_synthetic

    figures = [build_figure(connection, chart_id, title) for chart_id, title in CHARTS]
    page = render(source_label, figures, is_synthetic(connection))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Two analysts may draw the same snapshot's report into one folder at once: a temporary name each.
    write_atomically(out_path, page, partial=out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex}.tmp"))
    return out_path


REPORT_NAME = "report.html"


def build_study_report(settings: Settings, target_dir: Path) -> Path:
    """The study report of the published file, as `target_dir/report.html` (drawn by every publish)."""
    from samskab.analysts.source import connect, resolve

    source = resolve(settings)
    source, connection = connect(source)
    try:
        return build_report(connection, f"Figures from {source.describe()}.", target_dir / REPORT_NAME)
    finally:
        connection.close()
