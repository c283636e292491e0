"""Drift: how far the candidate file's shares moved from those of the file analysts read now.

A share that moves more than the threshold (`SAMSKAB_DRIFT_THRESHOLD`, 0.10 by default) between two
publishes is a warning, never a block: a corrected delivery may move it on purpose, but a researcher
should look before the morning's analyses use it. The marts compared are the concept marts the study
mapping names (`study_concepts.mart`) and `survey_coverage`; rows are matched on their grain. Outcomes
hold counts only, never a share.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.quality.gate import WARNING, CheckOutcome, SuiteVerdict
from flows.reference import seed_column

SUITE = "drift"
CONCEPT_MART_GRAIN = ("wave_id", "breakdown", "sector_area_code", "concept", "item_code", "answer_category")
CONCEPT_MART_SHARES = ("share", "weighted_share")
# Marts with one row per unit rather than shares (concrete collaborations) have nothing to drift.
ROW_LEVEL_MARTS = frozenset({"collaborations"})


def compared_marts() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each mart whose shares are compared: its grain and its share columns."""
    marts = {
        mart: (CONCEPT_MART_GRAIN, CONCEPT_MART_SHARES)
        for mart in dict.fromkeys(seed_column("study_concepts", "mart"))
        if mart not in ROW_LEVEL_MARTS
    }
    marts["survey_coverage"] = (("wave_id", "breakdown", "group_code"), ("rr1", "rr2"))
    return marts


def _tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = connection.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = 'main'", [catalog]
    ).fetchall()
    return {row[0] for row in rows}


def drift_verdicts(candidate: Path, published: Path, threshold: float) -> list[SuiteVerdict]:
    """One verdict per compared mart; none when nothing is published yet (the first publish)."""
    if not published.is_file():
        return []
    connection = duckdb.connect(str(candidate), read_only=True)
    try:
        quoted = str(published).replace("'", "''")
        connection.execute(f"attach '{quoted}' as previous (read_only)")
        current_catalog = connection.execute("select current_database()").fetchall()[0][0]
        current, previous = _tables(connection, current_catalog), _tables(connection, "previous")
        verdicts = []
        for mart, (grain, shares) in compared_marts().items():
            if mart not in current:
                continue
            n_rows = connection.execute(f"select count(*) from main.{mart}").fetchall()[0][0]
            outcomes = tuple(
                _share_drift(connection, mart, grain, share, threshold, mart in previous) for share in shares
            )
            verdicts.append(SuiteVerdict(SUITE, f"main.{mart}", n_rows, outcomes))
        return verdicts
    finally:
        connection.close()


def _share_drift(
    connection: duckdb.DuckDBPyConnection,
    mart: str,
    grain: tuple[str, ...],
    share: str,
    threshold: float,
    was_published: bool,
) -> CheckOutcome:
    description = f"No {share} of {mart} moved more than {threshold:.2f} since the file analysts read now."
    if not was_published:
        return CheckOutcome(SUITE, "share_drift", share, WARNING, True, description, "new table: nothing to compare")
    joined = " and ".join(f"now.{column} is not distinct from before.{column}" for column in grain)
    n_compared, n_moved = connection.execute(
        f"select count(*), count(*) filter (where abs(now.{share} - before.{share}) > ?) "
        f"from main.{mart} as now inner join previous.main.{mart} as before on {joined} "
        f"where now.{share} is not null and before.{share} is not null",
        [threshold],
    ).fetchall()[0]
    observed = f"{n_moved} of {n_compared} shares moved more than {threshold:.2f}"
    if n_moved:
        observed += "; compare the two files (analytics.previous.duckdb keeps today's after the swap)"
    return CheckOutcome(SUITE, "share_drift", share, WARNING, n_moved == 0, description, observed)
