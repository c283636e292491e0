"""`samskab erase`: a person erased everywhere the platform keeps them, under the refresh lock.

In order: the person is found in raw by pseudonyms (samskab/ingest/erasure.py), put on the suppression list
and removed from raw in one transaction; then the published file, the one kept for a rollback and every
snapshot are rewritten without them (samskab/publish/erasure.py). The command then runs the refresh with
--force, so the published file is built again from raw (its aggregates without the person) and documented
again. A dry run finds and counts, and changes nothing. What is printed names the person by pseudonyms only.

An erasure is a run of the run journal (kind `erase`), opened before raw is touched and closed once the file
is built again and the warehouse compacted. One that was killed (`finish_interrupted`) is finished by the
next refresh: every step above is idempotent, so it rewrites whatever file of the published zone still
names anyone on the suppression list, compacts the warehouse, and builds the published file again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from samskab.common.settings import Settings
from samskab.ingest import erasure as raw_erasure
from samskab.ingest.deliveries import open_warehouse
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.operate import run_journal
from samskab.operate.locking import refresh_lock
from samskab.publish import erasure as published_erasure


@dataclass
class Outcome:
    found: raw_erasure.Found
    erasure_id: str | None = None  # None: a dry run, or nobody found
    files: dict[Path, dict[str, int]] = field(default_factory=dict)  # published-zone file -> rows
    entry: run_journal.RunEntry | None = None  # the erasure's record in the run journal, until it is closed


def run(settings: Settings, person: raw_erasure.Person, pseudonymise: Pseudonymiser, dry_run: bool) -> Outcome:
    """Erase the person (or, dry, count what would go). Holds the refresh lock throughout."""
    with refresh_lock(settings.lock_path):
        connection = open_warehouse(settings)
        try:
            raw_erasure.ensure_privacy_schema(connection)
            found = raw_erasure.find(connection, person)
            outcome = Outcome(found)
            pseudonyms = found.every_pseudonym
            # what each published-zone file holds of them, read once: the dry run's answer, the rewrite's plan
            outcome.files = _held(settings, pseudonyms)
            if dry_run or not (found.n_rows or any(outcome.files.values())):
                return outcome
            run_id = datetime.now(UTC).strftime("erase-%Y%m%dT%H%M%S")
            outcome.entry = run_journal.open_run(settings, run_id, run_journal.ERASE)
            outcome.erasure_id, outcome.found = raw_erasure.erase(connection, person, pseudonymise, found)
        finally:
            connection.close()
        _rewrite_without(settings, pseudonyms, outcome.erasure_id, outcome.files)
    return outcome


def _held(settings: Settings, pseudonyms: set[str]) -> dict[Path, dict[str, int]]:
    """The rows of the people each file of the published zone holds (table -> rows), by file."""
    return {path: published_erasure.count(path, pseudonyms) for path in published_erasure.published_files(settings)}


def _rewrite_without(
    settings: Settings, pseudonyms: set[str], erasure_id: str, files: dict[Path, dict[str, int]]
) -> list[Path]:
    """After their raw rows went: the warehouse compacted, and each file of the published zone that holds them
    rewritten without them (its drawn reports forgotten). Returns the files rewritten."""
    raw_erasure.compact_warehouse(settings.warehouse_path)
    rewritten = []
    for path, rows in files.items():
        if rows:
            published_erasure.rewrite(path, pseudonyms, erasure_id, rows)
            published_erasure.forget_drawn_reports(settings, path)
            rewritten.append(path)
    return rewritten


def compact(settings: Settings) -> None:
    """After the refresh that built the file again: the warehouse written anew, so no freed block keeps the
    person's rows of the marts it rebuilt (samskab/ingest/erasure.py)."""
    with refresh_lock(settings.lock_path):
        raw_erasure.compact_warehouse(settings.warehouse_path)


def forget_history(settings: Settings) -> list[str]:
    """The shared history, if configured, keeps only the file built without the person (DuckLake cannot
    rewrite its older snapshots: samskab/publish/history.py). What was done, in words."""
    from samskab.publish import history
    from samskab.publish.swap import published_run

    if not history.configured(settings) or not settings.warehouse_path.is_file():
        return []
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        done = raw_erasure.erasures(connection)
    if not done:
        return []
    last_erasure = done[-1][1].replace(tzinfo=UTC)
    try:
        if not any(kept.published_at < last_erasure for kept in history.listed(settings)):
            return []  # nothing in the history predates the last erasure
    except history.HistoryUnavailable as error:
        return [f"{error} THE SHARED HISTORY MAY STILL HOLD THE PERSON: run the same `samskab erase` command again."]
    run = published_run(settings.published_path)
    try:
        with refresh_lock(settings.lock_path):
            expired = history.forget_all_but_newest(settings, settings.published_path, run[0])
    except history.HistoryUnavailable as error:
        return [
            f"{error} THE SHARED HISTORY STILL HOLDS THE PERSON in its older snapshots: run the same "
            "`samskab erase` command again once the catalog answers."
        ]
    return [
        f"The shared history keeps only the file built without them: {expired} older snapshots expired and "
        "their files deleted (DuckLake cannot rewrite a snapshot)."
    ]


def close(settings: Settings, outcome: Outcome, refresh_code: int) -> None:
    """The erasure's record closed, once the refresh after it ended and the warehouse was compacted."""
    if outcome.entry is None:
        return
    built = (
        "the published file was built again without them"
        if refresh_code == 0
        else (
            f"the refresh after it ended with exit code {refresh_code}: the published zone was rewritten without them, "
            "and the next refresh builds the file again"
        )
    )
    run_journal.close_run(settings, outcome.entry, run_journal.ERASED, f"Erasure {outcome.erasure_id}: {built}.")


def _erased_since(settings: Settings, started_at: str) -> tuple[list[str], set[str]]:
    """The erasures recorded since `started_at` (ISO time, UTC), and every pseudonym they put on the
    suppression list."""
    if not settings.warehouse_path.is_file():
        return [], set()
    since = datetime.fromisoformat(started_at).astimezone(UTC).replace(tzinfo=None)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        has = connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'privacy' and table_name = 'erasures'"
        ).fetchone()[0]
        if not has:
            return [], set()
        rows = connection.execute(
            "select e.erasure_id, s.pseudonym from privacy.suppressed s join privacy.erasures e using (erasure_id) "
            "where e.erased_at >= ? order by e.erased_at",
            [since],
        ).fetchall()
    return list(dict.fromkeys(erasure_id for erasure_id, _ in rows)), {pseudonym for _, pseudonym in rows}


def finish_interrupted(settings: Settings, dead: run_journal.RunEntry) -> tuple[list[str], bool]:
    """An erasure killed before its end, found by a refresh holding the lock: its steps done again. Returns
    what was done, in words, and whether the published file must be built again (the person was erased
    from raw). Pseudonyms only: the warehouse's suppression list names the person, nothing else."""
    erasure_ids, pseudonyms = _erased_since(settings, dead.started_at)
    if not pseudonyms:
        return [
            f"An erasure started {dead.started_at} was stopped before it removed anyone from raw: nothing was "
            "erased. Run the same `samskab erase` command again."
        ], False
    rewritten = _rewrite_without(settings, pseudonyms, ", ".join(erasure_ids), _held(settings, pseudonyms))
    return [
        f"An erasure started {dead.started_at} was stopped before its end: finished it (the warehouse compacted, "
        f"{len(rewritten)} published-zone files rewritten without the person); this run builds the file again."
    ], True


def described(settings: Settings, outcome: Outcome, dry_run: bool) -> list[str]:
    """What the researcher is told: by pseudonyms and counts, never by name."""
    found = outcome.found
    who = ", ".join(
        f"{kind} {', '.join(sorted(values))}" for kind, values in sorted(found.pseudonyms.items()) if values
    )
    lines = [f"The {found.person.kind}: {who or 'no pseudonym matched'}."]
    verb = "would be removed" if dry_run else "removed"
    if found.rows:
        lines.append(
            f"Raw layer: {found.n_rows:,} rows {verb} ("
            + ", ".join(f"{table} {n:,}" for table, n in found.rows.items())
            + ")."
        )
    else:
        lines.append("Raw layer: no rows of this person.")
    for path, rows in outcome.files.items():
        name = path.relative_to(settings.data_lake).as_posix()
        if rows:
            lines.append(
                f"{name}: {sum(rows.values()):,} rows {verb if dry_run else 'removed; rewritten'} ("
                + ", ".join(f"{table} {n:,}" for table, n in rows.items())
                + ")."
            )
    if not any(outcome.files.values()):
        lines.append(f"Published file and snapshots: no rows of this person ({len(outcome.files)} files read).")
    return lines
