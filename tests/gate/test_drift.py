"""Drift of the candidate from the file analysts read now, judged by the committed GX suites of stage
"drift" on small hand-built files: counts only, an emptied mart blocks, a moved share or row count warns."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import pytest

from samskab.gate import suites as gate
from samskab.gate.drift import ROW_COUNTS, SHARES, compared_marts, comparison_frames, drift_verdicts

MOTIVES = """
create table motives as select * from (values
    ('2016', 'all', null, 'motive', 1, 'selected', {a}, 0.60),
    ('2016', 'all', null, 'motive', 6, 'selected', {b}, 0.05),
    ('2016', 'sector_area', 3, 'motive', 6, 'selected', {c}, null)
) as t(wave_id, breakdown, sector_area_code, concept, item_code, answer_category, share, weighted_share)
"""
COVERAGE = """
create table survey_coverage as select * from (values
    ('2016', 'all', null, 0.40, 0.55),
    ('2016', 'region', 1081, 0.35, 0.50)
) as t(wave_id, breakdown, group_code, rr1, rr2)
"""
CASES = "create table case_fieldwork as select 'C' || range as case_id, 3 as n_activities from range({n})"
RESUBMISSIONS = "create table survey_resubmissions as select range as record, true as is_counted from range({n})"
COUNT_KEYS = {
    "element_count",
    "missing_count",
    "missing_percent",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
}
SHARE_VALUES = ("0.61", "0.62", "0.31", "0.26", "0.25", "0.05", "0.6", "0.5", "0.4", "0.35", "0.55")


def write_file(path: Path, *statements: str) -> Path:
    connection = duckdb.connect(str(path))
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()
    return path


def marts_file(path: Path, **changes: str | None) -> Path:
    """A file of four marts (motives, survey_coverage, case_fieldwork, survey_resubmissions); a keyword
    argument replaces one mart's statement, None leaves the mart out."""
    statements = {
        "motives": MOTIVES.format(a=0.61, b=0.05, c=0.50),
        "survey_coverage": COVERAGE,
        "case_fieldwork": CASES.format(n=5),
        "survey_resubmissions": RESUBMISSIONS.format(n=2),
    }
    statements.update(changes)
    return write_file(path, *[statement for statement in statements.values() if statement is not None])


def by_suite(verdicts: list[gate.SuiteVerdict]) -> dict[str, gate.SuiteVerdict]:
    assert [verdict.suite for verdict in verdicts] == [ROW_COUNTS, SHARES]
    return {verdict.suite: verdict for verdict in verdicts}


def words(verdicts: list[gate.SuiteVerdict]) -> str:
    fields = [str(value) for v in verdicts for o in v.outcomes for value in dataclasses.asdict(o).values()]
    return "\n".join([*fields, gate.describe_failures(verdicts)])


@pytest.fixture()
def published(tmp_path) -> Path:
    return marts_file(tmp_path / "published.duckdb")


def test_every_concept_mart_of_the_study_mapping_and_the_coverage_are_compared():
    marts = compared_marts()
    assert {"motives", "partner_collaboration", "collaboration_topics", "survey_coverage"} <= set(marts)
    assert "collaborations" not in marts  # one row per collaboration: no share to drift
    assert marts["survey_coverage"] == (("wave_id", "breakdown", "group_code"), ("rr1", "rr2"))


def test_the_drift_suites_are_committed_with_the_threshold_as_a_parameter():
    assert gate.suite_names("drift") == [ROW_COUNTS, SHARES]
    committed = json.loads((gate.expectations_dir() / f"{SHARES}.json").read_text(encoding="utf-8"))
    (expectation,) = committed["expectations"]
    assert expectation["kwargs"] == {"column": "abs_change", "max_value": {"$PARAMETER": "drift_threshold"}}
    assert expectation["meta"]["severity"] == "warning"
    checks = gate.load_suite_document(ROW_COUNTS)["expectations"]
    assert [(e["kwargs"]["column"], e["meta"]["severity"]) for e in checks] == [
        ("n_now", "blocking"),
        ("relative_change", "warning"),
    ]


def test_nothing_is_compared_before_the_first_publish(tmp_path):
    candidate = marts_file(tmp_path / "candidate.duckdb")
    assert drift_verdicts(candidate, tmp_path / "never_published.duckdb", threshold=0.10) == []


def test_the_comparison_frames_hold_row_counts_and_share_changes_of_cells_found_in_both(tmp_path, published):
    candidate = marts_file(tmp_path / "candidate.duckdb", motives=MOTIVES.format(a=0.62, b=0.31, c="null"))
    comparison = comparison_frames(candidate, published)
    counts = comparison.row_counts.set_index("table_name")
    assert counts[["n_before", "n_now"]].to_dict("index") == {
        "case_fieldwork": {"n_before": 5, "n_now": 5},
        "motives": {"n_before": 3, "n_now": 3},
        "survey_coverage": {"n_before": 2, "n_now": 2},
        "survey_resubmissions": {"n_before": 2, "n_now": 2},
    }
    assert (counts["relative_change"] == 0).all()
    shares = comparison.shares.groupby(["mart", "share_column"])["abs_change"].agg(["count", "max"])
    # The sector-area share became empty: not compared; weighted_share is empty there in both files.
    assert shares["count"].to_dict() == {
        ("motives", "share"): 2,
        ("motives", "weighted_share"): 2,
        ("survey_coverage", "rr1"): 2,
        ("survey_coverage", "rr2"): 2,
    }
    assert shares.loc[("motives", "share"), "max"] == pytest.approx(0.26)


def test_unchanged_files_meet_every_drift_check_in_counts(tmp_path, published):
    candidate = marts_file(tmp_path / "candidate.duckdb")
    verdicts = drift_verdicts(candidate, published, threshold=0.10)
    row_counts, shares = by_suite(verdicts).values()
    assert row_counts.passed and shares.passed and not row_counts.failed_warning and not shares.failed_warning
    assert (row_counts.table, row_counts.n_rows) == ("main.all_marts", 4)
    assert [o.observed for o in row_counts.outcomes] == [
        "0 of 3 marts that had rows have none now",  # survey_resubmissions may empty, so it is not counted
        "0 of 4 marts changed their row count by more than 50%",
    ]
    # motives: 3 shares and 2 weighted ones (the third is empty in both); survey_coverage: 2 rr1 and 2 rr2
    assert [o.observed for o in shares.outcomes] == ["0 of 9 shares moved more than 0.10"]
    assert (shares.table, shares.n_rows) == ("main.compared_marts", 9)


def test_a_share_that_moved_more_than_the_threshold_warns_with_counts_and_no_share(tmp_path, published):
    candidate = marts_file(
        tmp_path / "candidate.duckdb",
        motives=MOTIVES.format(a=0.62, b=0.31, c="null"),  # item 6 moved 0.26; the sector-area share became empty
    )
    verdicts = drift_verdicts(candidate, published, threshold=0.10)
    row_counts, shares = by_suite(verdicts).values()
    (moved,) = shares.outcomes
    assert (moved.check, moved.column, moved.severity, moved.success) == (
        "expect_column_values_to_be_between",
        "abs_change",
        "warning",
        False,
    )
    assert moved.observed == "1 of 8 shares moved more than 0.10: motives (1)"
    assert shares.passed and row_counts.passed  # a warning never blocks
    assert gate.describe_failures(verdicts).startswith("WARNING: suite drift_shares on table main.compared_marts")
    said = words(verdicts)
    assert not [value for value in SHARE_VALUES if value in said]


def test_the_threshold_is_the_suites_parameter_and_is_honoured(tmp_path, published):
    from great_expectations.exceptions import SuiteParameterError

    candidate = marts_file(tmp_path / "candidate.duckdb", motives=MOTIVES.format(a=0.62, b=0.31, c="null"))
    strict = by_suite(drift_verdicts(candidate, published, threshold=0.10))[SHARES]
    lenient = by_suite(drift_verdicts(candidate, published, threshold=0.5))[SHARES]
    assert not strict.outcomes[0].success
    assert lenient.outcomes[0].success and lenient.outcomes[0].observed == "0 of 8 shares moved more than 0.50"
    # GX applied the value given: its result, kept for Data Docs, shows it in place of the parameter.
    for verdict, threshold in ((strict, 0.10), (lenient, 0.5)):
        assert verdict.validation_result["results"][0]["expectation_config"]["kwargs"]["max_value"] == threshold
    # The same frame through the gate: the parameter decides (the move is 0.26), and it is required.
    frame = comparison_frames(candidate, published).shares
    assert not gate.validate_frame(SHARES, frame, {"drift_threshold": 0.25}).outcomes[0].success
    assert gate.validate_frame(SHARES, frame, {"drift_threshold": 0.27}).outcomes[0].success
    with pytest.raises(SuiteParameterError, match="drift_threshold"):
        gate.validate_frame(SHARES, frame)


def test_a_mart_that_lost_all_its_rows_blocks_naming_the_mart(tmp_path, published):
    candidate = marts_file(tmp_path / "candidate.duckdb", case_fieldwork=CASES.format(n=0))
    verdicts = drift_verdicts(candidate, published, threshold=0.10)
    row_counts, shares = by_suite(verdicts).values()
    assert not row_counts.passed and shares.passed
    (emptied,) = row_counts.failed_blocking
    assert emptied.column == "n_now"
    assert emptied.observed == "1 of 3 marts that had rows have none now: case_fieldwork"
    (jumped,) = row_counts.failed_warning
    assert jumped.observed == "1 of 4 marts changed their row count by more than 50%: case_fieldwork"
    text = gate.describe_failures(verdicts)
    assert text.startswith(
        "BLOCKING: suite drift_row_counts on table main.all_marts (4 rows), column n_now: expected that a mart "
        "that had rows in the file analysts read now still has rows"
    )
    assert "Result: 1 of 3 marts that had rows have none now: case_fieldwork." in text


def test_survey_resubmissions_may_empty_and_only_warns(tmp_path, published):
    candidate = marts_file(tmp_path / "candidate.duckdb", survey_resubmissions=RESUBMISSIONS.format(n=0))
    row_counts = by_suite(drift_verdicts(candidate, published, threshold=0.10))[ROW_COUNTS]
    assert row_counts.passed
    (warned,) = row_counts.failed_warning
    assert warned.observed == "1 of 4 marts changed their row count by more than 50%: survey_resubmissions"


def test_a_row_count_that_jumped_warns_and_a_small_change_does_not(tmp_path, published):
    candidate = marts_file(tmp_path / "candidate.duckdb", case_fieldwork=CASES.format(n=8))  # +60%
    row_counts = by_suite(drift_verdicts(candidate, published, threshold=0.10))[ROW_COUNTS]
    assert row_counts.passed
    (warned,) = row_counts.failed_warning
    assert (warned.column, warned.severity) == ("relative_change", "warning")
    assert warned.observed == "1 of 4 marts changed their row count by more than 50%: case_fieldwork"
    candidate = marts_file(tmp_path / "candidate_7.duckdb", case_fieldwork=CASES.format(n=7))  # +40%
    assert not by_suite(drift_verdicts(candidate, published, threshold=0.10))[ROW_COUNTS].failed_warning


def test_a_new_table_has_nothing_to_compare_and_one_no_longer_published_warns(tmp_path):
    published = marts_file(tmp_path / "published.duckdb", survey_coverage=None)
    candidate = marts_file(tmp_path / "candidate.duckdb", case_fieldwork=None)
    row_counts, shares = by_suite(drift_verdicts(candidate, published, threshold=0.10)).values()
    assert row_counts.passed and shares.passed  # a mart dropped by the project is not an emptied mart
    assert [o.observed for o in row_counts.outcomes] == [
        "0 of 1 marts that had rows have none now; new table: nothing to compare (survey_coverage)",
        "1 of 3 marts changed their row count by more than 50%: case_fieldwork; "
        "new table: nothing to compare (survey_coverage)",
    ]
    assert [o.observed for o in shares.outcomes] == [
        "0 of 5 shares moved more than 0.10; new table: nothing to compare (survey_coverage)"
    ]


def test_drift_verdicts_keep_gx_results_scrubbed_to_counts_for_data_docs(tmp_path, published):
    from samskab.gate.data_docs import build_gx_data_docs

    candidate = marts_file(tmp_path / "candidate.duckdb", motives=MOTIVES.format(a=0.62, b=0.31, c="null"))
    verdicts = drift_verdicts(candidate, published, threshold=0.10)
    for verdict in verdicts:
        result = verdict.validation_result
        assert result is not None and result["suite_name"] == verdict.suite
        for item in result["results"]:
            assert set(item["result"]) <= COUNT_KEYS
    index = build_gx_data_docs(verdicts, tmp_path / "docs", "drift-test")
    site = index.parent
    pages = {page.parent.parent.parent.name: page for page in (site / "validations").rglob("*.html")}
    assert set(pages) == {ROW_COUNTS, SHARES}
    page = pages[SHARES].read_text(encoding="utf-8")
    assert "main.compared_marts" in page and "Failed" in page
    assert not [value for value in ("0.31", "0.26", "0.62") if value in page]
