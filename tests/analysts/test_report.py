"""The study report: one self-contained HTML page whose charts are inline SVG drawn from the published marts."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from samskab.analysts.report import CHARTS, build_report
from tests.lakes import REPO

pytestmark = pytest.mark.end_to_end

MARKS = {"rect", "circle", "path"}

# What each chart plots, counted straight from the marts: the latest wave, the rows the chart draws.
CHART_ROWS = {
    "response-by-region": """
        select count(*) from survey_coverage
        where breakdown = 'region' and wave_id = (select max(wave_id) from survey_coverage)
    """,
    "response-by-sector-area": """
        select count(*) from survey_coverage
        where breakdown = 'sector_area' and wave_id = (select max(wave_id) from survey_coverage)
    """,
    "partner-types-by-sector-area": """
        select count(*) from partner_collaboration
        where breakdown = 'sector_area' and answer_category = 'always_or_often'
          and wave_id = (select max(wave_id) from partner_collaboration)
    """,
    "motives": """
        select count(*) from motives
        where breakdown = 'all' and answer_category = 'selected' and wave_id = (select max(wave_id) from motives)
    """,
    "barriers": """
        select count(*) from barriers where breakdown = 'all' and wave_id = (select max(wave_id) from barriers)
    """,
    "roles": """
        select count(*) from municipal_roles
        where breakdown = 'all' and wave_id = (select max(wave_id) from municipal_roles)
    """,
    "case-fieldwork": "select count(*) from case_fieldwork",
}

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # any scheme (http:, data:, ...) or //


class ReportPage(HTMLParser):
    """What a reader of the page gets: each figure's marks and text, the header's and footer's text, and
    every reference the page could fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figure: str | None = None
        self.svg_depth = 0
        self.figures: dict[str, dict[str, object]] = {}
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
            self.figures[self.figure] = {"svgs": 0, "marks": 0, "text": []}
        elif self.figure is not None:
            if tag == "svg":
                self.svg_depth += 1
                self.figures[self.figure]["svgs"] += 1
            elif self.svg_depth and tag in MARKS:
                self.figures[self.figure]["marks"] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False
        elif tag == "svg" and self.svg_depth:
            self.svg_depth -= 1
        elif tag == "figure":
            self.figure = None
        elif tag in {"header", "footer"} and self.section:
            self.section.pop()

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.styles.append(data)
        if self.section:
            self.text[self.section[-1]].append(data)
        if self.figure is not None:
            self.figures[self.figure]["text"].append(data)


def read_page(path: Path) -> ReportPage:
    page = ReportPage()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def figure_text(page: ReportPage, chart_id: str) -> str:
    return " ".join(" ".join(page.figures[chart_id]["text"]).split())


@pytest.fixture(scope="module")
def published(refreshed_lake) -> Path:
    lake, _manifest, _report = refreshed_lake
    return lake / "published" / "analytics.duckdb"


def source_label_of(connection: duckdb.DuckDBPyConnection, path: Path) -> str:
    run_id, finished_at = connection.execute(
        "select run_id, finished_at from meta.runs order by finished_at desc limit 1"
    ).fetchone()
    return f"Figures from {path.name} as published by run {run_id} on {finished_at:%Y-%m-%d %H:%M} (R&D <copy>)."


def test_report_draws_every_chart_as_inline_svg_with_a_mark_for_each_row_of_its_mart(published, tmp_path):
    connection = duckdb.connect(str(published), read_only=True)
    try:
        label = source_label_of(connection, published)
        expected = {chart_id: connection.execute(sql).fetchone()[0] for chart_id, sql in CHART_ROWS.items()}
        out = build_report(connection, label, tmp_path / "report.html")
    finally:
        connection.close()

    assert out == tmp_path / "report.html"
    assert list(tmp_path.iterdir()) == [out], "the temporary file was replaced into place, nothing left beside"
    assert set(expected) == {chart_id for chart_id, _ in CHARTS}
    page = read_page(out)
    assert list(page.figures) == [chart_id for chart_id, _ in CHARTS]
    for chart_id, title in CHARTS:
        figure = page.figures[chart_id]
        assert expected[chart_id] > 0, f"the sample has rows for {chart_id}"
        assert figure["svgs"] == 1, chart_id
        assert figure["marks"] >= expected[chart_id], (chart_id, figure["marks"], expected[chart_id])
        assert title in figure_text(page, chart_id)
        assert "No data in this file" not in figure_text(page, chart_id)


def test_report_svgs_are_well_formed_and_titled(published, tmp_path):
    connection = duckdb.connect(str(published), read_only=True)
    try:
        out = build_report(connection, "Figures from the sample.", tmp_path / "report.html")
    finally:
        connection.close()

    svgs = re.findall(r"<svg\b.*?</svg>", out.read_text(encoding="utf-8"), re.DOTALL)
    assert len(svgs) == len(CHARTS)
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root[0].tag == "title" and root[0].text, "an accessible title first in every chart"
        assert root.get("role") == "img"
        assert any(element.tag == "text" for element in root.iter()), "axis and value labels"


def test_report_names_its_source_at_the_top_and_in_the_footer(published, tmp_path):
    connection = duckdb.connect(str(published), read_only=True)
    try:
        label = source_label_of(connection, published)
        out = build_report(connection, label, tmp_path / "report.html")
    finally:
        connection.close()

    page = read_page(out)
    assert label in "".join(page.text["header"])
    assert label in "".join(page.text["footer"])
    assert "R&D <copy>" not in out.read_text(encoding="utf-8"), "the label is escaped in the HTML"


def test_report_fetches_nothing_from_the_network(published, tmp_path):
    connection = duckdb.connect(str(published), read_only=True)
    try:
        out = build_report(connection, "Figures from the sample.", tmp_path / "report.html")
    finally:
        connection.close()

    html = out.read_text(encoding="utf-8")
    page = read_page(out)
    assert page.references, "the page links its own figures"
    for tag, attribute, value in page.references:
        assert not EXTERNAL.match(value), (tag, attribute, value)
        assert attribute != "href" or value.startswith("#"), (tag, attribute, value)
    assert page.scripts_with_src == []
    assert page.stylesheet_links == []
    styles = " ".join(page.styles)
    assert "@import" not in styles.lower() and "@import" not in html.lower()
    assert "@font-face" not in html.lower()
    assert all(target.startswith("#") for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html, re.IGNORECASE))
    assert "<img" not in html.lower() and "<iframe" not in html.lower()


def test_a_mart_without_rows_leaves_its_chart_with_a_no_data_sentence(published, tmp_path):
    copy = tmp_path / "analytics.duckdb"
    shutil.copy(published, copy)
    writer = duckdb.connect(str(copy))
    try:
        writer.execute("delete from case_fieldwork")
    finally:
        writer.close()

    connection = duckdb.connect(str(copy), read_only=True)
    try:
        assert connection.execute("select count(*) from case_fieldwork").fetchone()[0] == 0
        out = build_report(connection, "Figures from a copy with no case fieldwork.", tmp_path / "report.html")
    finally:
        connection.close()

    page = read_page(out)
    assert list(page.figures) == [chart_id for chart_id, _ in CHARTS]
    assert page.figures["case-fieldwork"]["svgs"] == 0
    assert "No data in this file" in figure_text(page, "case-fieldwork")
    for chart_id, _ in CHARTS:
        if chart_id != "case-fieldwork":
            assert page.figures[chart_id]["svgs"] == 1, chart_id


def test_samskab_report_opens_the_published_report_in_the_browser_and_draws_a_snapshots(refreshed_lake, tmp_path):
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
    root = REPO

    def samskab(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "samskab.cli", "report", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=root, env=environment, timeout=120)

    published = samskab()
    assert published.returncode == 0, published.stderr
    report_path = lake / "published" / "docs" / "report.html"
    assert opened.read_text().split() == [report_path.resolve().as_uri()]
    assert f"run {refresh.run_id}" in published.stdout

    today = datetime.now(UTC).astimezone(snapshots.DANISH_TIME).date()
    drawn = samskab("--as-of", f"{today}", "--no-open", "--to", str(tmp_path / "reports"))
    assert drawn.returncode == 0, drawn.stderr
    [snapshot_report] = (tmp_path / "reports").glob("samskab-report-*.html")
    assert f"as of {today}" in snapshot_report.read_text(encoding="utf-8")
    assert len(opened.read_text().split()) == 1  # --no-open opened nothing
