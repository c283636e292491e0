"""Publish: build the analysts' DuckDB file beside the old one, record lineage, swap it in atomically.

Analysts keep reading the published file while this runs: it is never opened for writing. A new file is
built from the marts, checked, then renamed over the old one (a reader open during the rename keeps its
snapshot). The previous file is kept beside it for `samskab rollback`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from samskab.common import spill, stop_points
from samskab.common.atomic_files import fsync_directory, write_atomically
from samskab.common.hashing import sha256_of
from samskab.common.settings import Settings
from samskab.publish import snapshots

if TYPE_CHECKING:
    import pandas as pd

# Files readable by DuckDB 1.2 and newer, whatever DuckDB version builds them.
STORAGE_VERSION = "v1.2.0"
MART_SCHEMA = "marts"


@dataclass(frozen=True)
class Candidate:
    """A fully written analysts' file that is not yet published."""

    path: Path
    row_counts: dict[str, int]
    run_id: str


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
            if len(row_counts) == 1:
                stop_points.reached("candidate")
        connection.execute("checkpoint candidate")
    finally:
        connection.close()
    return Candidate(path=path, row_counts=row_counts, run_id=run_id)


def write_meta(path: Path, meta_tables: dict[str, pd.DataFrame]) -> None:
    """Write the lineage tables into the candidate's `meta` schema and checkpoint it."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute("create schema if not exists meta")
        for name, frame in meta_tables.items():
            if frame.empty:  # an empty text column reads as INTEGER: say it is text
                frame = frame.astype({column: "string" for column in frame.columns if frame[column].dtype == object})
            connection.register("incoming", frame)
            connection.execute(f"create or replace table meta.{name} as select * from incoming")
            connection.unregister("incoming")
        connection.execute("checkpoint")
    finally:
        connection.close()


def swap_in(settings: Settings, candidate: Candidate, published_at: datetime | None = None) -> Path:
    """Make the candidate the published file in one rename; keep the old one as the previous file for a
    rollback, and a dated read-only snapshot of the new one (samskab/publish/snapshots.py) for `--as-of`.

    The snapshot is copied before the swap and named after it: a snapshot never holds a file that was not
    published. A kill between the swap and the naming is put right by the next run (`recover_files`)."""
    published, previous = settings.published_path, settings.previous_path
    prepared = snapshots.prepare(settings, candidate.path, candidate.run_id, published_at or datetime.now(UTC))
    try:
        # A publish killed between its two renames left the previous name on the published file: it is
        # the previous file already (renaming a second link over it would do nothing and leave the link).
        if published.exists() and not (previous.exists() and os.path.samefile(published, previous)):
            keep = previous.with_name(previous.name + ".tmp")
            keep.unlink(missing_ok=True)
            os.link(published, keep)  # the same bytes under a second name, for rollback
            os.replace(keep, previous)
        stop_points.reached("swap")
        os.replace(candidate.path, published)
        fsync_directory(settings.published_dir)
    except BaseException:
        snapshots.discard(prepared)
        raise
    stop_points.reached("snapshot")
    snapshots.commit(settings, prepared)
    return published


def discard(candidate_file: Path) -> None:
    """Remove a candidate that did not pass the gate (and its write-ahead log, if any)."""
    for path in (candidate_file, candidate_file.with_name(candidate_file.name + ".wal")):
        path.unlink(missing_ok=True)


# The one name a rollback adds while it runs: its presence after a kill says how far the rollback got.
ROLLBACK_SWAP = ".rollback-swap.duckdb"
# Written before a rollback renames anything, removed when it is done: which run it rolls back from and to.
# After a kill past its last rename, the names alone look like a finished rollback, and a retry would
# swap the files back; with this record the retry finishes the rollback instead.
ROLLBACK_INTENT = ".rollback-intent.json"


@dataclass(frozen=True)
class RollbackOutcome:
    """What a rollback did: `changed` is False when it changed nothing, and `message` says why."""

    changed: bool
    message: str


def run_of(path: Path) -> tuple[str, datetime | None] | None:
    """(run id, when it finished) from the `meta.runs` of the file at `path`; None when it has none."""
    if not path.is_file():
        return None
    connection = duckdb.connect(str(path), read_only=True)
    try:
        row = connection.execute("select run_id, finished_at from meta.runs").fetchone()
    except duckdb.Error:
        return None
    finally:
        connection.close()
    return (str(row[0]), row[1]) if row else None


def when_built(finished_at: datetime | None) -> str:
    """When a run finished, to the minute, as the platform writes it ("2026-12-03 02:31 UTC")."""
    return f"{finished_at:%Y-%m-%d %H:%M} UTC" if finished_at is not None else "None UTC"


def published_run(path: Path) -> tuple[str, str] | None:
    """(run id, when it finished, in words) of the run that built the file at `path`."""
    run = run_of(path)
    return (run[0], when_built(run[1])) if run else None


def published_row_counts(path: Path) -> dict[str, int] | None:
    """Rows per table of the published file (its `meta.row_counts`); None when nothing is published."""
    if not path.is_file():
        return None
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return dict(connection.execute("select table_name, n_rows from meta.row_counts").fetchall())
    except duckdb.Error:
        return None
    finally:
        connection.close()


def _named(path: Path) -> str:
    run = published_run(path)
    return f"run {run[0]} (built {run[1]})" if run else "a file that names no run"


def recover_interrupted_rollback(settings: Settings) -> RollbackOutcome | None:
    """Finish or undo a rollback that was killed half way; None when there is none to recover.

    A rollback (1) links the published file to ROLLBACK_SWAP, (2) renames the previous snapshot over
    the published name, (3) renames ROLLBACK_SWAP to the previous name. Each step is one atomic call,
    so after a kill the names alone tell the state: with the previous name still there, step 2 never
    happened (undo); without it, step 3 is left to do (finish). No snapshot is ever deleted.
    """
    published, previous = settings.published_path, settings.previous_path
    swap = settings.published_dir / ROLLBACK_SWAP
    intent = _read_intent(settings)
    if not swap.exists():
        if intent is None:
            return None
        if _identity(published) != intent.get("to_file"):  # it stopped before any rename
            _clear_intent(settings)
            return None
        # Every rename was done (the file rolled back to is published); what follows them was not.
        return _finished(
            settings,
            RollbackOutcome(
                True,
                f"An earlier rollback was interrupted after its last rename and is now complete: {_named(published)}"
                f" is published, {_named(previous)} is kept as the previous snapshot.",
            ),
        )
    if previous.exists():
        swap.unlink()
        _clear_intent(settings)
        fsync_directory(settings.published_dir)
        return RollbackOutcome(False, "An earlier rollback was interrupted before it changed anything; cleared.")
    os.replace(swap, previous)
    fsync_directory(settings.published_dir)
    return _finished(
        settings,
        RollbackOutcome(
            True,
            f"An earlier rollback was interrupted half way and is now complete: {_named(published)} is published, "
            f"{_named(previous)} is kept as the previous snapshot.",
        ),
    )


def _identity(path: Path) -> list[int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return [status.st_dev, status.st_ino]


def _read_intent(settings: Settings) -> dict | None:
    path = settings.published_dir / ROLLBACK_INTENT
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _clear_intent(settings: Settings) -> None:
    (settings.published_dir / ROLLBACK_INTENT).unlink(missing_ok=True)


def _finished(settings: Settings, outcome: RollbackOutcome) -> RollbackOutcome:
    """The end of every rollback that changed the published file: its snapshot kept, its record removed."""
    kept = _kept_as_snapshot(settings, outcome)
    _clear_intent(settings)
    fsync_directory(settings.published_dir)
    return kept


def _unchanged(snapshot: snapshots.Snapshot) -> bool:
    try:
        snapshots.verify(snapshot)
    except snapshots.SnapshotChanged:
        return False
    return True


def _previous_names_the_published(settings: Settings, now: tuple[str, str] | None) -> bool:
    """Whether the previous name holds the published file's run: the same file (a publish killed between
    its two renames leaves both names on one file), or a file of the same run."""
    published, previous = settings.published_path, settings.previous_path
    return (
        published.exists()
        and previous.exists()
        and (os.path.samefile(published, previous) or (now is not None and now == published_run(previous)))
    )


def _snapshots_of_other_runs(settings: Settings, published: tuple[str, str] | None) -> list:
    """The snapshots kept (oldest first, each unchanged) of runs other than the published file's; none
    when that file names no run (no snapshot can be told apart from it)."""
    if published is None:
        return []
    prefix = published[0].replace("-", "")[:8]
    return [
        snapshot for snapshot in snapshots.listed(settings) if snapshot.run_prefix != prefix and _unchanged(snapshot)
    ]


def _previous_from_a_snapshot(settings: Settings, published: tuple[str, str] | None) -> str | None:
    """When the previous file is missing or is the published one, the newest snapshot of another run
    becomes the previous file. Returns its label, or None when no snapshot of another run is kept."""
    others = _snapshots_of_other_runs(settings, published)
    if not others:
        return None
    partial = settings.previous_path.with_name(settings.previous_path.name + ".tmp")
    partial.unlink(missing_ok=True)
    shutil.copyfile(others[-1].path, partial)
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.chmod(0o644)
    os.replace(partial, settings.previous_path)
    fsync_directory(settings.published_dir)
    return others[-1].label


def rollback_target(settings: Settings) -> Path | None:
    """The file a rollback would publish now, as `rollback` chooses it (the previous file, or the newest
    snapshot of another run when the previous file is the published one), changing nothing; None when
    there is none."""
    now = published_run(settings.published_path)
    if settings.previous_path.exists() and not _previous_names_the_published(settings, now):
        return settings.previous_path
    others = _snapshots_of_other_runs(settings, now)
    return others[-1].path if others else None


def rollback(settings: Settings) -> RollbackOutcome:
    """Swap the published file and the previous snapshot, so the previous one is published again.

    A rollback that was interrupted earlier is finished first, and counts as this one (running it again
    would undo it). A rollback that would change nothing says so and changes nothing.
    """
    recovered = recover_interrupted_rollback(settings)
    if recovered is not None and recovered.changed:
        return recovered
    published, previous = settings.published_path, settings.previous_path
    from_snapshot = ""
    now = published_run(published)
    if published.exists() and (not previous.exists() or _previous_names_the_published(settings, now)):
        label = _previous_from_a_snapshot(settings, now)
        from_snapshot = f" (taken from the {label}: the previous file was the published one)" if label else ""
    if not previous.exists():
        return RollbackOutcome(False, "Nothing to roll back to: there is no previous snapshot. Nothing was changed.")
    if not published.exists():
        os.link(previous, published)
        fsync_directory(settings.published_dir)
        return _kept_as_snapshot(
            settings, RollbackOutcome(True, f"Nothing was published; {_named(published)} is published again.")
        )
    if _previous_names_the_published(settings, now):
        return RollbackOutcome(
            False,
            f"Nothing to roll back: the previous snapshot is the file already published ({_named(published)}), "
            "and no snapshot of another run is kept. Nothing was changed.",
        )
    # The file rolled back to, by identity (a rename keeps it), and the runs in words for whoever reads it.
    record = {"to_file": _identity(previous), "from_run": now[0] if now else None}
    write_atomically(settings.published_dir / ROLLBACK_INTENT, json.dumps(record) + "\n")
    swap = settings.published_dir / ROLLBACK_SWAP
    os.link(published, swap)  # (1) the newest file under a second name
    stop_points.reached("rollback")
    os.replace(previous, published)  # (2) the published name now points at the previous file
    os.replace(swap, previous)  # (3) the newest file becomes the previous snapshot
    fsync_directory(settings.published_dir)
    return _finished(
        settings,
        RollbackOutcome(
            True,
            f"Rolled back: {_named(published)} is published again{from_snapshot}; {_named(previous)} is kept as "
            "previous.",
        ),
    )


def _kept_as_snapshot(settings: Settings, outcome: RollbackOutcome) -> RollbackOutcome:
    """After a rollback, the file published again is what analysts read from now on: keep it as a dated
    snapshot too, so `--as-of` a later day finds it (and not the file rolled away from)."""
    run = published_run(settings.published_path)
    try:
        snapshot = snapshots.keep(settings, settings.published_path, run[0] if run else "unknown", datetime.now(UTC))
    except OSError as error:
        return RollbackOutcome(
            outcome.changed,
            f"{outcome.message} The dated snapshot of it could not be kept ({error.strerror or type(error).__name__});"
            " `--as-of` today still finds the file rolled away from.",
        )
    return RollbackOutcome(outcome.changed, f"{outcome.message} Kept as {snapshot.label}.")


def leftovers(settings: Settings) -> list[Path]:
    """Files a killed run leaves in the published folder: candidates (and their write-ahead logs) and
    half-written temporary names. Only safe to remove while holding the refresh lock."""
    folder = settings.published_dir
    if not folder.is_dir():
        return []
    found = [
        *folder.glob(".candidate-*.duckdb"),
        *folder.glob(".candidate-*.duckdb.wal"),
        *folder.glob("*.tmp"),
        *settings.snapshots_dir.glob("*.tmp"),
        # an erasure's rewrite cut short (samskab/publish/erasure.py): the file it was rewriting is whole
        *folder.glob("*.erasing"),
        *folder.glob("*.erasing.wal"),
        *settings.snapshots_dir.glob("*.erasing"),
        *settings.snapshots_dir.glob("*.erasing.wal"),
    ]
    # Folders named .tmp are DuckDB's spill folders of readers: spill.remove_abandoned decides on those.
    return sorted({path for path in found if not path.is_dir()})


def finish_erasure_renames(settings: Settings) -> list[str]:
    """A snapshot's rewrite for an erasure killed between its new checksum and its rename
    (samskab/publish/erasure.py): the rewrite is whole (flushed before the checksum names it), so it is put in
    place; a checksum that still names the bytes a rewrite replaced names the rewrite alone again."""
    finished = []
    for snapshot in snapshots.listed(settings):
        digests = snapshots.checksums(snapshot.path)
        if len(digests) < 2:
            continue
        partial = snapshot.path.with_name(snapshot.path.name + ".erasing")
        if partial.is_file() and sha256_of(partial) == digests[0]:
            os.replace(partial, snapshot.path)
            fsync_directory(snapshot.path.parent)
            finished.append(snapshot.path.name)
        if sha256_of(snapshot.path) == digests[0]:
            snapshots.write_checksums(snapshot.path, digests[0])
    return finished


def remove_leftovers(settings: Settings) -> list[str]:
    """Remove what killed runs left (see `leftovers`); returns each removed name with its size."""
    removed = []
    for path in leftovers(settings):
        size = path.stat().st_size if path.exists() else 0
        path.unlink(missing_ok=True)
        removed.append(f"{path.name} ({size / 1e6:.1f} MB)")
    return removed


def recover_files(settings: Settings) -> list[str]:
    """What interrupted runs left in the published folder, put right; returns what was done, in words.
    Only while holding the refresh lock."""
    done = []
    recovered = recover_interrupted_rollback(settings)
    if recovered is not None:
        done.append(recovered.message)
    finished = finish_erasure_renames(settings)
    if finished:
        done.append("Put in place the rewrites an interrupted erasure had checksummed: " + ", ".join(finished))
    removed = remove_leftovers(settings)
    if removed:
        done.append("Removed files an interrupted run left in the published folder: " + ", ".join(removed))
    read_files = [settings.published_path, settings.previous_path, *(kept.path for kept in snapshots.listed(settings))]
    spilled = spill.remove_abandoned(settings, read_files)
    if spilled:
        done.append("Removed what killed readers spilled to disk: " + ", ".join(spilled))
    unchecked = snapshots.checksum_unchecked(settings)
    if unchecked:
        done.append(f"Kept the checksums of {len(unchecked)} snapshots kept before snapshots had checksums.")
    run = published_run(settings.published_path)
    kept = snapshots.keep_published_if_missing(settings, run[0]) if run else None
    if kept is not None:
        done.append(
            f"The published file (run {run[0]}) had no dated snapshot (it was published before snapshots were kept, "
            f"or its run was interrupted after publishing): kept it now as the {kept.label}."
        )
    return done


# --- A rollback holds until the inputs change ---------------------------------------------------------


def write_hold(settings: Settings, inputs_fingerprint: str, rolled_back_to: str, rolled_away: str) -> None:
    """After a rollback: the next refresh must not publish the rolled-away inputs again unless they change
    (or it is forced). Holds the digest of the inputs as they were at the rollback."""
    record = {
        "rolled_back_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs_fingerprint": inputs_fingerprint,
        "rolled_back_to": rolled_back_to,
        "rolled_away": rolled_away,
    }
    target = settings.rollback_hold_path
    # `.tmp`: a name the next run's clean-up of the published folder removes if a kill leaves it
    write_atomically(target, json.dumps(record, indent=2) + "\n", partial=target.with_name(target.name + ".tmp"))


def read_hold(settings: Settings) -> dict | None:
    try:
        return json.loads(settings.rollback_hold_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clear_hold(settings: Settings) -> None:
    settings.rollback_hold_path.unlink(missing_ok=True)


def row_changes(now: dict[str, int], before: dict[str, int] | None) -> list[dict]:
    """Rows per published table beside the file published before, in words ("+12 (+4.8%)", "new table")."""
    rows = []
    for table, n in now.items():
        previous = None if before is None else before.get(table)
        if previous is None:
            change = "first publish" if before is None else "new table"
        else:
            change = f"{n - previous:+,}" + (f" ({(n - previous) / previous:+.1%})" if previous else "")
        rows.append({"table": table, "rows": n, "rows before": "" if previous is None else previous, "change": change})
    for table in sorted(set(before or {}) - set(now)):
        rows.append({"table": table, "rows": 0, "rows before": before[table], "change": "no longer published"})
    return rows


def lift_hold(settings: Settings) -> str | None:
    """End a rollback's hold on this publish; returns what it ended, in words for the log (None: no hold)."""
    hold = read_hold(settings)
    if hold is None:
        return None
    clear_hold(settings)
    return (
        f"This publish ends the rollback of {hold.get('rolled_back_at')} (to {hold.get('rolled_back_to')}): the "
        "inputs changed, or the refresh was forced. The file rolled back to is now the previous snapshot."
    )
