"""The quality checks' own page (samskab/gate/validation_page.py): read as a person reads it with no
network, it lists every suite with its status in words, and every check; it fetches nothing, and in a
browser a pass and a fail look different."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from samskab.gate.suites import BLOCKING, WARNING, CheckOutcome, SuiteVerdict
from samskab.gate.validation_page import FAILED, PASSED, build_validation_page, render_validation_page
from tests.browser import Seen, open_offline


class _Seen(HTMLParser):
    """The text a browser shows, cell by cell, every address the page would load, and every link out of it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.loads: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        addresses = [value for name, value in attrs if name in ("src", "href") and not value.startswith("#")]
        if tag == "a":
            self.links += addresses
        else:
            self.loads += addresses
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _outcome(suite, check, success, severity=BLOCKING, column="answer_value"):
    return CheckOutcome(suite, check, column, severity, success, f"{check} on {column}", "3 of 65,710 rows")


def test_the_page_lists_every_suite_with_its_status_and_fetches_nothing(tmp_path):
    verdicts = [
        SuiteVerdict("raw_survey_answers", "raw.survey_answers", 65_710, (_outcome("raw_survey_answers", "a", True),)),
        SuiteVerdict(
            "raw_case_studies",
            "raw.case_studies",
            5,
            (_outcome("raw_case_studies", "b", True), _outcome("raw_case_studies", "c", False)),
        ),
        SuiteVerdict("drift_shares", "main.compared_marts", 12, (_outcome("drift_shares", "d", False, WARNING),)),
        SuiteVerdict("consent", "raw.<script>alert(1)</script>", 68, (_outcome("consent", "e", True, column=None),)),
    ]
    page = build_validation_page(verdicts, tmp_path / "docs", "run <b>7</b>")
    assert page == tmp_path / "docs" / "validation.html"
    seen = _Seen()
    seen.feed(page.read_text(encoding="utf-8"))

    assert seen.loads == [] and not seen.tags & {"script", "img", "link", "iframe", "object"}  # nothing fetched
    # Great Expectations' Data Docs, built beside it, are linked (their index needs a network).
    assert seen.links == ["great_expectations/index.html"]
    index = {row[0]: row for row in seen.rows if len(row) == 5 and row[0] != "suite"}
    assert list(index) == ["raw_survey_answers", "raw_case_studies", "drift_shares", "consent"]
    assert index["raw_survey_answers"][1:] == ["raw.survey_answers", "65,710", "1 of 1", "✔ passed"]
    assert index["raw_case_studies"][3:] == ["1 of 2", "✖ FAILED"]
    assert index["drift_shares"][4] == "! warned"
    assert index["consent"][1] == "raw.<script>alert(1)</script>"  # shown as text, never as markup
    checks = [row for row in seen.rows if len(row) == 6 and row[0] != "check"]
    assert [(row[0], row[3], row[4]) for row in checks] == [
        ("a", "✔ passed", "3 of 65,710 rows"),
        ("b", "✔ passed", "3 of 65,710 rows"),
        ("c", "✖ FAILED", "3 of 65,710 rows"),
        ("d", "! warned", "3 of 65,710 rows"),
        ("e", "✔ passed", "3 of 65,710 rows"),
    ]
    written = page.read_text(encoding="utf-8")
    assert "<b>7</b>" not in written and "Quality checks of run run &lt;b&gt;7&lt;/b&gt;" in written


# The test's own probe, added to a copy of the page (the page runs no script): what the browser drew of
# each cell, written into the DOM it hands back.
_PROBE = """<script>
addEventListener("load", () => {
  for (const cell of document.querySelectorAll("td")) {
    const style = getComputedStyle(cell), box = cell.getBoundingClientRect();
    const shown = cell.checkVisibility({opacityProperty: true, visibilityProperty: true});
    cell.dataset.seen = JSON.stringify({
      shown: shown && box.width > 0 && box.height > 0, color: style.color, background: style.backgroundColor,
    });
  }
});
</script>"""


def test_a_pass_and_a_fail_look_different_in_a_browser_with_no_network(tmp_path):
    """Opened in a headless Chromium with no network, the status of a suite that failed a blocking check and
    of one that passed are both shown, in different words and different colours, each legible."""
    verdicts = [
        SuiteVerdict("raw_case_studies", "raw.case_studies", 5, (_outcome("raw_case_studies", "a", True),)),
        SuiteVerdict(
            "raw_survey_answers",
            "raw.survey_answers",
            65_710,
            (_outcome("raw_survey_answers", "b", True), _outcome("raw_survey_answers", "c", False)),
        ),
    ]
    page = tmp_path / "validation.html"
    page.write_text(render_validation_page(verdicts, "run 7").replace("</body>", f"{_PROBE}</body>"), encoding="utf-8")
    seen = Seen(open_offline(page.as_uri(), tmp_path / "browser", budget_ms=1000))

    index = {row[0]: row for row in seen.rows if len(row) == 5 and row[0] != "suite"}
    assert index["raw_case_studies"][4] == "✔ passed" and index["raw_survey_answers"][4] == "✖ FAILED"
    drawn = {text: json.loads(attributes["data-seen"]) for text, attributes in seen.cells if text in (PASSED, FAILED)}
    passed, failed = drawn[PASSED], drawn[FAILED]
    assert passed["shown"] and failed["shown"], drawn
    assert (passed["color"], passed["background"]) != (failed["color"], failed["background"]), drawn
    assert passed["color"] != passed["background"] and failed["color"] != failed["background"], drawn
