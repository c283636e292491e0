"""The table gates of a run: the raw layer before dbt, and the marts of a candidate file before publish.

Each reads the tables its suites guard into DataFrames and hands them to the suites in `gate`. The
marts' truths are dbt tests today, so the "marts" stage has no suite and passes with no verdict; a suite
committed with stage "marts" would run here. Drift suites compare two files and run in `drift`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from samskab.common import stop_points
from samskab.common.duckdb_files import read_only_chunks, read_only_frames
from samskab.common.progress import Progress
from samskab.gate.suites import (
    SuiteVerdict,
    chunkable,
    suite_columns,
    suite_names,
    suite_table,
    validate_chunks,
    validate_frame,
)

# A table of more rows than this is validated a chunk of this many rows at a time (of DuckDB's vectors of
# 2,048 rows), so the gate's memory does not grow with the data: about 100 MB for the widest raw suite.
CHUNK_ROWS = 1_000_000
VECTOR_ROWS = 2048


def validate_stage(stage: str, database: Path, progress_log: Callable[[str], None] | None = None) -> list[SuiteVerdict]:
    """Run every suite of `stage` ("raw" or "marts") over its table in `database`; [] when the stage has
    no suite (the file is not opened then). Progress per suite: samskab/common/progress.py."""
    if stage == "drift":
        raise ValueError("Drift suites compare a candidate with the published file: run drift.drift_verdicts")
    names = suite_names(stage)
    if not names:
        return []
    catalog = "select schema_name || '.' || table_name as table_name, column_name from duckdb_columns()"
    existing = read_only_frames(database, {"columns": catalog})["columns"]
    columns_of = existing.groupby("table_name")["column_name"].apply(list).to_dict()
    queries = {}
    for name in names:
        table = suite_table(name)
        present = columns_of.get(table, [])
        # Only the columns the suite reads: a raw table of millions of answers is not copied whole.
        wanted = [column for column in present if column in suite_columns(name)] or present[:1]
        selected = ", ".join('"' + column + '"' for column in wanted) or "*"
        queries[name] = f"select {selected} from {table}"
    counts = read_only_frames(database, {name: f"select count(*) as n from {suite_table(name)}" for name in names})
    chunked = {name for name in names if int(counts[name]["n"].iloc[0]) > CHUNK_ROWS and chunkable(name)}
    frames = read_only_frames(database, {name: query for name, query in queries.items() if name not in chunked})
    verdicts = []
    with Progress(f"Great Expectations, {stage} suites", len(names), "suites", log=progress_log) as progress:
        for name in names:
            if name in chunked:  # millions of rows: read and validated a chunk at a time
                n_rows = int(counts[name]["n"].iloc[0])
                chunks = read_only_chunks(database, queries[name], max(CHUNK_ROWS // VECTOR_ROWS, 1))
                verdicts.append(validate_chunks(name, chunks, n_rows))
            else:
                verdicts.append(validate_frame(name, frames[name]))
            progress.advance(note=name)
            if len(verdicts) == 1 and stage == "raw":
                stop_points.reached("raw checks")
    return verdicts


# meta.quality_checks: one row per check of either tool, with one severity field ("blocking" or "warning").
QUALITY_COLUMNS = (
    "stage",
    "suite",
    "table_name",
    "n_rows",
    "check_name",
    "column_name",
    "severity",
    "success",
    "observed",
    "description",
)


def checks_frame(stage: str, verdicts: list[SuiteVerdict]) -> pd.DataFrame:
    """One row per check, for the published file's meta.quality_checks (counts only, no values)."""
    rows = [
        {
            "stage": stage,
            "suite": verdict.suite,
            "table_name": verdict.table,
            "n_rows": verdict.n_rows,
            "check_name": outcome.check,
            "column_name": outcome.column,
            "severity": outcome.severity,
            "success": outcome.success,
            "observed": outcome.observed,
            "description": outcome.description,
        }
        for verdict in verdicts
        for outcome in verdict.outcomes
    ]
    return pd.DataFrame(rows, columns=list(QUALITY_COLUMNS))


def describe_deliveries(database: Path, verdicts: list[SuiteVerdict]) -> str:
    """Name the landing files behind each raw table that failed a blocking check, so a researcher knows
    which delivery to correct."""
    failed = sorted({verdict.table for verdict in verdicts if not verdict.passed})
    files = read_only_frames(
        database, {table: f"select distinct source_file from {table} order by 1" for table in failed}
    )
    lines = [
        f"{table} holds rows from: {', '.join(files[table]['source_file'])}"
        if len(files[table])
        else f"{table} holds no rows: no delivery of it was loaded (see the refused and withdrawn files above)"
        for table in failed
    ]
    return "\n".join(lines)
