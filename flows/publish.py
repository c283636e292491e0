"""Publish: build the analysts' DuckDB file beside the old one, record lineage, swap it in atomically.

Analysts keep reading the published file while this runs: it is never opened for writing. A new file is
built from the marts, checked, then renamed over the old one (a reader open during the rename keeps its
snapshot). The previous file is kept beside it for `samskab rollback`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from flows.settings import Settings

# Files readable by DuckDB 1.2 and newer, whatever DuckDB version builds them.
STORAGE_VERSION = "v1.2.0"
MART_SCHEMA = "marts"


@dataclass(frozen=True)
class Candidate:
    """A fully written analysts' file that is not yet published."""

    path: Path
    row_counts: dict[str, int]


def candidate_path(settings: Settings, run_id: str) -> Path:
    return settings.published_dir / f".candidate-{run_id}.duckdb"


def build_candidate(settings: Settings, run_id: str) -> Candidate:
    """Copy every mart table of the warehouse into a new file in the published folder."""
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    path = candidate_path(settings, run_id)
    path.unlink(missing_ok=True)
    connection = duckdb.connect()
    try:
        connection.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        connection.execute(f"attach '{path}' as candidate (storage_version '{STORAGE_VERSION}')")
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where database_name = 'warehouse' and schema_name = ? "
                "order by table_name",
                [MART_SCHEMA],
            ).fetchall()
        ]
        if not tables:
            raise RuntimeError(f"The warehouse has no tables in schema '{MART_SCHEMA}': dbt built no marts.")
        row_counts = {}
        for table in tables:
            connection.execute(
                f'create table candidate.main."{table}" as select * from warehouse.{MART_SCHEMA}."{table}"'
            )
            row_counts[table] = connection.execute(f'select count(*) from candidate.main."{table}"').fetchall()[0][0]
        connection.execute("checkpoint candidate")
    finally:
        connection.close()
    return Candidate(path=path, row_counts=row_counts)


def write_meta(path: Path, meta_tables: dict[str, pd.DataFrame]) -> None:
    """Write the lineage tables into the candidate's `meta` schema and checkpoint it."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute("create schema if not exists meta")
        for name, frame in meta_tables.items():
            connection.register("incoming", frame)
            connection.execute(f"create or replace table meta.{name} as select * from incoming")
            connection.unregister("incoming")
        connection.execute("checkpoint")
    finally:
        connection.close()


def swap_in(settings: Settings, candidate: Candidate) -> Path:
    """Make the candidate the published file in one rename; keep the old one as the previous snapshot."""
    published, previous = settings.published_path, settings.previous_path
    if published.exists():
        keep = previous.with_name(previous.name + ".tmp")
        keep.unlink(missing_ok=True)
        os.link(published, keep)  # the same bytes under a second name, for rollback
        os.replace(keep, previous)
    os.replace(candidate.path, published)
    _fsync_directory(settings.published_dir)
    return published


def discard(candidate_file: Path) -> None:
    """Remove a candidate that did not pass the gate (and its write-ahead log, if any)."""
    for path in (candidate_file, candidate_file.with_name(candidate_file.name + ".wal")):
        path.unlink(missing_ok=True)


def rollback(settings: Settings) -> Path:
    """Put the previous snapshot back as the published file; the replaced one becomes the previous."""
    published, previous = settings.published_path, settings.previous_path
    if not previous.exists():
        raise FileNotFoundError(f"There is no previous snapshot at {previous} to roll back to.")
    swap = published.with_name(".rollback.duckdb")
    replaced = previous.with_name(previous.name + ".tmp")
    for path in (swap, replaced):
        path.unlink(missing_ok=True)
    os.link(previous, swap)
    had_published = published.exists()
    if had_published:
        os.link(published, replaced)
    os.replace(swap, published)  # the published name always points at a whole file
    if had_published:
        os.replace(replaced, previous)
    _fsync_directory(settings.published_dir)
    return published


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
