"""The study report: one self-contained HTML page, Danish by default, whose charts (static SVG drawn by
matplotlib) show every wave of the published marts side by side, n on every bar and the change between
the waves, each titled by the question as the questionnaire asked it."""

from __future__ import annotations

import csv
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from samskab.analysts.report import build_report, chart_ids
from samskab.analysts.source import Source
from tests.lakes import REPO

pytestmark = pytest.mark.end_to_end

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # any scheme (http:, data:, ...) or //
BAR = re.compile(r"^(?P<chart>[a-z-]+)-bar:(?P<series>[^:]+):(?P<row>\d+)$")
CONCEPTS = list(csv.DictReader((REPO / "dbt_project" / "seeds" / "study_concepts.csv").read_text("utf-8").splitlines()))


class ReportPage(HTMLParser):
    """What a reader of the page gets: each figure's title, caption, source line, bars and the text in its
    chart; the header's and footer's text; every reference the page could fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.figure: str | None = None
        self.part: str | None = None  # "title", "caption", "source" or "chart" inside a figure
        self.svg_depth = 0
        self.in_label = False  # an SVG's <title> or <desc>: for a screen reader, not drawn
        self.figures: dict[str, dict[str, list]] = {}
        self.section: list[str] = []
        self.text: dict[str, list[str]] = {"header": [], "footer": []}
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.scripts_with_src: list[str] = []
        self.stylesheet_links: list[str] = []
        self.in_style = False
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name in {"src", "href", "xlink:href", "srcset", "poster", "data", "action", "background"}:
                self.references.append((tag, name, value))
            if name == "style":
                self.styles.append(value)
        if tag == "html":
            self.lang = values.get("lang", "")
        if tag == "script" and "src" in values:
            self.scripts_with_src.append(values["src"])
        if tag == "link" and ("stylesheet" in values.get("rel", "").lower() or "href" in values):
            self.stylesheet_links.append(values.get("href", ""))
        if tag == "style":
            self.in_style = True
        if tag in {"header", "footer"}:
            self.section.append(tag)
        if tag == "figure":
            self.figure = values.get("id", "")
            self.figures[self.figure] = {"svgs": [], "bars": [], "title": [], "caption": [], "source": [], "chart": []}
        elif self.figure is not None:
            figure = self.figures[self.figure]
            if tag == "svg":
                self.svg_depth += 1
                figure["svgs"].append(values.get("role"))
                self.part = "chart"
            elif self.svg_depth and tag in ("title", "desc"):
                self.in_label = True
            elif self.svg_depth and tag == "g" and BAR.match(values.get("id", "")):
                figure["bars"].append(values["id"])
            elif tag == "h3":
                self.part = "title"
            elif tag == "p" and not self.svg_depth:
                self.part = {"chart-source": "source", "no-data": "caption"}.get(values.get("class", ""), "caption")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False
        elif tag in ("title", "desc") and self.svg_depth:
            self.in_label = False
        elif tag == "svg" and self.svg_depth:
            self.svg_depth -= 1
            self.part = None
        elif tag in {"h3", "p"} and not self.svg_depth:
            self.part = None
        elif tag == "figure":
            self.figure = None
        elif tag in {"header", "footer"} and self.section:
            self.section.pop()

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.styles.append(data)
        if self.section:
            self.text[self.section[-1]].append(data)
        if self.figure is not None and self.part is not None and not self.in_label:
            self.figures[self.figure][self.part].append(data)

    def said(self, chart_id: str, part: str) -> str:
        return " ".join(" ".join(self.figures[chart_id][part]).split())


def read_page(path: Path) -> ReportPage:
    page = ReportPage()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def published(refreshed_lake) -> Path:
    lake, _manifest, _report = refreshed_lake
    return lake / "published" / "analytics.duckdb"


def source_of(connection: duckdb.DuckDBPyConnection, path: Path) -> Source:
    run_id, finished_at = connection.execute("select run_id, finished_at from meta.runs").fetchone()
    return Source(path, str(run_id), f"{finished_at:%Y-%m-%d %H:%M} UTC", None)


@pytest.fixture(scope="module")
def pages(published, tmp_path_factory) -> dict[str, tuple[Path, ReportPage]]:
    """The report of the refreshed sample in Danish and in English, drawn once for the module's tests."""
    folder = tmp_path_factory.mktemp("reports")
    drawn = {}
    with duckdb.connect(str(published), read_only=True) as connection:
        source = source_of(connection, published)
        for lang in ("da", "en"):
            path = build_report(connection, source, folder / f"report-{lang}.html", lang)
            drawn[lang] = (path, read_page(path))
    return drawn


def marts(published: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(published), read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


def test_every_chart_is_an_accessible_svg_with_a_bar_for_each_wave_and_row_of_its_mart(published, pages):
    _, page = pages["da"]
    assert list(page.figures) == chart_ids()
    assert len(chart_ids()) == 2 + len(CONCEPTS) + 1  # response twice, every concept, the fieldwork
    expected: dict[str, Counter] = {}
    for chart_id, breakdown in (("response-by-region", "region"), ("response-by-sector-area", "sector_area")):
        rows = marts(published, "select wave_id from survey_coverage where breakdown in (?, 'all')", [breakdown])
        expected[chart_id] = Counter(wave for (wave,) in rows)
    for concept in CONCEPTS:
        rows = marts(
            published,
            f"select wave_id from {concept['mart']} where concept = ? and breakdown = 'all' and answer_sort_order = 1",
            [concept["concept"]],
        )
        expected[concept["concept"].replace("_", "-")] = Counter(wave for (wave,) in rows)
    for chart_id, per_wave in expected.items():
        assert set(per_wave) == {"2016", "2019"}, (chart_id, per_wave)  # the sample holds both waves
        bars = Counter(BAR.match(bar)["series"] for bar in page.figures[chart_id]["bars"])
        assert bars == per_wave, chart_id
        assert page.figures[chart_id]["svgs"] == ["img"]
        chart_text = page.said(chart_id, "chart")
        assert len(re.findall(r"\(n = \d+\)", chart_text)) == sum(per_wave.values()), chart_id  # n on every bar
        assert "2016" in chart_text and "2019" in chart_text and "Ændring" in chart_text
    fieldwork_bars = page.figures["case-fieldwork"]["bars"]
    assert {BAR.match(bar)["row"] for bar in fieldwork_bars} == {str(n) for n in range(5)}
    assert len(re.findall(r"n = \d+ aktiviteter", page.said("case-fieldwork", "chart"))) == 5


def test_a_concept_chart_shows_each_waves_share_and_n_and_the_change_between_them(published, pages):
    _, page = pages["da"]
    rows = marts(
        published,
        """
        select item_name_da, wave_id, share, n_valid from motives
        where breakdown = 'all' and answer_category = 'selected'
        """,
    )
    by_item: dict[str, dict[str, tuple[float, int]]] = {}
    for item, wave, share, n_valid in rows:
        by_item.setdefault(item, {})[wave] = (share, n_valid)
    chart = page.said("motive", "chart")
    assert len(by_item) == 7
    for item, waves in by_item.items():
        assert item in chart
        for share, n_valid in waves.values():
            assert f"{share * 100:.0f} % (n = {n_valid})" in chart, item
        change = round((waves["2019"][0] - waves["2016"][0]) * 100)
        assert (f"{change:+d} pct.-point" if change else "±0 pct.-point") in chart, item


def test_each_concept_is_titled_by_its_question_and_names_its_source_beneath(published, pages):
    _, page = pages["da"]
    run_id = marts(published, "select run_id from meta.runs")[0][0]
    assert page.lang == "da"
    for concept in CONCEPTS:
        chart_id = concept["concept"].replace("_", "-")
        assert page.said(chart_id, "title") == concept["question_da"]
        assert page.said(chart_id, "source") == f"Kilde: {concept['mart']} · kørsel {run_id} · den offentliggjorte fil"
    assert page.said("response-by-region", "source").startswith("Kilde: survey_coverage · kørsel ")
    assert page.said("case-fieldwork", "source").startswith("Kilde: case_fieldwork · kørsel ")
    header = " ".join("".join(page.text["header"]).split())
    assert f"Tal fra den offentliggjorte fil: kørsel {run_id}, bygget " in header
    assert "Samskabelse mellem kommuner og civilsamfund" in header


def test_the_english_report_names_each_concept_and_quotes_the_question_asked(published, pages):
    _, page = pages["en"]
    assert page.lang == "en" and list(page.figures) == chart_ids()
    for concept in CONCEPTS:
        chart_id = concept["concept"].replace("_", "-")
        assert page.said(chart_id, "title") == concept["concept_name_en"]
        assert page.said(chart_id, "caption").startswith(f"Asked: {concept['question_da']} Share '")
        assert " · run " in page.said(chart_id, "source")
        assert "Change" in page.said(chart_id, "chart") and " pp" in page.said(chart_id, "chart")
    share, n_valid = marts(
        published,
        "select share, n_valid from motives where breakdown = 'all' and answer_category = 'selected' "
        "and wave_id = '2016' order by item_code limit 1",
    )[0]
    assert f"{share * 100:.0f}% (n = {n_valid})" in page.said("motive", "chart")
    assert "Co-creation between municipalities and civil society" in "".join(page.text["header"])


def test_report_svgs_are_well_formed_titled_and_their_ids_unique_on_the_page(pages):
    for lang in ("da", "en"):
        path, _ = pages[lang]
        text = path.read_text(encoding="utf-8")
        svgs = re.findall(r"<svg\b.*?</svg>", text, re.DOTALL)
        assert len(svgs) == len(chart_ids())
        for svg in svgs:
            root = ET.fromstring(svg)
            title = root[0]
            assert title.tag.endswith("title") and title.text, "an accessible title first in every chart"
            assert root.get("role") == "img" and root.get("aria-labelledby") == title.get("id")
            assert any(element.tag.endswith("text") for element in root.iter()), "text kept as text"
        ids = re.findall(r'\bid="([^"]+)"', text)
        assert len(ids) == len(set(ids)), [name for name, n in Counter(ids).items() if n > 1][:5]


def test_report_fetches_nothing_from_the_network(pages):
    path, page = pages["da"]
    html = path.read_text(encoding="utf-8")
    assert page.references, "the page links its own figures"
    for tag, attribute, value in page.references:
        assert not EXTERNAL.match(value), (tag, attribute, value)
        assert attribute not in ("href", "xlink:href") or value.startswith("#"), (tag, attribute, value)
    assert page.scripts_with_src == [] and "<script" not in html.lower()
    assert page.stylesheet_links == []
    styles = " ".join(page.styles)
    assert "@import" not in styles.lower() and "@import" not in html.lower()
    assert "@font-face" not in html.lower()
    assert all(target.startswith("#") for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html, re.IGNORECASE))
    assert "<img" not in html.lower() and "<iframe" not in html.lower()


def test_a_missing_mart_or_one_without_rows_leaves_a_sentence_and_a_label_is_drawn_as_typed(published, tmp_path):
    copy = tmp_path / "analytics.duckdb"
    shutil.copy(published, copy)
    label = "Foreninger $x^2$ <b>&</b>"
    with duckdb.connect(str(copy)) as writer:
        writer.execute("delete from case_fieldwork")
        writer.execute("drop table barriers")
        writer.execute("update motives set item_name_da = ? where item_code = 1", [label])

    with duckdb.connect(str(copy), read_only=True) as connection:
        out = build_report(connection, source_of(connection, copy), tmp_path / "report.html")

    page = read_page(out)
    assert list(page.figures) == chart_ids()
    assert page.figures["case-fieldwork"]["svgs"] == [] and page.figures["barrier"]["svgs"] == []
    assert page.said("case-fieldwork", "caption").endswith("Ingen data i denne fil: case_fieldwork har ingen rækker.")
    assert "Ingen data i denne fil: filen mangler en tabel, som diagrammet læser" in page.said("barrier", "caption")
    for chart_id in chart_ids():
        if chart_id not in ("case-fieldwork", "barrier"):
            assert page.figures[chart_id]["svgs"] == ["img"], chart_id
    assert label in page.said("motive", "chart")  # not a formula, not markup: the text as typed
    assert "<b>&</b>" not in out.read_text(encoding="utf-8")


def test_samskab_report_opens_the_published_report_and_draws_a_snapshots_and_an_english_one(refreshed_lake, tmp_path):
    import os
    import stat
    import subprocess
    import sys
    from datetime import UTC, datetime

    from samskab.publish import snapshots

    lake, _, refresh = refreshed_lake
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    environment = {**os.environ, "SAMSKAB_DATA_LAKE": str(lake), "BROWSER": str(browser)}

    def samskab(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "samskab.cli", "report", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=environment, timeout=120)

    published = samskab()
    assert published.returncode == 0, published.stderr
    report_path = lake / "published" / "docs" / "report.html"
    assert opened.read_text().split() == [report_path.resolve().as_uri()]
    assert f"run {refresh.run_id}" in published.stdout

    today = datetime.now(UTC).astimezone(snapshots.DANISH_TIME).date()
    drawn = samskab("--as-of", f"{today}", "--no-open", "--to", str(tmp_path / "reports"))
    assert drawn.returncode == 0, drawn.stderr
    [snapshot_report] = (tmp_path / "reports").glob("samskab-report-*-da.html")
    assert f"(pr. {today})" in snapshot_report.read_text(encoding="utf-8")
    assert len(opened.read_text().split()) == 1  # --no-open opened nothing

    english = samskab("--lang", "en", "--no-open", "--to", str(tmp_path / "english"))
    assert english.returncode == 0, english.stderr
    [english_report] = (tmp_path / "english").glob("samskab-report-*-en.html")
    assert '<html lang="en">' in english_report.read_text(encoding="utf-8")
    assert str(english_report) in english.stdout
