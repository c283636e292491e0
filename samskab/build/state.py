"""What the marts in the warehouse were last built from, so a refresh builds only what changed.

After every dbt build that succeeds, the warehouse records (schema `build_state`, inside the warehouse
itself, so a warehouse deleted or replaced takes its record with it):
- a digest of each raw table the dbt project reads as a source: its columns and types, its row count
  and an order-free sum of its rows' hashes, computed by DuckDB (no row leaves the database);
- dbt's manifest of that build (kept beside the warehouse in `dbt_state/`, named by its sha256), for
  dbt's own state comparison (`state:modified`: models, tests, macros and seeds whose code changed);
- the version of dbt, and every test's result, so the tests a partial build did not need to run are
  still reported with the result of the build that ran them.

The next build compares: it selects the sources whose digest changed and the nodes dbt finds modified,
with everything downstream of them and their tests (`dbt build --select source:x.y+ state:modified+`),
and leaves every other model as built. It builds everything when asked (`--force`), when nothing is
recorded (a first build, a new warehouse), when dbt's version changed, or when the last build did not
succeed: the record is taken away before each build starts and written only after it succeeded, so a
build that failed or was killed half-way is always followed by a whole one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from samskab.common.atomic_files import write_atomically
from samskab.common.hashing import sha256_of
from samskab.common.settings import Settings

SCHEMA = "build_state"
FULL, PARTIAL = "full", "partial"


@dataclass(frozen=True)
class KeptTest:
    """A test a partial build did not run, with the result of the build that last ran it."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    severity: str
    failures: int | None
    run_id: str


@dataclass(frozen=True)
class BuildPlan:
    """Which dbt nodes a build runs, and why, in words for the run's log."""

    kind: str  # FULL or PARTIAL
    reason: str
    # Raw source tables ("source_name.table") whose digest changed since the last build (partial only).
    changed_sources: tuple[str, ...] = ()
    # Every source table's digest now, recorded once the build succeeds.
    digests: dict[str, str] = field(default_factory=dict)
    # The tests of the last build (unique_id -> result), for those this build does not run.
    recorded_tests: dict[str, KeptTest] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return self.kind == FULL

    def selectors(self) -> list[str]:
        """dbt's `--select` arguments: none for a full build."""
        if self.full:
            return []
        return [f"source:{source}+" for source in self.changed_sources] + ["state:modified+"]

    def describe(self) -> str:
        if self.full:
            return f"Building every model and running every test: {self.reason}."
        changed = ", ".join(self.changed_sources) or "no raw table"
        return (
            f"Building what changed since the last build: the models downstream of {changed}, and any model, "
            "test, macro or seed whose code changed, with their tests; every other model stays as built."
        )


def state_dir(settings: Settings) -> Path:
    """dbt's manifest of the last build that succeeded, for `--state`."""
    return settings.warehouse_path.parent / "dbt_state"


def source_tables(manifest: Any) -> dict[str, tuple[str, str]]:
    """Every source of the dbt project: "source_name.table" -> (schema, table in the warehouse)."""
    return {
        f"{source.source_name}.{source.name}": (source.schema, source.identifier or source.name)
        for source in manifest.sources.values()
    }


def missing_models(connection: duckdb.DuckDBPyConnection, manifest: Any, built: set[str]) -> list[str]:
    """Models and seeds the last build made (`built`: their unique ids) that the warehouse no longer holds."""
    held = set(connection.execute("select table_schema, table_name from information_schema.tables").fetchall())
    return sorted(
        f"{node.schema}.{node.alias or node.name}"
        for unique_id, node in manifest.nodes.items()
        if unique_id in built
        and str(node.resource_type) in ("model", "seed")
        and str(getattr(node.config, "materialized", "")) != "ephemeral"
        and (node.schema, node.alias or node.name) not in held
    )


def _built_by(kept_manifest: Path) -> set[str]:
    """The unique ids of the models and seeds in a kept manifest."""
    nodes = json.loads(kept_manifest.read_text(encoding="utf-8")).get("nodes", {})
    return {unique_id for unique_id, node in nodes.items() if node.get("resource_type") in ("model", "seed")}


def source_digests(connection: duckdb.DuckDBPyConnection, sources: dict[str, tuple[str, str]]) -> dict[str, str]:
    """A digest of each source table as it is now: its columns and types, its rows (an order-free sum and
    xor of DuckDB's row hashes, with the count). "missing" for a table the warehouse does not hold."""
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in connection.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall():
        columns.setdefault((schema, table), []).append((column, data_type))
    digests = {}
    for name, (schema, table) in sorted(sources.items()):
        layout = columns.get((schema, table))
        if layout is None:
            digests[name] = "missing"
            continue
        n_rows, hash_sum, hash_xor = connection.execute(
            "select count(*), coalesce(sum(hash(t)::hugeint), 0), coalesce(bit_xor(hash(t)), 0) "
            f'from "{schema}"."{table}" t'
        ).fetchone()
        text = json.dumps([layout, int(n_rows), str(hash_sum), str(hash_xor)])
        digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def _dbt_version() -> str:
    from dbt.version import __version__

    return str(__version__)


def _ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"create schema if not exists {SCHEMA}")
    connection.execute(
        f"create table if not exists {SCHEMA}.builds (run_id varchar, built_at timestamp, kind varchar, "
        "manifest_sha256 varchar, dbt_version varchar)"
    )
    connection.execute(f"create table if not exists {SCHEMA}.sources (source varchar, digest varchar)")
    connection.execute(
        f"create table if not exists {SCHEMA}.tests (unique_id varchar, name varchar, resource_type varchar, "
        "status varchar, severity varchar, failures bigint, run_id varchar)"
    )


def plan(settings: Settings, manifest: Any, force: bool = False) -> BuildPlan:
    """Compare the warehouse's sources and the dbt project with those of the last build that succeeded."""
    sources = source_tables(manifest)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        digests = source_digests(connection, sources)
        _ensure_schema(connection)
        builds = connection.execute(f"select run_id, manifest_sha256, dbt_version from {SCHEMA}.builds").fetchall()
        recorded = dict(connection.execute(f"select source, digest from {SCHEMA}.sources").fetchall())
        kept_manifest = state_dir(settings) / "manifest.json"
        kept = builds and kept_manifest.is_file() and sha256_of(kept_manifest) == builds[0][1]
        missing = missing_models(connection, manifest, _built_by(kept_manifest)) if kept else []
        tests = connection.execute(
            f"select unique_id, name, resource_type, status, severity, failures, run_id from {SCHEMA}.tests"
        ).fetchall()
    if force:
        return BuildPlan(FULL, "forced (--force)", digests=digests)
    if not builds:
        return BuildPlan(
            FULL,
            "the warehouse records no build that succeeded (a first build, or the last one failed)",
            digests=digests,
        )
    dbt_version = builds[0][2]
    if not kept:
        return BuildPlan(FULL, "the manifest of the last build is missing or not the one recorded", digests=digests)
    if missing:
        return BuildPlan(FULL, f"the warehouse lacks {len(missing)} models the last build made", digests=digests)
    if dbt_version != _dbt_version():
        return BuildPlan(FULL, f"dbt changed from {dbt_version} to {_dbt_version()}", digests=digests)
    changed = tuple(name for name, digest in digests.items() if recorded.get(name) != digest)
    results = {row[0]: KeptTest(*row[:5], None if row[5] is None else int(row[5]), row[6]) for row in tests}
    return BuildPlan(PARTIAL, "", changed_sources=changed, digests=digests, recorded_tests=results)


def forget(settings: Settings) -> None:
    """Before a build starts: take away the record, so that if it fails or is killed the next is whole."""
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        _ensure_schema(connection)
        connection.execute(f"delete from {SCHEMA}.builds")


def record(settings: Settings, build_plan: BuildPlan, run_id: str, tests: list[KeptTest]) -> None:
    """After a build succeeded: keep its manifest and record its sources' digests and every test's result
    (`tests`: those it ran, and those it kept from the build before)."""
    kept_manifest = state_dir(settings) / "manifest.json"
    kept_manifest.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(kept_manifest, (settings.dbt_target_dir / "manifest.json").read_bytes())
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        _ensure_schema(connection)
        connection.execute("begin transaction")
        for table in ("builds", "sources", "tests"):
            connection.execute(f"delete from {SCHEMA}.{table}")
        connection.executemany(f"insert into {SCHEMA}.sources values (?, ?)", sorted(build_plan.digests.items()))
        connection.executemany(
            f"insert into {SCHEMA}.tests values (?, ?, ?, ?, ?, ?, ?)",
            [(t.unique_id, t.name, t.resource_type, t.status, t.severity, t.failures, t.run_id) for t in tests],
        )
        connection.execute(
            f"insert into {SCHEMA}.builds values (?, ?, ?, ?, ?)",
            [run_id, datetime.now(UTC).replace(tzinfo=None), build_plan.kind, sha256_of(kept_manifest), _dbt_version()],
        )
        connection.execute("commit")
