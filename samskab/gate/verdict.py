"""The gate's verdict in words: what passed and what failed, for the run's log, its artifacts, `meta`,
`samskab status` and the notice; and the error a run stops with when a blocking check fails.

Counts, names of checks, tables and columns only: never a value from the data.
"""

from __future__ import annotations

import pandas as pd

from samskab.build.dbt import DbtOutcome
from samskab.common.failures import ReportedFailure
from samskab.gate.stages import QUALITY_COLUMNS
from samskab.gate.suites import SuiteVerdict

FIX_DELIVERY = (
    "Next: correct the delivery named above (deliver a new version, never edit the old one) and run "
    "`samskab refresh` again."
)
FIX_INPUTS = (
    "Next: compare the landing files with those the published file was built from (`samskab status` "
    "lists them); deliver a corrected version and run `samskab refresh` again."
)


class QualityGateFailed(ReportedFailure):
    """The run's data did not pass the gate; nothing was published."""


def gate_failed(what: str, details: str, next_step: str) -> QualityGateFailed:
    return QualityGateFailed(f"{what}\n{details}\nAnalysts keep the file published before this run. {next_step}")


def verdict_rows(verdicts: list[SuiteVerdict]) -> list[dict]:
    """One row per check of the verdicts, for the run's artifact (counts only, no values)."""
    return [
        {
            "suite": verdict.suite,
            "table": verdict.table,
            "check": outcome.check,
            "column": outcome.column or "",
            "severity": outcome.severity,
            "result": "passed" if outcome.success else "FAILED",
            "observed": outcome.observed,
        }
        for verdict in verdicts
        for outcome in verdict.outcomes
    ]


def failed_check_lines(verdicts: list[SuiteVerdict]) -> list[tuple[str, str]]:
    """(severity, words) for every check that failed, for the run's log."""
    return [
        (
            outcome.severity,
            f"{outcome.severity.capitalize()} check failed on {verdict.table}"
            f"{f'.{outcome.column}' if outcome.column else ''}: {outcome.description} ({outcome.observed})",
        )
        for verdict in verdicts
        for outcome in verdict.outcomes
        if not outcome.success
    ]


def suite_line(verdict: SuiteVerdict) -> str:
    state = "passed" if verdict.passed else "FAILED"
    return f"Suite {verdict.suite} on {verdict.table} ({verdict.n_rows} rows): {state}"


def dbt_checks(outcome: DbtOutcome) -> pd.DataFrame:
    """One row per dbt test for meta.quality_checks, with the same severity field as the GX checks."""
    rows = [
        {
            "stage": "dbt",
            "suite": "dbt build",
            "table_name": None,
            "n_rows": None,
            "check_name": node.name,
            "column_name": None,
            "severity": node.severity,
            "success": node.status == "pass",
            "observed": node.status if node.failures is None else f"{node.status}: {node.failures} failing rows",
            "description": "a dbt unit test" if node.resource_type == "unit_test" else "a dbt data test",
        }
        for node in outcome.nodes
        if node.resource_type in ("test", "unit_test")
    ]
    rows += [
        {
            "stage": "dbt",
            "suite": "dbt build",
            "table_name": None,
            "n_rows": None,
            "check_name": test.name,
            "column_name": None,
            "severity": test.severity,
            "success": test.status == "pass",
            "observed": f"{test.status if test.failures is None else f'{test.status}: {test.failures} failing rows'}"
            f" in run {test.run_id or 'before'} (not run again: nothing it reads has changed since)",
            "description": "a dbt unit test" if test.resource_type == "unit_test" else "a dbt data test",
        }
        for test in outcome.kept
    ]
    return pd.DataFrame(rows, columns=list(QUALITY_COLUMNS))


def passed_verdict(dbt_outcome: DbtOutcome, quality: pd.DataFrame, n_attention: int) -> str:
    """The verdict of a run that passed its gate, in one line."""
    n_met = int(quality["success"].sum())
    dbt_tests = f"all {dbt_outcome.n_tests_passed} dbt tests"
    if dbt_outcome.kept:
        dbt_tests += (
            f" of what changed ({dbt_outcome.n_tests_kept_passed} more of unchanged models passed when last run)"
        )
    verdict = f"PASSED: {dbt_tests} and {n_met} of {len(quality)} Great Expectations checks met"
    if n_met < len(quality):
        verdict += f"; {len(quality) - n_met} warning checks not met (see meta.quality_checks)"
    n_warned = len(dbt_outcome.warnings) + sum(1 for test in dbt_outcome.kept if test.status == "warn")
    if n_warned:
        verdict += f"; {n_warned} dbt tests warned"
    if n_attention:
        verdict += (
            f"; but {n_attention} landing files need attention "
            "(refused, not recognised, held back, or too many rows rejected)"
        )
    return verdict
