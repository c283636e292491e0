"""Erasure in the published zone: the published file, the one kept for a rollback and every snapshot are
rewritten without a person erased on request (samskab/ingest/erasure.py names them by pseudonyms).

A file is rewritten, not edited: every table is copied into a new file without the person's rows (a row
whose `*_pseudonym` column names them) and with their pseudonym taken out of every `*_pseudonyms` list
(and `n_informants` counted again), with the tables' and columns' comments; deleted rows would otherwise
linger in the file's free blocks. The new file replaces the old in one rename, keeps its mode, and records
the erasure in `meta.erasures` (by id, date and rows removed, never by person). A snapshot's checksum is
written anew (naming both the rewrite and the old bytes until the rewrite is in place, so a kill between
the two leaves a snapshot that verifies, and the next run puts the rewrite in place), so `--as-of` reads it,
and says it was rewritten; its drawn report is removed, to be drawn again. Aggregate tables (shares over a
group of heads) cannot be recomputed without that night's raw layer: they are kept as they were, and
`meta.erasures` says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from samskab.common import stop_points
from samskab.common.atomic_files import flushed_like, fsync_directory
from samskab.common.hashing import sha256_of
from samskab.common.settings import Settings
from samskab.publish import snapshots
from samskab.publish.swap import STORAGE_VERSION

AGGREGATES_NOTE = (
    "Rows naming the person were removed; aggregate tables of this file were built with their answers and "
    "are kept as they were (they cannot be recomputed without that night's raw layer)."
)


@dataclass(frozen=True)
class FileErasure:
    path: Path
    rows: dict[str, int]  # table -> rows removed or changed


def published_files(settings: Settings) -> list[Path]:
    """Every file of the published zone that holds marts: the published one, the rollback's, every snapshot."""
    files = [path for path in (settings.published_path, settings.previous_path) if path.is_file()]
    return files + [snapshot.path for snapshot in snapshots.listed(settings)]


def _columns(connection: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], list[tuple]]:
    found: dict[tuple[str, str], list[tuple]] = {}
    for schema, table, column, kind, comment in connection.execute(
        "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
        "where database_name = ? order by schema_name, table_name, column_index",
        [database],
    ).fetchall():
        found.setdefault((schema, table), []).append((column, kind, comment))
    return found


def _pseudonym_columns(columns: list[tuple]) -> tuple[list[str], list[str]]:
    texts = [column for column, kind, _ in columns if kind == "VARCHAR"]
    return [c for c in texts if c.endswith("_pseudonym")], [c for c in texts if c.endswith("_pseudonyms")]


def _filtered_select(source: str, columns: list[tuple], erased: str) -> tuple[str, str | None]:
    """The select that copies a table without the person, and the condition that finds their rows
    (`erased`: the person's pseudonyms as a SQL list, for lambdas, which cannot hold a subquery)."""
    single, lists = _pseudonym_columns(columns)
    names = [column for column, _, _ in columns]
    where = " and ".join(f'("{column}" is null or "{column}" not in (select p from erased))' for column in single)
    found = " or ".join(f'"{column}" in (select p from erased)' for column in single)
    expressions = []
    for column in names:
        if column in lists:
            expressions.append(
                f"nullif(array_to_string(list_filter(string_split(\"{column}\", ', '), x -> not list_contains("
                f"{erased}, x)), ', '), '') as \"{column}\""
            )
        elif column == "n_informants" and lists:
            removed = " + ".join(
                f"len(list_filter(coalesce(string_split(\"{c}\", ', '), []), x -> list_contains({erased}, x)))"
                for c in lists
            )
            expressions.append(f'"n_informants" - ({removed}) as "n_informants"')
        else:
            expressions.append(f'"{column}"')
    for column in lists:
        condition = f"list_has_any(string_split(\"{column}\", ', '), {erased})"
        found = f"{found} or {condition}" if found else condition
    select = f"select {', '.join(expressions)} from {source}" + (f" where {where}" if where else "")
    return select, found or None


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _as_list(pseudonyms: set[str]) -> str:
    return "[" + ", ".join(_quoted(p) for p in sorted(pseudonyms)) + "]::varchar[]"


def _erased_table(connection: duckdb.DuckDBPyConnection, pseudonyms: set[str]) -> None:
    connection.execute("create or replace temp table erased (p varchar)")
    if pseudonyms:
        connection.executemany("insert into erased values (?)", [[p] for p in sorted(pseudonyms)])


def count(path: Path, pseudonyms: set[str]) -> dict[str, int]:
    """Rows of each table of `path` that name the person (a dry run): nothing is changed."""
    connection = duckdb.connect()
    try:
        connection.execute(f"attach '{path}' as source (read_only)")
        _erased_table(connection, pseudonyms)
        rows = {}
        for (schema, table), columns in _columns(connection, "source").items():
            _, found = _filtered_select(f'source."{schema}"."{table}"', columns, _as_list(pseudonyms))
            if found:
                (n,) = connection.execute(f'select count(*) from source."{schema}"."{table}" where {found}').fetchone()
                if n:
                    rows[f"{schema}.{table}" if schema != "main" else table] = n
        return rows
    finally:
        connection.close()


def rewrite(path: Path, pseudonyms: set[str], erasure_id: str, rows: dict[str, int] | None = None) -> FileErasure:
    """Rewrite `path` without the person (see the module). A file that names them nowhere is left as it is.
    `rows`: what `count` found of them in it already."""
    rows = count(path, pseudonyms) if rows is None else rows
    if not rows:
        return FileErasure(path, {})
    partial = path.with_name(path.name + ".erasing")
    partial.unlink(missing_ok=True)
    connection = duckdb.connect()
    try:
        connection.execute(f"attach '{path}' as source (read_only)")
        connection.execute(f"attach '{partial}' as target (storage_version '{STORAGE_VERSION}')")
        _erased_table(connection, pseudonyms)
        tables = _columns(connection, "source")
        comments = dict(
            ((schema, table), comment)
            for schema, table, comment in connection.execute(
                "select schema_name, table_name, comment from duckdb_tables() where database_name = 'source'"
            ).fetchall()
        )
        for schema in sorted({schema for schema, _ in tables}):
            connection.execute(f'create schema if not exists target."{schema}"')
        for (schema, table), columns in tables.items():
            select, _ = _filtered_select(f'source."{schema}"."{table}"', columns, _as_list(pseudonyms))
            connection.execute(f'create table target."{schema}"."{table}" as {select}')
            if comments.get((schema, table)):
                connection.execute(
                    f'comment on table target."{schema}"."{table}" is {_quoted(comments[(schema, table)])}'
                )
            for column, _, comment in columns:
                if comment:
                    connection.execute(
                        f'comment on column target."{schema}"."{table}"."{column}" is {_quoted(comment)}'
                    )
        if ("meta", "row_counts") in tables:
            connection.execute(
                "update target.meta.row_counts set n_rows = n_rows - coalesce(("
                "select n from (select unnest(?) as t, unnest(?) as n) where t = table_name), 0)",
                [list(rows), list(rows.values())],
            )
        connection.execute(
            "create table if not exists target.meta.erasures (erasure_id varchar, erased_at timestamp, "
            "n_rows_removed bigint, note varchar)"
        )
        connection.execute(
            "insert into target.meta.erasures values (?, ?, ?, ?)",
            [erasure_id, datetime.now(UTC).replace(tzinfo=None), sum(rows.values()), AGGREGATES_NOTE],
        )
        connection.execute("checkpoint target")
    finally:
        connection.close()
    flushed_like(partial, path)
    old_digests = snapshots.checksums(path)
    new_digest = sha256_of(partial) if old_digests else ""
    if old_digests:  # a snapshot: its checksum names the rewrite and the bytes it replaces, until it is in place
        snapshots.write_checksums(path, new_digest, old_digests[0])
        stop_points.reached("erase rewrite")  # (a kill here: the next run puts the rewrite in place)
    os.replace(partial, path)
    fsync_directory(path.parent)
    if old_digests:
        snapshots.write_checksums(path, new_digest)
    return FileErasure(path, rows)


def forget_drawn_reports(settings: Settings, path: Path) -> None:
    """Remove the drawn reports of a rewritten snapshot, so they are drawn again from its new bytes."""
    folder = settings.docs_dir / "snapshots"
    if folder.is_dir():
        for page in folder.glob(f"{path.stem}*.html"):
            page.unlink(missing_ok=True)


def rewritten_on(path: Path) -> list[tuple[str, datetime]]:
    """The erasures a file was rewritten for: (id, when), oldest first; none for a file never rewritten."""
    with duckdb.connect(str(path), read_only=True) as connection:
        has = connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'meta' and table_name = 'erasures'"
        ).fetchone()[0]
        if not has:
            return []
        return connection.execute("select erasure_id, erased_at from meta.erasures order by erased_at").fetchall()
