"""Which file an analyst's command reads: the published file, or the snapshot published on a given day.

Every output of `samskab sql`, `samskab export` and `samskab report` names its source (the run that built
the file, when, and which snapshot it is), so a figure can be traced and reproduced later. Files are
always opened read-only: an analyst's command never takes DuckDB's write lock, so it never blocks a
refresh, and a refresh never blocks it (the refresh renames a new file in; an open reader keeps its own).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from samskab.common import spill
from samskab.common.settings import Settings
from samskab.publish import erasure, history, snapshots


class SourceMissing(LookupError):
    """Nothing to read; the message says what to do."""


@dataclass(frozen=True)
class Source:
    path: Path
    run_id: str | None
    built_at: str | None  # "2026-11-20 01:31 UTC", from the file's meta.runs
    snapshot: snapshots.Snapshot | None
    as_of: date | None = None
    # Where queries that outgrow memory spill (settings.spill_dir, a folder per process); None: DuckDB's
    # own temporary folder rules.
    spill_dir: Path | None = None
    # The settings it was resolved with: where to find the snapshot of a file published since.
    settings: Settings | None = None
    # Said of a snapshot rewritten to erase people on request (samskab/publish/erasure.py): since when
    rewritten: str | None = None

    def describe(self) -> str:
        """One line naming the file: e.g. "snapshot of 2026-11-20 02:31 (Danish time): run 52bad03e-..., built
        2026-11-20 01:31 UTC"."""
        run = f"run {self.run_id}, built {self.built_at}" if self.run_id else "a file that names no run"
        if self.as_of is not None:
            return f"{self.snapshot.label}, as of {self.as_of:%Y-%m-%d}: {run}{self.rewritten or ''}"
        kept = f" (kept as the {self.snapshot.label})" if self.snapshot else ""
        return f"the published file: {run}{kept}{self.rewritten or ''}"


def _run_of(path: Path) -> tuple[str | None, str | None]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return _run_read_by(connection)
    finally:
        connection.close()


def _run_read_by(connection: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    try:
        rows = connection.execute("select run_id, strftime(finished_at, '%Y-%m-%d %H:%M') from meta.runs").fetchall()
    except duckdb.Error:
        return None, None
    return (str(rows[0][0]), f"{rows[0][1]} UTC") if rows else (None, None)


def resolve(settings: Settings, as_of: date | None = None) -> Source:
    """The published file, or with `as_of` the snapshot analysts read at the end of that day (Danish time):
    the shared history's when one is configured (samskab/publish/history.py), else the dated file's."""
    if as_of is not None and history.configured(settings):
        try:
            kept = history.as_of(settings, as_of)
        except (LookupError, history.HistoryUnavailable) as missing:
            raise SourceMissing(str(missing)) from None
        return Source(kept.path, kept.run_id or None, None, kept, as_of, spill.reader_spill_dir(settings), settings)
    if as_of is not None:
        try:
            snapshot = snapshots.as_of(settings, as_of)
            snapshots.verify(snapshot)
        except snapshots.NoSnapshot as missing:
            raise SourceMissing(str(missing)) from None
        run_id, built_at = _run_of(snapshot.path)
        return Source(
            snapshot.path,
            run_id,
            built_at,
            snapshot,
            as_of,
            spill.reader_spill_dir(settings),
            rewritten=_rewritten(snapshot.path),
        )
    path = settings.published_path
    if not path.is_file():
        raise SourceMissing("Nothing is published yet: run `samskab refresh` (or `make demo` for the sample) first.")
    run_id, built_at = _run_of(path)
    snapshot = snapshots.for_run(settings, run_id) if run_id else None
    return Source(path, run_id, built_at, snapshot, spill_dir=spill.reader_spill_dir(settings), settings=settings)


def _rewritten(path: Path) -> str | None:
    """ "; rewritten on <day> to erase N person(s) on request" for a snapshot rewritten so, else None."""
    done = erasure.rewritten_on(path)
    if not done:
        return None
    return (
        f"; rewritten on {done[-1][1]:%Y-%m-%d} to erase {len(done)} person(s) on request: their rows are gone, "
        "its aggregate tables are as that night built them (meta.erasures)"
    )


def of_snapshot(settings: Settings, snapshot: snapshots.Snapshot) -> Source:
    """The snapshot itself as a source (verified first: SnapshotChanged when its bytes are not those kept)."""
    snapshots.verify(snapshot)
    run_id, built_at = _run_of(snapshot.path)
    return Source(
        snapshot.path,
        run_id,
        built_at,
        snapshot,
        spill_dir=spill.reader_spill_dir(settings),
        rewritten=_rewritten(snapshot.path),
    )


def connect(source: Source, sandboxed: bool = True) -> tuple[Source, duckdb.DuckDBPyConnection]:
    """A read-only connection to the source, and the source as that connection reads it: a refresh may
    have published a new file since the source was resolved, and what a command says it read is the file
    it queries, never the one before (the run is read again through the connection itself).

    Sandboxed (the SQL shell), it also cannot attach other files or write any file, and the analyst cannot
    switch that off; exports need file access to write. What outgrows memory spills into the source's
    spill folder, never beside the published file."""
    config = {"temp_directory": str(spill.usable(source.spill_dir))} if source.spill_dir else {}
    if isinstance(source.snapshot, history.LakeSnapshot):
        return _connect_history(source, config, sandboxed)
    connection = duckdb.connect(str(source.path), read_only=True, config=config)
    run_id, built_at = _run_read_by(connection)
    if run_id != source.run_id and source.as_of is None:  # published in between: name what this one reads
        snapshot = snapshots.for_run(source.settings, run_id) if run_id and source.settings else None
        source = replace(source, run_id=run_id, built_at=built_at, snapshot=snapshot)
    if sandboxed:
        connection.execute("set enable_external_access = false")
        connection.execute("set lock_configuration = true")
    return source, connection


def _connect_history(source: Source, config: dict, sandboxed: bool) -> tuple[Source, duckdb.DuckDBPyConnection]:
    """A snapshot of the shared history: attached read-only at its version and its tables copied into the
    connection's own database in memory, then detached. So every cursor of the connection reads it (as an
    export's do), and the sandboxed shell can read no file at all (DuckDB could not read the history's data
    folder without being allowed to write there too)."""
    try:
        connection = history.connect(source.settings, version=source.snapshot.version, config=config)
        connection.execute(f"copy from database {history.ALIAS} to memory")
        connection.execute("use memory")
        connection.execute(f"detach {history.ALIAS}")
    except (duckdb.Error, history.HistoryUnavailable) as error:
        raise SourceMissing(f"The {source.snapshot.label} could not be read: {error}") from None
    run_id, built_at = _run_read_by(connection)
    if sandboxed:
        connection.execute("set enable_external_access = false")
        connection.execute("set lock_configuration = true")
    return replace(source, run_id=run_id, built_at=built_at), connection


def parse_day(text: str) -> date:
    """A day given on the command line (2026-11-20); a ValueError that says the form otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of takes a day as YYYY-MM-DD (for example 2026-11-20), not '{text}'.") from None
