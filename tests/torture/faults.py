"""What the fault tests share: a refresh (or another command) started in a process of its own that meets
a fault at a named point of its work (samskab/common/stop_points.py), and what must hold afterwards.

- `kill_command_at`: the process stops itself at the point and its whole process group is killed there;
- `run_limited_at`: from the point on, the process may not grow a file past 1 MB or its memory at all,
  and runs to its end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from samskab.common import stop_points
from tests.lakes import NEW_DELIVERY_KEY, copy_lake, deliver_new, start_samskab

# Where the kill lands before the flow has read anything, or in dbt's work, the run is forced (`--force`):
# the command then leaves the registry and the landing zone to the flow (unforced, it looks at both before
# Prefect starts), and dbt builds every node. Every other point is reached by a run with a new delivery to
# read (ingest reads only deliveries that changed; it is not the embedded sample, so the run needs a
# pseudonym key of its own), which builds what reads it.
FORCED_POINTS = {"registry fetch", "landing survey", "dbt start", "dbt middle", "dbt end"}


def delivers(point: str) -> bool:
    """Whether the run killed at `point` is given a new delivery (else it is forced)."""
    return point not in FORCED_POINTS


def refresh_arguments(point: str) -> tuple[str, ...]:
    return ("refresh",) if delivers(point) else ("refresh", "--force")


KEY = NEW_DELIVERY_KEY  # the pseudonym key of a run given the new delivery
# How long a run may take to reach its point, or to end (a whole refresh on a busy machine is well within).
REACH_SECONDS = 600


def assert_whole(published: Path) -> None:
    """The file opens read-only, names one run, and holds the rows its meta says; nothing beside it."""
    assert not published.with_name(published.name + ".wal").exists(), "a write-ahead log beside the published file"
    with duckdb.connect(str(published), read_only=True) as connection:
        assert len(connection.execute("select run_id from meta.runs").fetchall()) == 1
        recorded = dict(connection.execute("select table_name, n_rows from meta.row_counts").fetchall())
        assert recorded, "meta.row_counts is empty"
        held = {table: connection.execute(f'select count(*) from main."{table}"').fetchone()[0] for table in recorded}
    assert held == recorded


def assert_snapshots_match_their_checksums(settings) -> None:
    from samskab.publish import snapshots

    for snapshot in snapshots.listed(settings):
        if snapshots.checksum_path(snapshot.path).exists():
            snapshots.verify(snapshot)


def prepared_lake(refreshed_lake, root: Path, point: str) -> Path:
    """A copy of the refreshed lake, with a new delivery unless the point is reached by a forced run."""
    lake = copy_lake(refreshed_lake[0], root)
    if delivers(point):
        deliver_new(lake)
    return lake


def _start(
    lake: Path, point: str, arguments: tuple[str, ...], limit: str | None
) -> tuple[subprocess.Popen, Path, Path]:
    """`samskab ARGUMENTS` (a refresh by default) on `lake`, told to meet its fault at `point`; returns the
    process, the file it writes when it reaches the point, and the file of its output."""
    from prefect.settings import PREFECT_API_URL

    said = lake.parent / "stopped-at.txt"
    said.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SAMSKAB_DATA_LAKE": str(lake),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        stop_points.STOP_AT: point,
        stop_points.STOP_LOG: str(said),
        **({stop_points.LIMIT: limit} if limit else {}),
        **({"SAMSKAB_PSEUDONYM_KEY": KEY} if delivers(point) else {}),
    }
    output = lake.parent / "faulted-run.out"
    process = start_samskab(list(arguments or ("refresh",)), env, output)
    return process, said, output


def _reached(said: Path) -> list[str]:
    return said.read_text(encoding="utf-8").split() if said.is_file() else []


def kill_command_at(lake: Path, point: str, *arguments: str) -> None:
    """Start `samskab refresh` (or another command) on `lake`, wait until it reaches `point`, kill its
    process group there."""
    process, said, output = _start(lake, point, arguments, None)
    try:
        deadline = time.monotonic() + REACH_SECONDS
        while not _reached(said):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the run never reached {point!r} (exit {process.returncode}):\n"
                    + output.read_text(encoding="utf-8", errors="replace")[-3000:]
                )
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):  # (ended by itself: the failure above says how)
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert " ".join(_reached(said)[:-1]) == point


def run_limited_at(lake: Path, point: str, limit: str, *arguments: str) -> tuple[int, str]:
    """Run `samskab refresh` (or another command) on `lake` to its end, limited from `point` on (a full
    disk or no memory: stop_points.FILE_SIZE or MEMORY); returns its exit code and what it printed."""
    process, said, output = _start(lake, point, arguments, limit)
    try:
        code = process.wait(timeout=REACH_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"the run limited at {point!r} did not end within {REACH_SECONDS} s (a hang)")
    printed = output.read_text(encoding="utf-8", errors="replace")
    assert " ".join(_reached(said)[:-2]) == point and _reached(said)[-1] == "limited", printed[-3000:]
    return code, printed
