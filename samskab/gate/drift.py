"""Drift: how far the candidate file moved from the file analysts read now, judged by GX suites.

Two comparison frames are built with SQL over the candidate file, with the published file attached
read-only, and validated against the committed suites of stage "drift" (expectations/):

- `drift_row_counts`, one row per table of either file's main schema (table_name, n_before, n_now,
  relative_change): a mart that had rows and has none now blocks; a row count that moved more than 50%
  either way warns.
- `drift_shares`, one row per share cell found in both files (mart, share_column, abs_change): a share
  that moved more than the threshold warns, never blocks, since a corrected delivery may move it on
  purpose. The threshold is the setting SAMSKAB_DRIFT_THRESHOLD (0.10 by default), given to GX as the
  suite parameter `drift_threshold`. The marts compared are the concept marts the study mapping names
  (`study_concepts.mart`) and `survey_coverage`; cells are matched on their grain.

Outcomes hold counts and mart names, never a share or a cell: "3 of 1,234 shares moved more than 0.10:
motives (2), barriers (1)". The marts a failed check concerns are found by the same suite run on each
mart's rows alone, so GX alone decides which rows fail; that costs a fraction of a second per mart, and
only when a check failed. Nothing is compared before the first publish.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from samskab.common import stop_points
from samskab.common.reference import seed_column
from samskab.gate.suites import SuiteVerdict, validate_frame

ROW_COUNTS = "drift_row_counts"
SHARES = "drift_shares"
THRESHOLD_PARAMETER = "drift_threshold"
CONCEPT_MART_GRAIN = ("wave_id", "breakdown", "sector_area_code", "concept", "item_code", "answer_category")
CONCEPT_MART_SHARES = ("share", "weighted_share")
# Marts with one row per unit rather than shares (concrete collaborations) have no share to drift.
ROW_LEVEL_MARTS = frozenset({"collaborations"})
NEW_TABLE = "new table"
COLUMNS_CHANGED = "columns changed"


@dataclass(frozen=True)
class Comparison:
    """The two comparison frames of a candidate and the published file, and the compared marts whose
    shares could not be compared (new in this publish, or their grain or share columns changed)."""

    row_counts: pd.DataFrame
    shares: pd.DataFrame
    new_marts: tuple[str, ...] = ()
    changed_marts: tuple[str, ...] = ()


def compared_marts() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each mart whose shares are compared: its grain and its share columns."""
    marts = {
        mart: (CONCEPT_MART_GRAIN, CONCEPT_MART_SHARES)
        for mart in dict.fromkeys(seed_column("study_concepts", "mart"))
        if mart not in ROW_LEVEL_MARTS
    }
    marts["survey_coverage"] = (("wave_id", "breakdown", "group_code"), ("rr1", "rr2"))
    return marts


def drift_verdicts(candidate: Path, published: Path, threshold: float) -> list[SuiteVerdict]:
    """The verdicts of the drift suites on the candidate against the published file: row counts, then
    shares. None when nothing is published yet (the first publish): there is nothing to compare."""
    if not published.is_file():
        return []
    comparison = comparison_frames(candidate, published)
    stop_points.reached("mart checks")
    parameters = {THRESHOLD_PARAMETER: threshold}
    row_counts = comparison.row_counts
    new_tables = tuple(row_counts.loc[row_counts["n_before"].isna(), "table_name"])
    return [
        _judged(ROW_COUNTS, row_counts, "table_name", parameters, {NEW_TABLE: new_tables}),
        _judged(
            SHARES,
            comparison.shares,
            "mart",
            parameters,
            {NEW_TABLE: comparison.new_marts, COLUMNS_CHANGED: comparison.changed_marts},
        ),
    ]


def comparison_frames(candidate: Path, published: Path) -> Comparison:
    """Row counts of every table of either file, and every share cell of the compared marts found in
    both, from one read-only connection to the candidate with the published file attached read-only."""
    connection = duckdb.connect(str(candidate), read_only=True)
    try:
        connection.execute(f"attach {_literal(str(published))} as previous (read_only)")
        current = connection.execute("select current_database()").fetchall()[0][0]
        now, before = _columns(connection, current), _columns(connection, "previous")
        row_counts = connection.execute(_row_counts_sql(current, now, before)).df()
        shares_sql, new_marts, changed_marts = _shares_sql(current, now, before)
        shares = connection.execute(shares_sql).df()
    finally:
        connection.close()
    return Comparison(row_counts, shares, new_marts, changed_marts)


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, set[str]]:
    """The tables of `catalog`'s main schema and their columns."""
    rows = connection.execute(
        """
        select tables.table_name, columns.column_name
        from duckdb_tables() as tables
        inner join duckdb_columns() as columns
            using (database_name, schema_name, table_name)
        where tables.database_name = ? and tables.schema_name = 'main'
        """,
        [catalog],
    ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


def _row_counts_sql(current: str, now: Mapping[str, Any], before: Mapping[str, Any]) -> str:
    return f"""
with

now as (

    {_counts(f"{_identifier(current)}.main", now)}

),

before as (

    {_counts("previous.main", before)}

),

final as (

    select
        coalesce(now.table_name, before.table_name) as table_name,
        before.n_rows as n_before,
        now.n_rows as n_now,
        (coalesce(now.n_rows, 0) - before.n_rows) / cast(nullif(before.n_rows, 0) as double) as relative_change

    from now
    full outer join before on now.table_name = before.table_name

)

select * from final
order by table_name
"""


def _counts(schema: str, tables: Mapping[str, Any]) -> str:
    if not tables:
        return "select null::varchar as table_name, null::bigint as n_rows limit 0"
    return "\n\n    union all\n\n    ".join(
        f"select {_literal(table)} as table_name, count(*) as n_rows from {schema}.{_identifier(table)}"
        for table in sorted(tables)
    )


def _shares_sql(
    current: str, now: Mapping[str, set[str]], before: Mapping[str, set[str]]
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """One select per compared mart and share column found in both files; the marts left out, by why."""
    selects, new, changed = [], [], []
    for mart, (grain, shares) in compared_marts().items():
        if mart not in now:
            continue  # not in the candidate: the row counts say so
        if mart not in before:
            new.append(mart)
            continue
        common = [share for share in shares if share in now[mart] and share in before[mart]]
        if not common or not all(column in now[mart] and column in before[mart] for column in grain):
            changed.append(mart)
            continue
        matched = "\n        and ".join(
            f"now.{_identifier(column)} is not distinct from before.{_identifier(column)}" for column in grain
        )
        for share in common:
            column = _identifier(share)
            selects.append(
                f"""select
        {_literal(mart)} as mart,
        {_literal(share)} as share_column,
        cast(abs(now.{column} - before.{column}) as double) as abs_change

    from {_identifier(current)}.main.{_identifier(mart)} as now
    inner join previous.main.{_identifier(mart)} as before
        on {matched}
    where now.{column} is not null and before.{column} is not null"""
            )
    if not selects:
        selects = ["select null::varchar as mart, null::varchar as share_column, null::double as abs_change limit 0"]
    sql = "with\n\nfinal as (\n\n    " + "\n\n    union all\n\n    ".join(selects) + "\n\n)\n\nselect * from final\n"
    return sql, tuple(new), tuple(changed)


def _judged(
    suite: str,
    frame: pd.DataFrame,
    key: str,
    parameters: Mapping[str, Any],
    notes: Mapping[str, tuple[str, ...]],
) -> SuiteVerdict:
    """Validate `frame` against `suite` and say each outcome in the suite's own words, with counts and,
    for a failed check, the marts it concerns."""
    verdict = validate_frame(suite, frame, parameters)
    noted = "".join(f"; {label}: nothing to compare ({', '.join(marts)})" for label, marts in notes.items() if marts)
    outcomes = []
    for index, (outcome, result) in enumerate(zip(verdict.outcomes, _results(verdict), strict=True)):
        observed = _in_words(result, outcome.observed)
        if not outcome.success and observed != outcome.observed:
            observed += _concerned(suite, frame, key, parameters, index)
        outcomes.append(dataclasses.replace(outcome, observed=observed + noted))
    return dataclasses.replace(verdict, outcomes=tuple(outcomes))


def _in_words(result: Mapping[str, Any], fallback: str) -> str:
    """ "3 of 1,234 shares moved more than 0.10": GX's counts and the expectation's `counted` words, filled
    with the arguments GX applied (a parameter's value included). The gate's words when GX has no counts."""
    config = result.get("expectation_config") or {}
    counted = (config.get("meta") or {}).get("counted")
    counts = result.get("result") or {}
    raised = (result.get("exception_info") or {}).get("raised_exception")
    if not counted or raised or "element_count" not in counts or "unexpected_count" not in counts:
        return fallback
    checked = int(counts["element_count"]) - int(counts.get("missing_count") or 0)
    return f"{int(counts['unexpected_count']):,} of {checked:,} " + counted.format(**(config.get("kwargs") or {}))


def _concerned(suite: str, frame: pd.DataFrame, key: str, parameters: Mapping[str, Any], index: int) -> str:
    """ ": collaborations" or ": motives (2), barriers (1)": the marts whose own rows fail check `index`."""
    named = []
    for mart, rows in frame.groupby(key, sort=True):
        result = _results(validate_frame(suite, rows.reset_index(drop=True), parameters))[index]
        unexpected = int((result.get("result") or {}).get("unexpected_count") or 0)
        if unexpected:
            named.append(str(mart) if len(rows) == 1 else f"{mart} ({unexpected:,})")
    return ": " + ", ".join(named) if named else ""


def _results(verdict: SuiteVerdict) -> list[dict[str, Any]]:
    """GX's scrubbed result per expectation, in suite order (validate_frame always keeps them)."""
    return list((verdict.validation_result or {}).get("results") or [])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
