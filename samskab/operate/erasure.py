"""`samskab erase`: a person erased everywhere the platform keeps them, under the refresh lock.

In order: the person is found in raw by pseudonyms (samskab/ingest/erasure.py), put on the suppression list
and removed from raw in one transaction; then the published file, the one kept for a rollback and every
snapshot are rewritten without them (samskab/publish/erasure.py). The command then runs the refresh with
--force, so the published file is built again from raw (its aggregates without the person) and documented
again. A dry run finds and counts, and changes nothing. What is printed names the person by pseudonyms only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from samskab.common.settings import Settings
from samskab.ingest import erasure as raw_erasure
from samskab.ingest.deliveries import open_warehouse
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.operate.locking import refresh_lock
from samskab.publish import erasure as published_erasure


@dataclass
class Outcome:
    found: raw_erasure.Found
    erasure_id: str | None = None  # None: a dry run, or nobody found
    files: dict[Path, dict[str, int]] = field(default_factory=dict)  # published-zone file -> rows


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
            outcome.files = {
                path: published_erasure.count(path, pseudonyms) for path in published_erasure.published_files(settings)
            }
            if dry_run or not (found.n_rows or any(outcome.files.values())):
                return outcome
            outcome.erasure_id, outcome.found = raw_erasure.erase(connection, person, pseudonymise, found)
        finally:
            connection.close()
        raw_erasure.compact_warehouse(settings.warehouse_path)
        for path, rows in outcome.files.items():
            if rows:
                published_erasure.rewrite(path, pseudonyms, outcome.erasure_id, rows)
                published_erasure.forget_drawn_reports(settings, path)
    return outcome


def compact(settings: Settings) -> None:
    """After the refresh that built the file again: the warehouse written anew, so no freed block keeps the
    person's rows of the marts it rebuilt (samskab/ingest/erasure.py)."""
    with refresh_lock(settings.lock_path):
        raw_erasure.compact_warehouse(settings.warehouse_path)


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
