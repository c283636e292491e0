"""The shared history: every publish also committed to a DuckLake catalog, as one snapshot tagged with its run.

The published file stays what analysts and every DuckDB client read. When a catalog is configured
(`SAMSKAB_DUCKLAKE_CATALOG`: `postgres:dbname=... host=... user=...` for a team, or a path to a `.ducklake`
file on one machine; `SAMSKAB_DUCKLAKE_DATA_PATH`: the shared folder its Parquet files go to), each publish
copies the published file's tables (the marts and `meta`) into it in one transaction, so the lake gains
exactly one snapshot per publish, tagged with the run (`commit_extra_info` holds `{"run_id": ...}`). A
table whose rows are the same as in the lake's current snapshot is not written again, so a night that
changed one mart adds that mart's files only. Analysts on other machines attach the catalog read-only;
`samskab sql --as-of DAY` and `export --as-of DAY` read the snapshot the lake held at the end of that day.
Snapshots older than `snapshot_retention_days` nights expire (the newest never does), and their files are
deleted by the next publish.

DuckLake comes as wheels (`duckdb-extension-ducklake`, and `duckdb-extension-postgres-scanner` for a
catalog in PostgreSQL), loaded from their files: nothing is downloaded at run time. One writer at a time
(the refresh, under its lock); DuckDB error texts are told with the catalog string taken out, since it may
hold a password.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from samskab.common import stop_points
from samskab.common.settings import Settings
from samskab.publish import snapshots
from samskab.publish.snapshots import DANISH_TIME, Snapshot

ALIAS = "history"
AUTHOR = "samskab refresh"
SCHEMAS = ("main", "meta")


class HistoryUnavailable(RuntimeError):
    """The catalog could not be reached or written; the message names why, never the catalog's password."""


@dataclass(frozen=True)
class LakeSnapshot(Snapshot):
    """A snapshot of the shared history, read in place (no file of its own: `path` only names it)."""

    version: int = 0
    run_id: str = ""

    @property
    def label(self) -> str:
        return f"shared history's snapshot {self.version} of {self.published_at:%Y-%m-%d %H:%M} (Danish time)"


def configured(settings: Settings) -> bool:
    return settings.ducklake_catalog is not None and bool(settings.ducklake_catalog.get_secret_value())


def extension_file(name: str) -> Path:
    """The extension's file inside its wheel, for the DuckDB this process runs."""
    package = importlib.resources.files(f"duckdb_extension_{name}")
    return Path(str(package)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


def _catalog(settings: Settings) -> str:
    return settings.ducklake_catalog.get_secret_value() if settings.ducklake_catalog else ""


def _hidden(settings: Settings, error: BaseException) -> str:
    """A DuckDB error's text without the catalog string (which may hold a password)."""
    text = str(error)
    catalog = _catalog(settings)
    if catalog:
        text = text.replace(catalog, "<catalog>")
    for part in catalog.split():
        if part.lower().startswith("password="):
            text = text.replace(part.split("=", 1)[1], "***")
    return text.splitlines()[0] if text else type(error).__name__


def connect(settings: Settings, read_only: bool = True, version: int | None = None, config: dict | None = None):
    """A DuckDB connection with the shared history attached as `history` (and in use), read-only unless
    asked; at `version` (a snapshot id) when given. Raises HistoryUnavailable."""
    if not configured(settings):
        raise HistoryUnavailable("No shared history is configured (SAMSKAB_DUCKLAKE_CATALOG).")
    catalog = _catalog(settings)
    connection = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False, **(config or {})}
    )
    try:
        connection.execute(f"load '{extension_file('ducklake')}'")
        if catalog.startswith("postgres:"):
            connection.execute(f"load '{extension_file('postgres_scanner')}'")
        options = []
        if settings.ducklake_data_path:
            options.append(f"data_path '{_quoted(settings.ducklake_data_path)}'")
        if read_only:
            options.append("read_only")
        if version is not None:
            options.append(f"snapshot_version {int(version)}")
        listed = f" ({', '.join(options)})" if options else ""
        connection.execute(f"attach 'ducklake:{_quoted(catalog)}' as {ALIAS}{listed}")
        connection.execute(f"use {ALIAS}")
    except duckdb.Error as error:
        connection.close()
        raise HistoryUnavailable(f"The shared history could not be attached: {_hidden(settings, error)}") from None
    return connection


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _tables(connection: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], str | None]:
    """(schema, table) -> the table's comment, for the schemas the published file holds."""
    return {
        (schema, table): comment
        for schema, table, comment in connection.execute(
            "select schema_name, table_name, comment from duckdb_tables() where database_name = ? "
            f"and schema_name in {SCHEMAS}",
            [database],
        ).fetchall()
    }


def _digest(connection: duckdb.DuckDBPyConnection, name: str) -> tuple:
    """The rows of a table, as a count, its columns and an order-free sum of row hashes."""
    columns = connection.execute(f"select * from {name} limit 0").description
    count, hashed = connection.execute(f"select count(*), sum(hash(t)::hugeint) from {name} t").fetchone()
    return count, hashed, tuple((column[0], str(column[1])) for column in columns)


@dataclass(frozen=True)
class Committed:
    version: int
    written: list[str]  # tables written anew
    kept: list[str]  # tables whose rows were already the lake's
    dropped: list[str]  # tables the lake held that the file no longer has
    expired: int  # snapshots expired by the retention


def commit(
    settings: Settings, published: Path, run_id: str, published_at: datetime, what: str = "publish"
) -> Committed:
    """Commit the published file's tables to the shared history as one snapshot tagged with `run_id` (the run
    that built the file; `what`: "publish", or "rollback" when a rollback put it back); expire snapshots past
    the retention. Raises HistoryUnavailable (the published file is published regardless)."""
    connection = connect(settings, read_only=False)
    try:
        connection.execute(f"attach '{_quoted(str(published))}' as source (read_only)")
        wanted = _tables(connection, "source")
        held = _tables(connection, ALIAS)
        written, kept = [], []
        connection.execute("begin transaction")
        for schema in sorted({schema for schema, _ in wanted}):
            connection.execute(f'create schema if not exists {ALIAS}."{schema}"')
        for (schema, table), comment in sorted(wanted.items()):
            source, target = f'source."{schema}"."{table}"', f'{ALIAS}."{schema}"."{table}"'
            name = table if schema == "main" else f"{schema}.{table}"
            if (schema, table) in held and _digest(connection, source) == _digest(connection, target):
                kept.append(name)
                continue
            connection.execute(f"create or replace table {target} as select * from {source}")
            if comment:
                connection.execute(f"comment on table {target} is '{_quoted(comment)}'")
            for column, column_comment in connection.execute(
                "select column_name, comment from duckdb_columns() where database_name = 'source' "
                "and schema_name = ? and table_name = ? and comment is not null",
                [schema, table],
            ).fetchall():
                connection.execute(f"comment on column {target}.\"{column}\" is '{_quoted(column_comment)}'")
            written.append(name)
        dropped = []
        for schema, table in sorted(set(held) - set(wanted)):
            connection.execute(f'drop table {ALIAS}."{schema}"."{table}"')
            dropped.append(table if schema == "main" else f"{schema}.{table}")
        info = json.dumps({"run_id": run_id, "published_at": published_at.isoformat(), "by": what})
        connection.execute(
            f"call {ALIAS}.set_commit_message(?, ?, extra_info => ?)", [AUTHOR, f"{what} of run {run_id}", info]
        )
        stop_points.reached("history commit")
        connection.execute("commit")
        (version,) = connection.execute(f"select max(snapshot_id) from {ALIAS}.snapshots()").fetchone()
        expired = _expire(connection, settings, published_at)
    except duckdb.Error as error:
        raise HistoryUnavailable(
            f"The shared history did not take run {run_id}'s publish: {_hidden(settings, error)}"
        ) from None
    finally:
        connection.close()
    return Committed(int(version), written, kept, dropped, expired)


def _expire(connection: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> int:
    """Expire the publishes of more than `snapshot_retention_days` nights before `now` (never the newest), as
    the dated files are pruned, and delete the files earlier expiries left (an hour on, so no reader of them
    is cut short)."""
    old = [
        snapshot.version
        for snapshot in snapshots.past_retention(_snapshots(connection), now, settings.snapshot_retention_days)
    ]
    if old:
        connection.execute(f"call ducklake_expire_snapshots('{ALIAS}', versions => ?)", [old])
    connection.execute(f"call ducklake_cleanup_old_files('{ALIAS}', older_than => now() - interval 1 hour)")
    return len(old)


def forget_all_but_newest(settings: Settings, published: Path, run_id: str) -> int:
    """After an erasure (samskab/operate/erasure.py): the published file, built without the person, committed
    (if it is not yet), every older snapshot expired and every file no longer in the newest deleted at once.
    DuckLake cannot rewrite a snapshot, so the history before an erasure goes, as the person must. Returns
    how many snapshots were expired. Raises HistoryUnavailable (then the history still holds the person)."""
    commit(settings, published, run_id, datetime.now(DANISH_TIME), "erasure")
    connection = connect(settings, read_only=False)
    try:
        (newest,) = connection.execute(f"select max(snapshot_id) from {ALIAS}.snapshots()").fetchone()
        older = [
            version
            for (version,) in connection.execute(
                f"select snapshot_id from {ALIAS}.snapshots() where snapshot_id < ?", [newest]
            ).fetchall()
        ]
        expired = sum(1 for snapshot in _snapshots(connection) if snapshot.version < newest)  # publishes only
        if older:
            connection.execute(f"call ducklake_expire_snapshots('{ALIAS}', versions => ?)", [older])
        connection.execute(f"call ducklake_cleanup_old_files('{ALIAS}', cleanup_all => true)")
        connection.execute(f"call ducklake_delete_orphaned_files('{ALIAS}', cleanup_all => true)")
    except duckdb.Error as error:
        raise HistoryUnavailable(
            f"The shared history could not forget its older snapshots: {_hidden(settings, error)}"
        ) from None
    finally:
        connection.close()
    return expired


def _snapshots(connection: duckdb.DuckDBPyConnection) -> list[LakeSnapshot]:
    rows = connection.execute(
        f"select snapshot_id, snapshot_time, commit_extra_info from {ALIAS}.snapshots() "
        "where author = ? order by snapshot_id",
        [AUTHOR],
    ).fetchall()
    found = []
    for version, moment, info in rows:
        tagged = json.loads(info) if info else {}
        run_id = str(tagged.get("run_id", ""))
        when = datetime.fromisoformat(tagged["published_at"]) if tagged.get("published_at") else moment
        found.append(
            LakeSnapshot(
                Path(f"ducklake-snapshot-{version}"),
                when.astimezone(DANISH_TIME),
                run_id.replace("-", "")[:8],
                int(version),
                run_id,
            )
        )
    return found


def listed(settings: Settings) -> list[LakeSnapshot]:
    """Every snapshot of the shared history that a publish or a rollback made, oldest first, each dated by the
    moment its file became the published one."""
    connection = connect(settings)
    try:
        return _snapshots(connection)
    except duckdb.Error as error:
        raise HistoryUnavailable(f"The shared history could not be read: {_hidden(settings, error)}") from None
    finally:
        connection.close()


def as_of(settings: Settings, day: date) -> LakeSnapshot:
    """The snapshot the shared history held at the end of `day` (Danish time). LookupError when none."""
    kept = listed(settings)
    found = snapshots.last_on_or_before(kept, day)
    if found is not None:
        return found
    if not kept:
        raise LookupError("The shared history holds no publish yet: each publish commits one from now on.")
    raise LookupError(
        f"The shared history holds no publish on or before {day:%Y-%m-%d}: its oldest is of "
        f"{kept[0].published_at:%Y-%m-%d %H:%M}. It keeps {settings.snapshot_retention_days} nights "
        "(SAMSKAB_SNAPSHOT_RETENTION_DAYS)."
    )
