"""Snapshots: every file that becomes the published one is also kept, dated and read-only.

A figure in a report can then be reproduced months later: `samskab sql --as-of 2026-11-20 "..."` reads
the file analysts had on that day. A snapshot is kept when a publish swaps a file in, and when a rollback
puts an older one back (then the older file is what analysts read from that day on).

Names carry the moment the file became the published one, in Danish time (the study's and the nightly
schedule's clock), and the first 8 characters of the run that built it:
`published/snapshots/2026-11-20_023114_52bad03e.duckdb`. The file itself names its run in `meta.runs`.
Snapshots older than `snapshot_retention_days` nights are removed when a new one is kept; the newest is
never removed. Each snapshot has its sha256 beside it (`<name>.sha256`, written as it is kept): a snapshot
read for `--as-of` is verified first, and one that was changed since it was kept is refused, so no
edited file is ever served under its original run's name.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from samskab.common.atomic_files import fsync_directory, write_atomically
from samskab.common.hashing import sha256_of
from samskab.common.settings import Settings

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{6})_([0-9A-Za-z-]{1,8})\.duckdb$")
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


class NoSnapshot(LookupError):
    """No snapshot answers the question; the message says which snapshots there are."""


class SnapshotChanged(NoSnapshot):
    """The snapshot's bytes are not those kept: it is not read."""


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_checksums(path: Path, *digests: str) -> None:
    """The checksum file of snapshot `path`: one sha256, or, while an erasure's rewrite of it is being put in
    place (samskab/publish/erasure.py), the rewrite's first and the bytes it replaces second, so the
    snapshot verifies before the rename and after it."""
    write_atomically(checksum_path(path), "".join(f"{digest}  {path.name}\n" for digest in digests))


def checksums(path: Path) -> list[str]:
    """The sha256 digests the checksum file of snapshot `path` accepts (none when it has none)."""
    kept = checksum_path(path)
    if not kept.is_file():
        return []
    return [line.split()[0] for line in kept.read_text(encoding="ascii").splitlines() if line.strip()]


def verify(snapshot: Snapshot) -> None:
    """Raise SnapshotChanged when the snapshot's file is not the one kept (its sha256 differs, or is gone)."""
    kept = checksum_path(snapshot.path)
    expected = checksums(snapshot.path)
    if not expected or sha256_of(snapshot.path) not in expected:
        why = "its checksum does not match" if expected else "its checksum is missing"
        raise SnapshotChanged(
            f"The {snapshot.label} was changed since it was kept ({why}: {kept.name}), so it is not read: a figure "
            "from it could not be traced to the run that built it. Restore it from a backup, or read another day."
        )


@dataclass(frozen=True)
class Snapshot:
    path: Path
    published_at: datetime  # aware, Danish time
    run_prefix: str

    @property
    def published_on(self) -> date:
        return self.published_at.date()

    @property
    def label(self) -> str:
        return f"snapshot of {self.published_at:%Y-%m-%d %H:%M} (Danish time)"


def snapshot_name(published_at: datetime, run_id: str) -> str:
    local = published_at.astimezone(DANISH_TIME)
    return f"{local:%Y-%m-%d_%H%M%S}_{run_id.replace('-', '')[:8]}.duckdb"


def _parse(path: Path) -> Snapshot | None:
    match = _NAME.match(path.name)
    if not match:
        return None
    moment = datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H%M%S").replace(tzinfo=DANISH_TIME)
    return Snapshot(path=path, published_at=moment, run_prefix=match[3])


def listed(settings: Settings) -> list[Snapshot]:
    """Every kept snapshot, oldest first."""
    folder = settings.snapshots_dir
    if not folder.is_dir():
        return []
    found = [snapshot for path in folder.iterdir() if (snapshot := _parse(path)) is not None]
    return sorted(found, key=lambda snapshot: (snapshot.published_at, snapshot.path.name))


@dataclass(frozen=True)
class Prepared:
    """A snapshot copied and flushed under a temporary name, not yet kept (see `prepare`)."""

    partial: Path
    final: Path
    published_at: datetime


def prepare(settings: Settings, source: Path, run_id: str, published_at: datetime) -> Prepared:
    """Copy `source` (a complete, checkpointed file) beside the snapshots under a temporary name, flushed
    to disk and read-only. `commit` gives it its snapshot name once the file is published; a kill before
    that leaves only the temporary name, which the next run's clean-up removes, so no snapshot ever holds
    a file that was not published."""
    folder = settings.snapshots_dir
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / snapshot_name(published_at, run_id)
    partial = folder / (final.name + ".tmp")
    partial.unlink(missing_ok=True)
    shutil.copyfile(source, partial)
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.chmod(READ_ONLY)
    # The checksum first: a snapshot name never exists without it (a stray one is removed with its file).
    write_checksums(final, sha256_of(partial))
    return Prepared(partial, final, published_at)


def commit(settings: Settings, prepared: Prepared) -> Snapshot:
    """Give a prepared snapshot its name (one rename), then remove snapshots past the retention."""
    os.replace(prepared.partial, prepared.final)
    fsync_directory(prepared.final.parent)
    prune(settings, prepared.published_at)
    return _parse(prepared.final)


def keep(settings: Settings, source: Path, run_id: str, published_at: datetime) -> Snapshot:
    """Keep `source`, already the published file, as the snapshot of `published_at`."""
    return commit(settings, prepare(settings, source, run_id, published_at))


def keep_published_if_missing(settings: Settings, run_id: str) -> Snapshot | None:
    """A publish killed between its swap and its snapshot's rename leaves the published file without a
    snapshot: keep one now (dated now, a little after the file was published). None when none was missing."""
    if not settings.published_path.is_file() or for_run(settings, run_id) is not None:
        return None
    return keep(settings, settings.published_path, run_id, datetime.now(DANISH_TIME))


def checksum_unchecked(settings: Settings) -> list[Snapshot]:
    """Give every snapshot kept before snapshots had checksums its checksum now (trusting it as it is).
    Returns those. Only while holding the refresh lock."""
    done = []
    for snapshot in listed(settings):
        if not checksum_path(snapshot.path).is_file():
            write_checksums(snapshot.path, sha256_of(snapshot.path))
            done.append(snapshot)
    return done


def prune(settings: Settings, now: datetime) -> list[Path]:
    """Remove snapshots published more than `snapshot_retention_days` nights before `now`; keep the newest."""
    removed = []
    for snapshot in past_retention(listed(settings), now, settings.snapshot_retention_days):
        snapshot.path.unlink(missing_ok=True)
        checksum_path(snapshot.path).unlink(missing_ok=True)
        removed.append(snapshot.path)
    return removed


def discard(prepared: Prepared) -> None:
    """Remove a prepared snapshot whose file never became the published one (its swap failed)."""
    prepared.partial.unlink(missing_ok=True)
    checksum_path(prepared.final).unlink(missing_ok=True)


def last_on_or_before(kept: list[Snapshot], day: date) -> Snapshot | None:
    """Of snapshots oldest first, the one analysts read at the end of `day` (Danish time), if any."""
    earlier = [snapshot for snapshot in kept if snapshot.published_on <= day]
    return earlier[-1] if earlier else None


def past_retention(kept: list[Snapshot], now: datetime, nights: int) -> list[Snapshot]:
    """Of snapshots oldest first, those published more than `nights` nights before `now`; never the newest."""
    cutoff = now.astimezone(DANISH_TIME).date() - timedelta(days=nights)
    return [snapshot for snapshot in kept[:-1] if snapshot.published_on < cutoff]


def as_of(settings: Settings, day: date) -> Snapshot:
    """The file analysts read at the end of `day` (Danish time): the last snapshot kept on or before it."""
    kept = listed(settings)
    found = last_on_or_before(kept, day)
    if found is not None:
        return found
    if not kept:
        raise NoSnapshot(
            "No snapshots are kept yet: each publish keeps one from now on (published/snapshots in the data lake)."
        )
    raise NoSnapshot(
        f"No snapshot was published on or before {day:%Y-%m-%d}: the oldest kept is of "
        f"{kept[0].published_at:%Y-%m-%d %H:%M}. Snapshots are kept {settings.snapshot_retention_days} nights "
        "(SAMSKAB_SNAPSHOT_RETENTION_DAYS)."
    )


def for_run(settings: Settings, run_id: str) -> Snapshot | None:
    """The newest snapshot of the file built by `run_id` (the published file's own snapshot)."""
    prefix = run_id.replace("-", "")[:8]
    matching = [snapshot for snapshot in listed(settings) if snapshot.run_prefix == prefix]
    return matching[-1] if matching else None
