"""The words a run ends with, tested at the functions that own them: the gate's verdict and its log
lines (samskab/gate/verdict.py) and the run's summary in the Prefect UI (samskab/publish/summary.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from samskab.build.dbt import DbtNode, DbtOutcome
from samskab.gate import verdict
from samskab.gate.suites import CheckOutcome, SuiteVerdict
from samskab.ingest.raw_store import LoadSummary
from samskab.publish import summary


def checks(successes: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({"success": successes})


def test_a_passed_verdict_counts_what_was_met_and_says_what_needs_attention():
    outcome = DbtOutcome(success=True, seconds=1.0, n_tests_passed=640, warnings=["a warning"])
    said = verdict.passed_verdict(outcome, checks([True, True, False]), n_attention=2)
    assert said.startswith("PASSED: all 640 dbt tests and 2 of 3 Great Expectations checks met")
    assert "1 warning checks not met" in said and "1 dbt tests warned" in said
    assert "but 2 landing files need attention" in said
    assert verdict.passed_verdict(outcome, checks([True]), n_attention=0).count(";") == 1  # only the dbt warning


def test_failed_checks_are_logged_by_severity_and_every_check_is_an_artifact_row():
    failed = CheckOutcome("raw_x", "expect_column_values_to_not_be_null", "code", "blocking", False, "a code", "2 of 9")
    warned = CheckOutcome("raw_x", "expect_table_row_count_to_be_between", None, "warning", False, "rows", "9 rows")
    passed = CheckOutcome("raw_x", "expect_column_values_to_be_in_set", "level", "blocking", True, "a level", "0 of 9")
    checked = SuiteVerdict("raw_x", "raw.x", 9, (failed, warned, passed))
    lines = verdict.failed_check_lines([checked])
    assert lines == [
        ("blocking", "Blocking check failed on raw.x.code: a code (2 of 9)"),
        ("warning", "Warning check failed on raw.x: rows (9 rows)"),
    ]
    assert [row["result"] for row in verdict.verdict_rows([checked])] == ["FAILED", "FAILED", "passed"]
    assert verdict.suite_line(checked) == "Suite raw_x on raw.x (9 rows): FAILED"


def test_dbt_tests_become_quality_check_rows_with_their_failing_counts_only():
    nodes = [
        DbtNode("not_null_x", "test", "fail", 0.1, "blocking", "", 3),
        DbtNode("x", "model", "success", 0.2, "", "main.x", None),
        DbtNode("unit_y", "unit_test", "pass", 0.1, "blocking", "", None),
    ]
    rows = verdict.dbt_checks(DbtOutcome(success=False, seconds=1.0, nodes=nodes))
    assert rows["check_name"].tolist() == ["not_null_x", "unit_y"]
    assert rows["observed"].tolist() == ["fail: 3 failing rows", "pass"]
    assert rows["success"].tolist() == [False, True]


def test_the_summary_of_a_publish_names_attention_documentation_tables_and_deliveries(tmp_path):
    load = LoadSummary("survey", "survey/x", "loaded", rows={"survey_answers": 12}, n_rejected=1, notes=["a note"])
    docs = tmp_path / "published" / "docs"
    pages = {"study report": str(docs / "report.html"), "dbt docs": str(docs / "dbt" / "index.html")}

    def published(docs_url=None):
        return summary.published_summary(
            "run-1",
            "PASSED: all",
            ["REFUSED statbank/y.csv: is empty"],
            pages,
            {"motives": 252},
            [{"table": "motives", "change": "+12 (+5.0%)"}],
            [load],
            docs,
            docs_url,
        )

    text = published("http://127.0.0.1:4201")
    assert "**Needs attention** (the rest was published):" in text and "REFUSED statbank/y.csv" in text
    # Served by `samskab serve`: links a browser opens from the Prefect UI's page.
    assert "[study report](<http://127.0.0.1:4201/report.html>)" in text
    assert "[dbt docs](<http://127.0.0.1:4201/dbt/index.html>)" in text
    assert "[earlier files' reports (snapshots)](<http://127.0.0.1:4201/snapshots/>)" in text
    # Without a server: no file:// link (a browser refuses it from a web page), the files and the commands.
    alone = published()
    assert "file:" not in alone and "](" not in alone
    assert "study report `published/docs/report.html`" in alone and "`samskab serve` serves it" in alone
    assert "| motives | 252 | +12 (+5.0%) |" in text and "| survey/x | loaded | 12 | 1 |" in text
    assert "- survey/x: a note" in text
    quiet = summary.nothing_to_do_summary("run-2", "Nothing changed", [])
    assert "Every file in the landing zone was read" in quiet
    assert "Still needs attention" in summary.nothing_to_do_summary("run-3", "Nothing changed", ["HELD BACK x"])


HOSTILE = [
    "survey/<script>alert(1)</script>",
    "survey/[klik](https://example.org)",
    "survey/a | b | c",
    "survey/første\n# Overskrift",
    "survey/<img src=x onerror=alert(1)>",
    "survey/`kode` *fed* _kursiv_ ![billede](x.png)",
    "- liste",
]


def test_hostile_folder_names_and_notes_reach_the_summary_as_their_own_text():
    """Every text from the landing zone is inert in the Markdown the Prefect UI renders (issue 22, defect 9):
    no tag, link, image, table cell or heading comes from a folder name or a note."""
    loads = [LoadSummary("survey", name, "refused", notes=[name]) for name in HOSTILE]
    published = summary.published_summary("run-1", "PASSED", HOSTILE, {}, {"t": 1}, [], loads, Path("docs"))
    quiet = summary.nothing_to_do_summary("run-2", "Nothing changed", HOSTILE)
    for text in (published, quiet):
        assert "<" not in text and not re.search(r"(?<!\\)\]\(", text) and "\n# Overskrift" not in text
        for line in text.splitlines():
            if line.startswith("|") and "survey/" in line:
                assert line.count("|") - line.count("\\|") == 5, line  # the table's own bars only
    assert "- survey/&lt;script&gt;alert(1)&lt;/script&gt;" in quiet
    assert "- survey/første \\# Overskrift" in quiet  # one line, the heading mark escaped
    assert "- \\- liste" in quiet


def test_markdown_inline_keeps_every_character_readable():
    from samskab.common.markdown import inline

    assert inline("survey/samskabelse_2016") == "survey/samskabelse\\_2016"
    assert inline("1. maj") == "1\\. maj" and inline("a\tb\n c") == "a b c"
