"""An analyst reading the published file while the platform publishes: one reader process of the tests
in tests/torture/test_readers.py, looping one query until told to stop.

python -m tests.torture.readers KIND LAKE LOG STOP

KIND is how it reads: `held` (one read-only connection opened once and kept), `fresh` (a new read-only
connection for every query) or `sql` (a `samskab sql --csv` process for every query); or the shared
history's newest snapshot, through its catalog attached once (`history-held`) or for every query
(`history-fresh`). Each query asks, in
one statement, which run the file names and whether every table holds the rows its `meta.row_counts`
records: a file that is one whole snapshot answers one run and all tables agreeing. One line per query is
appended to LOG: `ok RUN` or `FAILED RUN-OR-? WHY`. The loop ends when the file STOP exists.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

HELD, FRESH, SQL = "held", "fresh", "sql"
KINDS = (HELD, FRESH, SQL)
# Readers of the shared history (samskab/publish/history.py, its catalog from SAMSKAB_DUCKLAKE_*): the
# catalog attached once and its newest snapshot read by every query, or attached anew for every query.
HISTORY_HELD, HISTORY_FRESH = "history-held", "history-fresh"
HISTORY_KINDS = (HISTORY_HELD, HISTORY_FRESH)


def whole_snapshot_query(tables: list[str]) -> str:
    """One statement: the runs the file names, its one run, how many tables meta.row_counts records and
    how many of them hold exactly that many rows."""
    held = " union all ".join(
        f"select '{table}' as table_name, (select count(*) from main.\"{table}\") as n" for table in tables
    )
    return (
        f"with held as ({held}) select (select count(*) from meta.runs) as n_runs, "
        "(select max(run_id) from meta.runs) as run_id, (select count(*) from meta.row_counts) as n_recorded, "
        "(select count(*) from meta.row_counts r join held h using (table_name) where r.n_rows = h.n) as n_agreeing"
    )


def verdict(row: tuple, n_tables: int) -> str:
    """`ok RUN` for a whole snapshot, `FAILED RUN why` otherwise."""
    n_runs, run_id, n_recorded, n_agreeing = (int(row[0]), str(row[1]), int(row[2]), int(row[3]))
    if n_runs != 1:
        return f"FAILED {run_id} the file names {n_runs} runs"
    if n_recorded != n_tables or n_agreeing != n_tables:
        return f"FAILED {run_id} {n_agreeing} of {n_recorded} tables hold the rows meta.row_counts records"
    return f"ok {run_id}"


def _one_sql_process(lake: Path, query: str, n_tables: int) -> str:
    """One `samskab sql --csv` process: its result, and the run its footer names (the same run, or the
    answer mixed two files)."""
    done = subprocess.run(
        [sys.executable, "-m", "samskab.cli", "sql", "--csv", query],
        env={**os.environ, "SAMSKAB_DATA_LAKE": str(lake)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return f"FAILED ? exit {done.returncode}: {done.stderr.strip()[-300:]}"
    rows = list(csv.reader(io.StringIO(done.stdout)))
    said = verdict(tuple(rows[1]), n_tables)
    run_id = said.split()[1]
    if f"run {run_id}," not in done.stderr:
        return f"FAILED {run_id} the answer came from run {run_id}, its footer says: {done.stderr.strip()}"
    return said


def _history(lake: Path):
    from samskab.common.settings import Settings
    from samskab.publish import history

    return history.connect(Settings.from_environment(data_lake=lake))


def main(argv: list[str]) -> int:
    kind, lake, log, stop = argv[1], Path(argv[2]), Path(argv[3]), Path(argv[4])
    published = lake / "published" / "analytics.duckdb"
    with duckdb.connect(str(published), read_only=True) as first:
        tables = [row[0] for row in first.execute("select table_name from meta.row_counts order by 1").fetchall()]
    query = whole_snapshot_query(tables)
    held = duckdb.connect(str(published), read_only=True) if kind == HELD else None
    held = _history(lake) if kind == HISTORY_HELD else held
    with log.open("a", encoding="utf-8") as out:
        while not stop.exists():
            try:
                if kind == SQL:
                    said = _one_sql_process(lake, query, len(tables))
                elif held is not None:
                    said = verdict(held.execute(query).fetchone(), len(tables))
                elif kind == HISTORY_FRESH:
                    with _history(lake) as connection:
                        said = verdict(connection.execute(query).fetchone(), len(tables))
                else:
                    with duckdb.connect(str(published), read_only=True) as connection:
                        said = verdict(connection.execute(query).fetchone(), len(tables))
            except Exception as error:  # every failure is a line of the log, counted by the test
                said = f"FAILED ? {type(error).__name__}: {error}"
            out.write(said.replace("\n", " ") + "\n")
            out.flush()
            if kind in (HELD, HISTORY_HELD):
                time.sleep(0.001)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
