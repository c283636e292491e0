"""The study report: one self-contained HTML file drawn from the marts of the published file.

`build_report` reads the marts through an open (read-only) connection and writes one HTML page that opens
without a network: no scripts, no external stylesheets, fonts or images; the charts are static SVG drawn by
matplotlib (samskab/analysts/report_charts.py) and inlined. Danish by default, English with `lang="en"`.

What it shows, in the questionnaire's order:

- Response: AAPOR RR2 from `survey_coverage` (heads answering, fully or partly / eligible heads) by region
  and by sector area.
- One chart per concept of the questionnaire (seed `study_concepts`: the concept marts), titled by the
  question as the questionnaire asked it: the share of the scale's first answer ("Ja", "Altid eller ofte",
  "Valgt", "I høj grad", "Helt enig") per item, of the heads who answered anything but "Ved ikke", all
  sector areas together.
- The case studies' fieldwork from `case_fieldwork`.

Every survey chart shows every wave the mart holds side by side, n on every bar (the answers the share is
of) and the change between the first and the last wave in percentage points; beneath each chart a short
footer names its source (mart, run, published file or snapshot), and a table gives its numbers with the
weighted shares. A mart without the rows a chart needs gives the chart a sentence, never an error.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from samskab.analysts.report_charts import CountRow, WaveRow, WaveValue, count_bars, wave_bars
from samskab.common.atomic_files import write_atomically
from samskab.common.settings import Settings

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from samskab.analysts.source import Source

LANGUAGES = ("da", "en")

# Every piece of the page's own text, in both languages; the marts give their labels in both.
WORDS: dict[str, dict[str, str]] = {
    "da": {
        "title": "Samskabelse mellem kommuner og civilsamfund",
        "subtitle": "Undersøgelsesrapport: spørgeskemaet til sektorområdernes ledere og casestudierne",
        "intro": (
            "Undersøgelsen følger samskabelse mellem Danmarks 98 kommuner og civilsamfundet: et spørgeskema til "
            "lederne af sektorområderne i alle kommuner, og fem kvalitative casestudier. Hvert diagram viser alle "
            "undersøgelsens bølger side om side og ændringen mellem den første og den sidste i procentpoint. En "
            "andel er af de ledere, der svarede andet end 'Ved ikke' på spørgsmålet (n ved hver søjle), alle "
            "sektorområder under ét og uvægtet; tabellen under diagrammet giver tallene og de vægtede andele."
        ),
        "response": "Besvarelse",
        "questionnaire": "Spørgeskemaet",
        "cases": "Casestudierne",
        "response_by_region": "Svarprocent efter region",
        "response_by_sector_area": "Svarprocent efter sektorområde",
        "response_caption": (
            "AAPOR RR2: ledere, der svarede helt eller delvist, af lederne i målgruppen (n = ledere i målgruppen)."
        ),
        "response_axis": "Svarprocent (RR2)",
        "shown": "Andel '{category}' af de ledere, der svarede andet end 'Ved ikke' (n = gyldige svar).",
        "share_axis": "Andel af gyldige svar",
        "change": "Ændring",
        "points": "pct.-point",
        "fieldwork": "Casestudiernes feltarbejde",
        "fieldwork_caption": (
            "Registrerede feltaktiviteter pr. casestudie efter art; tabellen giver transskriptioner og samtykke."
        ),
        "fieldwork_axis": "Aktiviteter",
        "activities": "aktiviteter",
        "source": "Kilde",
        "run": "kørsel",
        "published": "den offentliggjorte fil",
        "snapshot": "øjebliksbillede",
        "as_of": "pr.",
        "built": "bygget",
        "no_run": "en fil uden kørsel",
        "figures_from": "Tal fra",
        "numbers": "Diagrammets tal ({rows} rækker)",
        "no_data": "Ingen data i denne fil",
        "missing_table": "filen mangler en tabel, som diagrammet læser",
        "no_rows": "{mart} har ingen rækker",
        "all_sector_areas": "Alle sektorområder",
        "whole_country": "Hele landet",
        "footer": (
            "Tegnet fra de offentliggjorte tabeller (marts) i filen nævnt ovenfor; diagrammerne er SVG i siden, "
            "og siden kræver intet netværk."
        ),
        "synthetic": (
            "SYNTETISK: denne fil er bygget af den indlejrede prøve, opdigtede data til at afprøve platformen; "
            "intet tal her beskriver en virkelig kommune."
        ),
        "asked": "",
        "wave": "Bølge",
        "item": "Punkt",
        "group": "Gruppe",
        "eligible": "I målgruppen",
        "answered": "Svarede",
        "rate": "RR2",
        "share": "Andel",
        "n_category": "Antal",
        "n_valid": "Gyldige svar",
        "dont_know": "Ved ikke",
        "weighted": "Vægtet andel",
        "case": "Case",
        "municipality": "Kommune",
        "effort": "Indsats",
        "transcripts_done": "Transskriberet",
        "transcripts_outstanding": "Mangler transskription",
        "consent": "Samtykkedækning",
    },
    "en": {
        "title": "Co-creation between municipalities and civil society",
        "subtitle": "Study report: the questionnaire to heads of sector areas and the case studies",
        "intro": (
            "The study follows co-creation (samskabelse) between Denmark's 98 municipalities and civil society: a "
            "questionnaire to the heads of the sector areas of every municipality, and five qualitative case "
            "studies. Each chart shows every wave of the study side by side and the change between the first and "
            "the last in percentage points. A share is of the heads who answered the question with anything but "
            "'Ved ikke' (don't know; n beside each bar), all sector areas together and unweighted; the table "
            "beneath the chart gives the numbers and the weighted shares. The questions are quoted as the "
            "questionnaire asked them, in Danish."
        ),
        "response": "Response",
        "questionnaire": "The questionnaire",
        "cases": "The case studies",
        "response_by_region": "Response rate by region",
        "response_by_sector_area": "Response rate by sector area",
        "response_caption": (
            "AAPOR RR2: heads who answered, fully or partly, of the eligible heads (n = eligible heads)."
        ),
        "response_axis": "Response rate (RR2)",
        "shown": "Share '{category}' of the heads who answered other than 'Ved ikke' (n = valid answers).",
        "share_axis": "Share of valid answers",
        "change": "Change",
        "points": "pp",
        "fieldwork": "Fieldwork of the case studies",
        "fieldwork_caption": (
            "Fieldwork activities registered per case study, by kind; the table gives transcripts and consent."
        ),
        "fieldwork_axis": "Activities",
        "activities": "activities",
        "source": "Source",
        "run": "run",
        "published": "the published file",
        "snapshot": "snapshot",
        "as_of": "as of",
        "built": "built",
        "no_run": "a file that names no run",
        "figures_from": "Figures from",
        "numbers": "The chart's numbers ({rows} rows)",
        "no_data": "No data in this file",
        "missing_table": "the file lacks a table this chart reads",
        "no_rows": "{mart} has no rows",
        "all_sector_areas": "All sector areas",
        "whole_country": "The whole country",
        "footer": (
            "Drawn from the marts of the published analytics file named above; the charts are SVG inside the page, "
            "which needs no network."
        ),
        "synthetic": (
            "SYNTHETIC: this file was built from the embedded sample, made-up data for trying the platform; no "
            "figure here describes a real municipality."
        ),
        "asked": "Asked: ",
        "wave": "Wave",
        "item": "Item",
        "group": "Group",
        "eligible": "Eligible",
        "answered": "Answered",
        "rate": "RR2",
        "share": "Share",
        "n_category": "Count",
        "n_valid": "Valid answers",
        "dont_know": "Don't know",
        "weighted": "Weighted share",
        "case": "Case",
        "municipality": "Municipality",
        "effort": "Effort",
        "transcripts_done": "Transcripts done",
        "transcripts_outstanding": "Transcripts outstanding",
        "consent": "Consent coverage",
    },
}

ACTIVITY_KINDS = (
    ("n_individual_interviews", {"da": "Individuelle interview", "en": "Individual interviews"}),
    ("n_group_interviews", {"da": "Gruppeinterview", "en": "Group interviews"}),
    ("n_spot_interviews", {"da": "Spotinterview", "en": "Spot interviews"}),
    ("n_participant_observations", {"da": "Deltagerobservation", "en": "Participant observations"}),
    ("n_desk_research", {"da": "Dokumentstudier", "en": "Desk research"}),
)


class MissingMart(Exception):
    """The file has no such table (an older or partial file): the chart says so instead of failing."""


def esc(value: object) -> str:
    """Text made safe for HTML, attributes included."""
    return html.escape("" if value is None else str(value), quote=True)


def percent(share: float | None, lang: str, decimals: int = 0) -> str:
    if share is None:
        return "–"
    text = f"{share * 100:.{decimals}f}"
    return f"{text.replace('.', ',')} %" if lang == "da" else f"{text}%"


def query(connection: DuckDBPyConnection, sql: str, parameters: Sequence[object] = ()) -> list[dict[str, Any]]:
    try:
        cursor = connection.execute(sql, list(parameters))
    except duckdb.CatalogException as error:
        raise MissingMart(str(error).splitlines()[0]) from error
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class Chart:
    """One figure of the page: its title, a caption, the SVG (or the sentence why there is none), the
    footer naming its source, and its numbers as a table."""

    chart_id: str
    title: str
    caption: str
    footer: str
    svg: str | None = None
    no_data: str | None = None
    table_columns: Sequence[str] = ()
    table_rows: list[Sequence[object]] = field(default_factory=list)


@dataclass(frozen=True)
class Drawing:
    """What every chart needs to know: the language, the file's run and whether it is a snapshot."""

    lang: str
    run_id: str | None
    origin: str  # "the published file", "snapshot 2026-11-20 02:31 (as of 2026-11-20)"

    @property
    def words(self) -> dict[str, str]:
        return WORDS[self.lang]

    def footer(self, mart: str) -> str:
        words = self.words
        run = f"{words['run']} {self.run_id}" if self.run_id else words["no_run"]
        return f"{words['source']}: {mart} · {run} · {self.origin}"

    def no_data(self, chart_id: str, title: str, caption: str, mart: str, why: str) -> Chart:
        return Chart(chart_id, title, caption, self.footer(mart), no_data=f"{self.words['no_data']}: {why}.")


def _points(first: float | None, last: float | None, drawing: Drawing) -> str:
    if first is None or last is None:
        return "–"
    change = round((last - first) * 100)
    return f"{change:+d} {drawing.words['points']}" if change else f"±0 {drawing.words['points']}"


def _ticks(drawing: Drawing) -> list[str]:
    return [percent(share, drawing.lang) for share in (0, 0.25, 0.5, 0.75, 1.0)]


def _bar_text(share: float | None, n: int | None, drawing: Drawing) -> str:
    return f"{percent(share, drawing.lang)} (n = {n if n is not None else 0})"


# --- response ----------------------------------------------------------------------------------------------


def response_chart(connection: DuckDBPyConnection, drawing: Drawing, chart_id: str, breakdown: str) -> Chart:
    words, lang = drawing.words, drawing.lang
    title = words["response_by_region" if breakdown == "region" else "response_by_sector_area"]
    caption = words["response_caption"]
    rows = query(
        connection,
        """
        select wave_id, group_code, group_name_da, group_name_en, n_eligible, rr2_numerator, rr2_denominator, rr2
        from survey_coverage
        where breakdown in (?, 'all')
        order by breakdown = 'all', group_code, wave_id
        """,
        [breakdown],
    )
    if not rows:
        why = words["no_rows"].format(mart="survey_coverage")
        return drawing.no_data(chart_id, title, caption, "survey_coverage", why)
    waves = sorted({row["wave_id"] for row in rows})
    groups: dict[object, dict[str, dict[str, Any]]] = {}
    names: dict[object, str] = {}
    for row in rows:
        key = row["group_code"] if row["group_code"] is not None else "all"
        names[key] = row[f"group_name_{lang}"] or words["whole_country"]
        groups.setdefault(key, {})[row["wave_id"]] = row
    chart_rows = []
    table_rows = []
    for key, by_wave in groups.items():
        values = {
            wave: WaveValue(row["rr2"], _bar_text(row["rr2"], row["rr2_denominator"], drawing))
            for wave, row in by_wave.items()
        }
        first, last = by_wave.get(waves[0], {}).get("rr2"), by_wave.get(waves[-1], {}).get("rr2")
        chart_rows.append(WaveRow(names[key], values, _points(first, last, drawing) if len(waves) > 1 else ""))
        for wave, row in by_wave.items():
            table_rows.append([names[key], wave, row["n_eligible"], row["rr2_numerator"], percent(row["rr2"], lang, 1)])
    description = "; ".join(
        f"{row.label}: " + ", ".join(f"{wave} {value.text}" for wave, value in row.values.items()) for row in chart_rows
    )
    svg = wave_bars(
        chart_id, title, description, chart_rows, waves, words["response_axis"], _ticks(drawing), words["change"]
    )
    return Chart(
        chart_id,
        title,
        caption,
        drawing.footer("survey_coverage"),
        svg,
        table_columns=[words["group"], words["wave"], words["eligible"], words["answered"], words["rate"]],
        table_rows=table_rows,
    )


# --- the questionnaire's concepts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    concept: str
    mart: str
    name_da: str
    name_en: str
    question_da: str

    @property
    def chart_id(self) -> str:
        return self.concept.replace("_", "-")

    def title(self, lang: str) -> str:
        """The question as the questionnaire asked it; in English the concept's name (the question follows)."""
        return self.question_da if lang == "da" else self.name_en


def study_concepts() -> list[Concept]:
    """The questionnaire's concepts in its order (seed study_concepts), each with its mart and question."""
    from samskab.common.reference import seed_rows

    return [
        Concept(row["concept"], row["mart"], row["concept_name_da"], row["concept_name_en"], row["question_da"])
        for row in seed_rows("study_concepts")
    ]


def concept_chart(connection: DuckDBPyConnection, drawing: Drawing, concept: Concept) -> Chart:
    """The share of the scale's first answer per item and wave, all sector areas together."""
    words, lang = drawing.words, drawing.lang
    title = concept.title(lang)
    rows = query(
        connection,
        f"""
        select wave_id, item_code, item_name_da, item_name_en, answer_category_name_da, answer_category_name_en,
               n_category, n_valid, share, weighted_share, n_dont_know
        from {concept.mart}
        where concept = ? and breakdown = 'all'
          and answer_sort_order = (select min(answer_sort_order) from {concept.mart} where concept = ?)
        order by item_code nulls first, wave_id
        """,
        [concept.concept, concept.concept],
    )
    caption = f"{words['asked']}{concept.question_da}" if lang == "en" else ""
    if not rows:
        why = words["no_rows"].format(mart=concept.mart)
        return drawing.no_data(concept.chart_id, title, caption, concept.mart, why)
    category = rows[0][f"answer_category_name_{lang}"]
    caption = " ".join(part for part in (caption, words["shown"].format(category=category)) if part)
    waves = sorted({row["wave_id"] for row in rows})
    items: dict[object, dict[str, dict[str, Any]]] = {}
    labels: dict[object, str] = {}
    for row in rows:
        labels[row["item_code"]] = row[f"item_name_{lang}"] or (concept.name_da if lang == "da" else concept.name_en)
        items.setdefault(row["item_code"], {})[row["wave_id"]] = row
    chart_rows, table_rows = [], []
    for item, by_wave in items.items():
        values = {
            wave: WaveValue(row["share"], _bar_text(row["share"], row["n_valid"], drawing))
            for wave, row in by_wave.items()
        }
        first, last = by_wave.get(waves[0], {}).get("share"), by_wave.get(waves[-1], {}).get("share")
        chart_rows.append(WaveRow(labels[item], values, _points(first, last, drawing) if len(waves) > 1 else ""))
        for wave, row in by_wave.items():
            table_rows.append(
                [
                    labels[item],
                    wave,
                    row["n_category"],
                    row["n_valid"],
                    row["n_dont_know"],
                    percent(row["share"], lang, 1),
                    percent(row["weighted_share"], lang, 1),
                ]
            )
    # rank the items by the last wave's share, as a reader compares them
    chart_rows.sort(key=lambda row: -(row.values[waves[-1]].share or 0.0) if waves[-1] in row.values else 1.0)
    description = "; ".join(
        f"{row.label}: " + ", ".join(f"{wave} {value.text}" for wave, value in row.values.items()) for row in chart_rows
    )
    svg = wave_bars(
        concept.chart_id, title, description, chart_rows, waves, words["share_axis"], _ticks(drawing), words["change"]
    )
    return Chart(
        concept.chart_id,
        title,
        caption,
        drawing.footer(concept.mart),
        svg,
        table_columns=[
            words["item"],
            words["wave"],
            words["n_category"],
            words["n_valid"],
            words["dont_know"],
            words["share"],
            words["weighted"],
        ],
        table_rows=table_rows,
    )


# --- the case studies -----------------------------------------------------------------------------------------


def fieldwork_chart(connection: DuckDBPyConnection, drawing: Drawing, chart_id: str) -> Chart:
    words, lang = drawing.words, drawing.lang
    title, caption = words["fieldwork"], words["fieldwork_caption"]
    rows = query(connection, "select * from case_fieldwork order by case_id")
    if not rows:
        return drawing.no_data(
            chart_id, title, caption, "case_fieldwork", words["no_rows"].format(mart="case_fieldwork")
        )
    kinds = [names[lang] for _, names in ACTIVITY_KINDS]
    chart_rows = [
        CountRow(
            f"{row['case_id']} {row['municipality_name']}",
            [row[column] or 0 for column, _ in ACTIVITY_KINDS],
            f"n = {row['n_activities'] or 0} {words['activities']}",
        )
        for row in rows
    ]
    description = "; ".join(
        f"{row.label}: " + ", ".join(f"{kind} {count}" for kind, count in zip(kinds, row.counts, strict=True))
        for row in chart_rows
    )
    svg = count_bars(chart_id, title, description, chart_rows, kinds, words["fieldwork_axis"])
    table_rows = [
        [
            row["case_id"],
            row["municipality_name"],
            row["effort_title"],
            *(row[column] for column, _ in ACTIVITY_KINDS),
            row["n_activities"],
            row["n_transcripts_done"],
            row["n_transcripts_outstanding"],
            percent(row["consent_coverage"], lang, 1),
        ]
        for row in rows
    ]
    return Chart(
        chart_id,
        title,
        caption,
        drawing.footer("case_fieldwork"),
        svg,
        table_columns=[
            words["case"],
            words["municipality"],
            words["effort"],
            *kinds,
            words["fieldwork_axis"],
            words["transcripts_done"],
            words["transcripts_outstanding"],
            words["consent"],
        ],
        table_rows=table_rows,
    )


# --- the page ---------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #222;
       max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2.section { font-size: 1.35em; margin-top: 2em; border-bottom: 2px solid #0072B2; }
.source { background: #F3F3F3; border-left: 4px solid #0072B2; padding: 0.5em 0.8em; }
figure { margin: 2em 0; padding-top: 1em; border-top: 1px solid #DDD; }
figcaption h3 { font-size: 1.1em; margin: 0 0 0.3em; color: #222; }
figcaption p { color: #444; margin: 0 0 0.6em; }
p.chart-source { color: #555; font-size: 0.85em; margin: 0.2em 0 0.6em; }
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


def table_html(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f'<th scope="col">{esc(column)}</th>' for column in columns)
    body = []
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            numeric = numeric or (isinstance(value, str) and value.endswith("%") and value[:1].isdigit())
            shown = "–" if value is None else value
            cells.append(f'<td class="number">{esc(shown)}</td>' if numeric else f"<td>{esc(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def chart_html(chart: Chart, words: dict[str, str]) -> str:
    parts = [
        f'<figure id="{esc(chart.chart_id)}">',
        f"<figcaption><h3>{esc(chart.title)}</h3>"
        + (f"<p>{esc(chart.caption)}</p>" if chart.caption else "")
        + "</figcaption>",
    ]
    if chart.svg is None:
        parts.append(f'<p class="no-data">{esc(chart.no_data)}</p>')
    else:
        parts.append(chart.svg)
    parts.append(f'<p class="chart-source">{esc(chart.footer)}</p>')
    if chart.svg is not None:
        parts.append(
            f"<details>\n<summary>{esc(words['numbers'].format(rows=len(chart.table_rows)))}</summary>\n"
            f"{table_html(chart.table_columns, chart.table_rows)}\n</details>"
        )
    parts.append("</figure>")
    return "\n".join(parts)


def render(source_label: str, sections: Sequence[tuple[str, Sequence[Chart]]], lang: str, synthetic: bool) -> str:
    words = WORDS[lang]
    contents = "".join(
        f"<li>{esc(heading)}<ol>"
        + "".join(f'<li><a href="#{esc(chart.chart_id)}">{esc(chart.title)}</a></li>' for chart in charts)
        + "</ol></li>"
        for heading, charts in sections
    )
    body = []
    for heading, charts in sections:
        body.append(f'<h2 class="section">{esc(heading)}</h2>')
        body.extend(chart_html(chart, words) for chart in charts)
    synthetic_note = f'<p class="synthetic"><strong>{esc(words["synthetic"])}</strong></p>' if synthetic else ""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(words['title'])}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            "<header>",
            f"<h1>{esc(words['title'])}</h1>",
            f"<p>{esc(words['subtitle'])}</p>",
            f'<p class="source">{esc(source_label)}</p>',
            synthetic_note,
            f"<p>{esc(words['intro'])}</p>",
            f"<nav><ol>{contents}</ol></nav>",
            "</header>",
            "<main>",
            *body,
            "</main>",
            f'<footer><p class="source-footer">{esc(source_label)}</p><p>{esc(words["footer"])}</p>'
            + (f'<p class="synthetic">{esc(words["synthetic"])}</p>' if synthetic else "")
            + "</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _attempt(drawing: Drawing, chart_id: str, title: str, mart: str, draw: Callable[[], Chart]) -> Chart:
    try:
        return draw()
    except MissingMart as missing:
        return drawing.no_data(chart_id, title, "", mart, f"{drawing.words['missing_table']} ({missing})")


def draw_charts(connection: DuckDBPyConnection, drawing: Drawing) -> list[tuple[str, list[Chart]]]:
    """The page's sections, each with its charts, in the questionnaire's order."""
    words = drawing.words

    def response_of(chart_id: str, breakdown: str) -> Callable[[], Chart]:
        return lambda: response_chart(connection, drawing, chart_id, breakdown)

    response = [
        _attempt(drawing, chart_id, words[key], "survey_coverage", response_of(chart_id, breakdown))
        for chart_id, key, breakdown in (
            ("response-by-region", "response_by_region", "region"),
            ("response-by-sector-area", "response_by_sector_area", "sector_area"),
        )
    ]
    concepts = [
        _attempt(drawing, concept.chart_id, concept.title(drawing.lang), concept.mart,
                 lambda concept=concept: concept_chart(connection, drawing, concept))
        for concept in study_concepts()
    ]  # fmt: skip
    cases = [
        _attempt(drawing, "case-fieldwork", words["fieldwork"], "case_fieldwork",
                 lambda: fieldwork_chart(connection, drawing, "case-fieldwork"))
    ]  # fmt: skip
    return [(words["response"], response), (words["questionnaire"], concepts), (words["cases"], cases)]


def chart_ids() -> list[str]:
    """Every chart's id, in the page's order."""
    return [
        "response-by-region",
        "response-by-sector-area",
        *(concept.chart_id for concept in study_concepts()),
        "case-fieldwork",
    ]


def describe(source: Source | None, lang: str) -> tuple[str, str | None, str]:
    """The page's source line, the run's id and the file's origin ("the published file", "snapshot ...")."""
    words = WORDS[lang]
    if source is None:
        return f"{words['figures_from']} {words['no_run']}.", None, words["published"]
    run = f"{words['run']} {source.run_id}, {words['built']} {source.built_at}" if source.run_id else words["no_run"]
    kept = f"{words['snapshot']} {source.snapshot.published_at:%Y-%m-%d %H:%M}" if source.snapshot else ""
    if source.snapshot is None or source.path != source.snapshot.path:  # the published file (kept as `kept`)
        origin = f"{words['published']} ({kept})" if kept else words["published"]
    else:
        origin = kept + (f" ({words['as_of']} {source.as_of:%Y-%m-%d})" if source.as_of is not None else "")
    return f"{words['figures_from']} {origin}: {run}.", source.run_id, origin


def build_report(connection: DuckDBPyConnection, source: Source | None, out_path: Path, lang: str = "da") -> Path:
    """Write the study report, one self-contained HTML file, from the marts of an open read-only connection
    to `source`'s file, in Danish ("da") or English ("en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"The report is drawn in {' or '.join(LANGUAGES)}, not {lang!r}.")
    from samskab.publish.catalog import is_synthetic

    out_path = Path(out_path)
    label, run_id, origin = describe(source, lang)
    sections = draw_charts(connection, Drawing(lang, run_id, origin))
    page = render(label, sections, lang, is_synthetic(connection))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Two analysts may draw the same snapshot's report into one folder at once: a temporary name each.
    write_atomically(out_path, page, partial=out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex}.tmp"))
    return out_path


REPORT_NAME = "report.html"


def build_study_report(settings: Settings, target_dir: Path) -> Path:
    """The study report of the published file, in Danish, as `target_dir/report.html` (drawn by every publish)."""
    from samskab.analysts.source import connect, resolve

    source, connection = connect(resolve(settings))
    try:
        return build_report(connection, source, target_dir / REPORT_NAME)
    finally:
        connection.close()
