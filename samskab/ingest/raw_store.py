"""The raw layer of the warehouse: the tables the sources declare, the ingest ledger and the rejects table.

Every landing file is recorded in `raw.ingest_ledger` with its sha256. A delivery whose files are all
current in the ledger with the same bytes is a no-op; a changed delivery replaces the rows that came
from its files; a refused delivery leaves the rows of its last good version; a withdrawn delivery (gone
from the landing zone) loses its rows. So the raw layer always follows the landing zone, and each raw
row names the file and line it came from.

The layout of the raw tables is part of the code. When a new version of the platform declares other
columns, the raw layer is dropped and every delivery is read again from the landing zone, which holds
them all, unchanged. So is it when the pseudonym key changes (`raw.pseudonym_key` records which key made
the layer's pseudonyms, by its fingerprint): every pseudonym in the raw layer, and so in every file built
from it, is made with one key.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from samskab.common import stop_points
from samskab.ingest.erasure import refuse_key_change_with_erasures, remove_suppressed
from samskab.ingest.landing import LOADED, REFUSED, UNCHANGED, relative_to_landing
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.retention import refuse_rebuild_with_retired
from samskab.ingest.sources.common import Reject, SourceBatch
from samskab.ingest.sources.registry import raw_tables

CURRENT, SUPERSEDED, WITHDRAWN = "current", "superseded", "withdrawn"
RULES_CHANGED = "rules changed"
# Why the raw layer was dropped and is read again whole (ensure_raw_schema)
LAYOUT_CHANGED, KEY_CHANGED = "layout changed", "key changed"

LEDGER_DDL = """
create table if not exists raw.ingest_ledger (
    run_id varchar, source varchar, delivery varchar, file varchar, sha256 varchar, n_bytes bigint,
    n_rows bigint, n_rejected bigint, loaded_at timestamp,
    status varchar, status_changed_in_run varchar, status_changed_at timestamp, reading_rules varchar
)"""
REJECTS_DDL = """
create table if not exists raw.rejected_rows (
    run_id varchar, source varchar, delivery varchar, file varchar, sheet varchar, line integer,
    column_name varchar, reason varchar, rejected_at timestamp
)"""
NOTES_DDL = """
create table if not exists raw.delivery_notes (
    run_id varchar, source varchar, delivery varchar, note varchar, noted_at timestamp
)"""
LAYOUT_DDL = "create table if not exists raw.layout (fingerprint varchar, created_at timestamp)"
# The fingerprint of the key the raw layer's pseudonyms are made with (samskab/ingest/pseudonyms.py), never the key.
KEY_DDL = "create table if not exists raw.pseudonym_key (key_fingerprint varchar, recorded_at timestamp)"
# When each delivery (by its name in the landing zone) was first loaded: kept when the raw layer is
# rebuilt, so "delivered earlier" still means what it meant (samskab/ingest/sources/survey/waves.py).
ARRIVALS_DDL = (
    "create table if not exists raw.delivery_arrivals (delivery varchar, first_delivered_at timestamp, "
    "first_run_id varchar)"
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def layout_fingerprint() -> str:
    """A digest of every raw table's declared columns, the ledger and the rejects table."""
    text = "\n".join([*(table.ddl() for table in raw_tables()), LEDGER_DDL, REJECTS_DDL, NOTES_DDL])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class LoadSummary:
    """What one delivery did to the raw layer, in the words of a log line."""

    source: str
    delivery: str
    state: str  # loaded, unchanged or refused
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    n_rejected: int = 0
    rejects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""  # why a refused delivery was refused

    @property
    def skipped(self) -> bool:
        return self.state == UNCHANGED

    def describe(self) -> str:
        if self.state == UNCHANGED:
            return f"{self.delivery}: unchanged since it was loaded (same sha256), nothing to do"
        if self.state == REFUSED:
            return (
                f"REFUSED {self.reason}. Nothing of {self.delivery} was loaded; "
                "the rows of its last good version, if any, are kept."
            )
        loaded = ", ".join(f"{n:,} rows into raw.{table}" for table, n in self.rows.items() if n)
        text = f"{self.delivery}: " + (f"loaded {loaded}" if loaded else "nothing loaded")
        if self.n_rejected:
            text += f"; rejected {self.n_rejected} rows or cells (see meta.rejected_rows), first: {self.rejects[0]}"
        else:
            text += "; no rows rejected"
        return text


@dataclass(frozen=True)
class Withdrawal:
    """A file whose delivery left the landing zone, and the raw rows that left with it."""

    source: str
    delivery: str
    file: str
    n_rows: int

    def describe(self) -> str:
        return (
            f"{self.file}: withdrawn (no longer in the landing zone); {self.n_rows:,} rows removed from the raw layer"
        )


@dataclass(frozen=True)
class Rejection:
    """A delivery in the raw layer with more of its rows or cells rejected than may pass quietly."""

    source: str
    delivery: str
    n_loaded: int
    n_rejected: int
    column: str | None  # of the most common reason
    reason: str
    n_reason: int

    @property
    def share(self) -> float:
        return self.n_rejected / (self.n_loaded + self.n_rejected)

    def describe(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return (
            f"{self.delivery}: {self.n_rejected:,} of {self.n_loaded + self.n_rejected:,} rows or cells were rejected "
            f"({self.share:.0%}); the most common reason ({self.n_reason:,} times): {where}{self.reason}. "
            + ("The rest was loaded" if self.n_loaded else "Nothing of it was loaded")
            + "; every rejected row is listed in meta.rejected_rows"
        )


def heavy_rejections(connection: duckdb.DuckDBPyConnection, limit: float) -> list[Rejection]:
    """Deliveries in the raw layer (loaded this run or before) whose rejected rows and cells are more than
    `limit` of what they loaded, each with its most common reason (a column and a rule, never a value)."""
    rows = connection.execute(
        f"""
        with loaded as (
            select source, delivery, sum(n_rows) as n_loaded
            from raw.ingest_ledger where status = '{CURRENT}' group by all
        ),
        reasons as (
            select delivery, column_name, reason, count(*) as n_reason
            from raw.rejected_rows group by all
        ),
        rejected as (
            select
                delivery,
                sum(n_reason) as n_rejected,
                -- one reason, the most common; ties go to the first in column and reason order
                arg_max(struct_pack(column_name, reason), n_reason order by column_name, reason) as top,
                max(n_reason) as n_reason
            from reasons group by all
        )
        select loaded.source, loaded.delivery, loaded.n_loaded, rejected.n_rejected, rejected.top.column_name,
            rejected.top.reason, rejected.n_reason
        from loaded inner join rejected on loaded.delivery = rejected.delivery
        where rejected.n_rejected > ? * (loaded.n_loaded + rejected.n_rejected)
        order by loaded.delivery
        """,
        [limit],
    ).fetchall()
    return [Rejection(*(row[:2]), int(row[2]), int(row[3]), row[4], row[5], int(row[6])) for row in rows]


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection, key_fingerprint: str | None = None) -> str | None:
    """Create the raw layer as the sources declare it, for pseudonyms made with the key of `key_fingerprint`
    (None: not checked). Returns why an existing raw layer was dropped, so that every delivery is read
    again (LAYOUT_CHANGED: an older layout; KEY_CHANGED: made with another key, or with a key it did not
    record), or None when it was kept."""
    connection.execute("create schema if not exists raw")
    if key_fingerprint is not None:  # people erased under another key would come back under this one
        refuse_key_change_with_erasures(connection, key_fingerprint)
    fingerprint = layout_fingerprint()
    tables = {
        row[0]
        for row in connection.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    known = connection.execute("select fingerprint from raw.layout").fetchall() if "layout" in tables else []
    why = None
    if tables and [row[0] for row in known] != [fingerprint]:
        why = LAYOUT_CHANGED
    elif key_fingerprint is not None and _holds_deliveries(connection, tables):
        recorded = (
            connection.execute("select key_fingerprint from raw.pseudonym_key").fetchall()
            if "pseudonym_key" in tables
            else []
        )
        if [row[0] for row in recorded] != [key_fingerprint]:
            why = KEY_CHANGED
    if why is not None:  # originals that retention took away could not be read again
        refuse_rebuild_with_retired(connection, why)
        arrivals = _arrivals(connection)
        connection.execute("drop schema raw cascade")
        connection.execute("create schema raw")
        connection.execute(ARRIVALS_DDL)
        _insert_arrivals(connection, arrivals)
    connection.execute(ARRIVALS_DDL)
    if why is None and not connection.execute("select count(*) from raw.delivery_arrivals").fetchall()[0][0]:
        _insert_arrivals(connection, _arrivals(connection))
    for table in raw_tables():
        connection.execute(table.ddl())
    connection.execute(LEDGER_DDL)
    connection.execute(REJECTS_DDL)
    connection.execute(NOTES_DDL)
    connection.execute(LAYOUT_DDL)
    connection.execute(KEY_DDL)
    if why is not None or not known:
        connection.execute("delete from raw.layout")
        connection.execute("insert into raw.layout values (?, ?)", [fingerprint, _now()])
    if key_fingerprint is not None:
        recorded = connection.execute("select key_fingerprint from raw.pseudonym_key").fetchall()
        if [row[0] for row in recorded] != [key_fingerprint]:
            connection.execute("delete from raw.pseudonym_key")
            connection.execute("insert into raw.pseudonym_key values (?, ?)", [key_fingerprint, _now()])
    return why


def _holds_deliveries(connection: duckdb.DuckDBPyConnection, tables: set[str]) -> bool:
    """Whether the raw layer holds rows of any delivery (its ledger names a current file)."""
    if "ingest_ledger" not in tables:
        return False
    return bool(
        connection.execute(f"select count(*) from raw.ingest_ledger where status = '{CURRENT}'").fetchall()[0][0]
    )


def _insert_arrivals(connection: duckdb.DuckDBPyConnection, arrivals: list[tuple]) -> None:
    if arrivals:
        connection.executemany("insert into raw.delivery_arrivals values (?, ?, ?)", arrivals)


def _arrivals(connection: duckdb.DuckDBPyConnection) -> list[tuple]:
    """When each delivery was first loaded: from the arrivals table, or, in a raw layer older than that
    table, from the ingest ledger's earliest load of it."""
    tables = {
        row[0]
        for row in connection.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    if "delivery_arrivals" in tables:
        rows = connection.execute(
            "select delivery, first_delivered_at, first_run_id from raw.delivery_arrivals"
        ).fetchall()
        if rows:
            return rows
    if "ingest_ledger" in tables:
        return connection.execute(
            "select delivery, min(loaded_at), arg_min(run_id, loaded_at) from raw.ingest_ledger "
            "where status <> 'withdrawn' group by delivery"
        ).fetchall()
    return []


def delivery_state(connection: duckdb.DuckDBPyConnection, hashes: dict[str, str], reading_rules: str) -> str:
    """CURRENT when the delivery is loaded as it is; RULES_CHANGED when these very bytes were loaded under
    other reading rules (a seed its reader reads was edited since); else "new or changed"."""
    current = connection.execute(
        f"select file, sha256, reading_rules from raw.ingest_ledger where status = '{CURRENT}' and file in "
        f"({', '.join('?' for _ in hashes)})",
        list(hashes),
    ).fetchall()
    if not hashes or {file: sha256 for file, sha256, _ in current} != hashes:
        return "new or changed"
    return CURRENT if all(rules == reading_rules for _, _, rules in current) else RULES_CHANGED


def _insert_rejects(
    connection: duckdb.DuckDBPyConnection, run_id: str, delivery: str, rejects: list[Reject], landing_dir: Path
) -> list[Reject]:
    """Record rejects in one statement (an export of 10,000 rejected rows is one insert, not 10,000);
    returns them with their files named relative to the landing zone."""
    relative = functools.cache(lambda file: relative_to_landing(file, landing_dir))
    named = [replace(reject, file=relative(reject.file)) for reject in rejects]
    if named:
        incoming = pd.DataFrame(
            {
                "source": [r.source for r in named],
                "file": [r.file for r in named],
                "sheet": pd.Series([r.sheet for r in named], dtype="object"),
                "line": pd.Series([r.row for r in named], dtype="Int64"),
                "column_name": pd.Series([r.column for r in named], dtype="object"),
                "reason": [r.reason for r in named],
            }
        )
        connection.register("incoming_rejects", incoming)
        connection.execute(
            "insert into raw.rejected_rows select ?, source, ?, file, sheet::varchar, line::integer, "
            "column_name::varchar, reason, ? from incoming_rejects",
            [run_id, delivery, _now()],
        )
        connection.unregister("incoming_rejects")
    return named


def record_refusal(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    delivery: str,
    files: list[str],
    reject: Reject,
    landing_dir: Path,
) -> str:
    """Record a delivery refused whole. Its earlier rejects give way to this one; the ledger and the raw
    rows of its last good version stay, so lineage still names the files those rows came from."""
    connection.execute(
        f"delete from raw.rejected_rows where delivery = ? or file in ({', '.join('?' for _ in files)})",
        [delivery, *files],
    )
    return str(_insert_rejects(connection, run_id, delivery, [reject], landing_dir)[0])


def load_batch(
    connection: duckdb.DuckDBPyConnection,
    batch: SourceBatch,
    run_id: str,
    landing_dir: Path,
    delivery: str,
    hashes: dict[str, str],
    reading_rules: str,
    pseudonymise: Pseudonymiser | None = None,
) -> LoadSummary:
    """Replace the raw rows of this delivery's files with the batch, less the rows of people erased on
    request under the key of `pseudonymise` (any key when None), and record rejects and the ledger."""
    files = list(hashes)
    now = _now()
    summary = LoadSummary(source=batch.source, delivery=delivery, state=LOADED, files=files, notes=list(batch.notes))
    placeholders = ", ".join("?" for _ in files)
    n_rows_by_file = dict.fromkeys(files, 0)
    connection.execute("begin transaction")
    try:
        for table, frame in batch.tables.items():
            connection.register("incoming", frame)
            connection.execute(f"delete from raw.{table} where source_file in ({placeholders})", files)
            # Readers name files by their path on this machine; the raw layer names them relative to the landing zone.
            per_file = connection.execute("select source_file, count(*) from incoming group by all").fetchall()
            for absolute, _ in per_file:
                relative = relative_to_landing(absolute, landing_dir)
                connection.execute(
                    f"insert into raw.{table} by name "
                    "select * replace (?::varchar as source_file) from incoming where source_file = ?",
                    [relative, absolute],
                )
            for absolute, n in per_file:
                relative = relative_to_landing(absolute, landing_dir)
                n_rows_by_file[relative] = n_rows_by_file.get(relative, 0) + n
            connection.unregister("incoming")
            summary.rows[table] = sum(n for _, n in per_file)
        # People erased on request (samskab/ingest/erasure.py) never come back with a delivery.
        key_fingerprint = pseudonymise.key_fingerprint if pseudonymise is not None else None
        withheld = remove_suppressed(connection, key_fingerprint, pseudonymise)
        if withheld:
            summary.notes.append(
                f"{sum(withheld.values()):,} rows of people erased on request were withheld "
                "(the suppression list, `samskab erase --list`)"
            )
            for table, n in withheld.items():
                if table in summary.rows:
                    summary.rows[table] -= n
        connection.execute(
            f"delete from raw.rejected_rows where delivery = ? or file in ({placeholders})", [delivery, *files]
        )
        rejects = _insert_rejects(connection, run_id, delivery, batch.rejects, landing_dir)
        summary.rejects = [str(reject) for reject in rejects]
        n_rejected_by_file = collections.Counter(reject.file for reject in rejects)
        summary.n_rejected = len(batch.rejects)
        connection.execute(
            "insert into raw.delivery_arrivals select ?, ?, ? "
            "where not exists (select 1 from raw.delivery_arrivals where delivery = ?)",
            [delivery, now, run_id, delivery],
        )
        connection.execute("delete from raw.delivery_notes where delivery = ?", [delivery])
        for note in batch.notes:
            connection.execute(
                "insert into raw.delivery_notes values (?, ?, ?, ?, ?)", [run_id, batch.source, delivery, note, now]
            )
        connection.execute(
            f"update raw.ingest_ledger set status = '{SUPERSEDED}', status_changed_in_run = ?, status_changed_at = ? "
            f"where status = '{CURRENT}' and file in ({placeholders})",
            [run_id, now, *files],
        )
        for path in batch.files:
            relative = relative_to_landing(path, landing_dir)
            connection.execute(
                "insert into raw.ingest_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, null, ?)",
                [
                    run_id,
                    batch.source,
                    delivery,
                    relative,
                    hashes[relative],
                    path.stat().st_size,
                    n_rows_by_file.get(relative, 0),
                    n_rejected_by_file.get(relative, 0),
                    now,
                    CURRENT,
                    reading_rules,
                ],
            )
        stop_points.reached("raw commit")
        connection.execute("commit")
    except BaseException:
        _roll_back(connection)
        raise
    return summary


def rows_of_current_version(connection: duckdb.DuckDBPyConnection, delivery: str) -> dict[str, int]:
    """Rows per raw table that the delivery's version in the raw layer holds (empty when none is)."""
    files = [
        file
        for (file,) in connection.execute(
            f"select file from raw.ingest_ledger where status = '{CURRENT}' and delivery = ?", [delivery]
        ).fetchall()
    ]
    if not files:
        return {}
    placeholders = ", ".join("?" for _ in files)
    counts = {}
    for table in raw_tables():
        (n,) = connection.execute(
            f"select count(*) from raw.{table.name} where source_file in ({placeholders})", files
        ).fetchone()
        if n:
            counts[table.name] = n
    return counts


def unfit_values(connection: duckdb.DuckDBPyConnection, batch: SourceBatch) -> list[str]:
    """Where a batch holds values its raw tables' types cannot take ("raw.case_activities.duration_minutes
    (integer): 1 row"), found by trying each value against its column's type: for a refusal that names
    columns, never the values (DuckDB's own conversion error quotes the value)."""
    declared = {table.name: table.columns for table in raw_tables()}
    found = []
    for table, frame in batch.tables.items():
        connection.register("incoming", frame)
        try:
            for column, kind in declared.get(table, ()):
                with contextlib.suppress(duckdb.Error):
                    (n,) = connection.execute(
                        f'select count(*) from incoming where "{column}" is not null '
                        f'and try_cast("{column}" as {kind}) is null'
                    ).fetchone()
                    if n:
                        found.append(f"raw.{table}.{column} ({kind.lower()}): {n:,} {'row' if n == 1 else 'rows'}")
        finally:
            connection.unregister("incoming")
    return found


def current_files(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(source, delivery, file) of every file whose rows are in the raw layer."""
    return connection.execute(
        f"select source, delivery, file from raw.ingest_ledger where status = '{CURRENT}' order by file"
    ).fetchall()


def withdraw(connection: duckdb.DuckDBPyConnection, run_id: str, files: list[tuple[str, str, str]]) -> list[Withdrawal]:
    """Remove the raw rows and rejects of files that left the landing zone; the ledger keeps their history."""
    withdrawals = []
    now = _now()
    connection.execute("begin transaction")
    try:
        for source, delivery, file in files:
            n_rows = 0
            for table in raw_tables():
                n_rows += connection.execute(
                    f"select count(*) from raw.{table.name} where source_file = ?", [file]
                ).fetchall()[0][0]
                connection.execute(f"delete from raw.{table.name} where source_file = ?", [file])
            connection.execute("delete from raw.rejected_rows where file = ?", [file])
            connection.execute("delete from raw.delivery_notes where delivery = ?", [delivery])
            connection.execute("delete from raw.delivery_arrivals where delivery = ?", [delivery])
            connection.execute(
                f"update raw.ingest_ledger set status = '{WITHDRAWN}', status_changed_in_run = ?, "
                f"status_changed_at = ? where status = '{CURRENT}' and file = ?",
                [run_id, now, file],
            )
            withdrawals.append(Withdrawal(source, delivery, file, n_rows))
        connection.execute("commit")
    except BaseException:
        _roll_back(connection)
        raise
    return withdrawals


def _roll_back(connection: duckdb.DuckDBPyConnection) -> None:
    """Undo the open transaction, if DuckDB still has one. When the failure itself ended it (a full disk
    makes DuckDB abort the transaction), rolling back fails too; that second error must not hide the
    first, which names the real cause."""
    with contextlib.suppress(duckdb.Error):
        connection.execute("rollback")
