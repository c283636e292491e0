"""Retention of the landing zone's originals that carry direct identifiers (names, e-mails in clear).

A source that pseudonymises what it reads (its `personal_data` declares PSEUDONYMISED data) delivers
originals with names and e-mails in clear. With `originals_retention_days` set, an original whose version
was loaded that many days ago is taken out of the landing zone by the refresh: moved into
`retired_originals/` in the data lake (to be archived, or deleted, under the institute's rules), or
deleted (`originals_retention_action=delete`). Raw keeps its pseudonymised rows, the ledger its sha256,
and `raw.retired_originals` records it, so its rows are not withdrawn as a removed delivery's would be.
`samskab status` warns `originals_retention_warn_days` before.

A retired original cannot be read again: a raw layer that must be rebuilt (a new layout, another key)
refuses while any is retired (`OriginalsRetired`), naming where they are.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from samskab.common.failures import ReportedFailure
from samskab.common.settings import Settings
from samskab.ingest.sources.common import PSEUDONYMISED
from samskab.ingest.sources.registry import SOURCES

MOVE, DELETE = "move", "delete"
RETIRED_DDL = (
    "create table if not exists raw.retired_originals ("
    "file varchar, delivery varchar, sha256 varchar, loaded_at timestamp, retired_at timestamp, "
    "action varchar, run_id varchar)"
)


class OriginalsRetired(ReportedFailure):
    """The raw layer would have to be read again from originals that retention took away."""


@dataclass(frozen=True)
class Original:
    file: str  # relative to the landing zone
    delivery: str
    sha256: str
    loaded_at: datetime  # naive UTC, as the ledger keeps it
    due_at: datetime

    def describe(self) -> str:
        return f"{self.file} (loaded {self.loaded_at:%Y-%m-%d}, retention ends {self.due_at:%Y-%m-%d})"


def destination(settings: Settings) -> str:
    """Where retention takes an original, in words."""
    if settings.originals_retention_action == DELETE:
        return "deleted"
    return "moved into retired_originals/ in the data lake"


def identifying_sources() -> set[str]:
    """The sources whose originals carry direct identifiers: they declare pseudonymised data."""
    return {
        source.name
        for source in SOURCES
        if source.personal_data and any(item.treatment == PSEUDONYMISED for item in source.personal_data)
    }


def _has_table(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = ?", [name]
        ).fetchone()[0]
    )


def retired_files(connection: duckdb.DuckDBPyConnection) -> set[str]:
    if not _has_table(connection, "retired_originals"):
        return set()
    return {row[0] for row in connection.execute("select file from raw.retired_originals").fetchall()}


def originals(settings: Settings, connection: duckdb.DuckDBPyConnection) -> list[Original]:
    """Every original in the landing zone with direct identifiers whose version is loaded, with the day its
    retention ends (empty when no retention is set)."""
    if settings.originals_retention_days <= 0 or not _has_table(connection, "ingest_ledger"):
        return []
    sources = sorted(identifying_sources())
    if not sources:
        return []
    rows = connection.execute(
        "select file, delivery, sha256, loaded_at from raw.ingest_ledger where status = 'current' and source in "
        f"({', '.join('?' for _ in sources)}) order by loaded_at, file",
        sources,
    ).fetchall()
    retired = retired_files(connection)
    keep = timedelta(days=settings.originals_retention_days)
    return [
        Original(file, delivery, sha, loaded_at, loaded_at + keep)
        for file, delivery, sha, loaded_at in rows
        if file not in retired and (settings.landing_dir / file).is_file()
    ]


def due_soon(settings: Settings, connection: duckdb.DuckDBPyConnection, now: datetime) -> list[Original]:
    """Originals whose retention ends within `originals_retention_warn_days` of `now` (aware)."""
    horizon = now.astimezone(UTC).replace(tzinfo=None) + timedelta(days=settings.originals_retention_warn_days)
    return [original for original in originals(settings, connection) if original.due_at <= horizon]


def retire(settings: Settings, connection: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> list[Original]:
    """Take every original past its retention out of the landing zone (moved or deleted, as set) and
    record it; its raw rows stay. Returns those retired."""
    moment = now.astimezone(UTC).replace(tzinfo=None)
    due = [original for original in originals(settings, connection) if original.due_at <= moment]
    if not due:
        return []
    connection.execute(RETIRED_DDL)
    done = []
    for original in due:
        source = settings.landing_dir / original.file
        if settings.originals_retention_action == DELETE:
            source.unlink()
        else:
            target = settings.retired_originals_dir / original.file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
            os.chmod(target, 0o600)
        connection.execute(
            "insert into raw.retired_originals values (?, ?, ?, ?, ?, ?, ?)",
            [
                original.file,
                original.delivery,
                original.sha256,
                original.loaded_at,
                moment,
                settings.originals_retention_action,
                run_id,
            ],
        )
        done.append(original)
    return done


def refuse_rebuild_with_retired(connection: duckdb.DuckDBPyConnection, why: str) -> None:
    """Raise OriginalsRetired when the raw layer must be read again (`why`) but originals were retired."""
    if not _has_table(connection, "retired_originals"):
        return
    rows = connection.execute("select file, action from raw.retired_originals order by file").fetchall()
    if rows:
        moved = [file for file, action in rows if action == MOVE]
        where = (
            f" {len(moved)} of them were moved into retired_originals/ in the data lake: put them back in the "
            "landing zone (same paths) and run again."
            if moved
            else ""
        )
        raise OriginalsRetired(
            f"The raw layer must be read again from the landing zone ({why}), but {len(rows)} original(s) were "
            f"taken out of it by retention, so their rows would be lost; nothing was changed.{where} "
            "Or run the previous version of the platform (or the previous key) until they are back."
        )
