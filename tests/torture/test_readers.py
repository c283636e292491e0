"""Analysts read while the platform publishes: reader processes loop on the published file through
repeated publishes and a rollback, and every query must succeed and read one whole snapshot.

Three kinds of reader run side by side (tests/torture/readers.py): a connection held open for the whole
test, a fresh connection for every query, and a `samskab sql` process for every query (whose footer must
name the run its answer came from). The writer publishes as the nightly refresh's last stage does (a
candidate copied from the warehouse's marts, its `meta` written, the dated snapshot kept, one rename over
the published file), each time with a mart one row shorter, so two files never hold the same rows; then
rolls back. After each publish the test waits until every fresh reader has read the new file, so each of
them provably read every file; the held reader reads the file it opened, throughout.

`make test` publishes twice; `make torture` six times and once more by a whole forced refresh.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.lakes import REPO, copy_lake, using_lake
from tests.torture import readers, tally

pytestmark = pytest.mark.end_to_end

TORTURE = bool(os.environ.get("SAMSKAB_TORTURE"))
PUBLISHES = 6 if TORTURE else 2
SHORTENED = "survey_answers_labelled"  # the mart each publish takes a row from
SEE_SECONDS = 180  # how long a reader may take to read a new file (a `samskab sql` process on a busy machine)


def publish_again(settings, n: int) -> str:
    """A new publish through the platform's own publish functions: the warehouse's marts with one row
    fewer in one of them, the published file's meta with a new run and the new row counts."""
    from samskab.publish import swap as publish

    run_id = f"reader-test-{n}-{uuid.uuid4().hex[:8]}"
    with duckdb.connect(str(settings.warehouse_path)) as warehouse:
        warehouse.execute(
            f'delete from marts."{SHORTENED}" where rowid in (select rowid from marts."{SHORTENED}" limit 1)'
        )
    with duckdb.connect(str(settings.published_path), read_only=True) as published:
        names = [
            row[0]
            for row in published.execute("select table_name from duckdb_tables() where schema_name = 'meta'").fetchall()
        ]
        meta = {name: published.execute(f"select * from meta.{name}").df() for name in names}
    candidate = publish.build_candidate(settings, run_id)
    meta["runs"] = meta["runs"].assign(run_id=run_id, finished_at=pd.Timestamp(datetime.now(UTC).replace(tzinfo=None)))
    meta["row_counts"] = pd.DataFrame(list(candidate.row_counts.items()), columns=["table_name", "n_rows"])
    publish.write_meta(candidate.path, meta)
    publish.swap_in(settings, candidate)
    return run_id


def last_run_read(log: Path) -> str | None:
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return lines[-1].split()[1] if lines else None


def wait_until_read(logs: dict[str, Path], run_id: str, processes: dict[str, subprocess.Popen]) -> None:
    """Every fresh reader's latest query read `run_id` (each opens the file anew, so it reads the newest)."""
    deadline = time.monotonic() + SEE_SECONDS
    waiting = set(logs)
    while waiting:
        for kind in list(waiting):
            if last_run_read(logs[kind]) == run_id:
                waiting.discard(kind)
            elif processes[kind].poll() is not None:
                pytest.fail(f"the {kind} reader ended (exit {processes[kind].returncode})")
        if waiting and time.monotonic() > deadline:
            pytest.fail(f"readers {sorted(waiting)} never read run {run_id} within {SEE_SECONDS} s")
        time.sleep(0.05)


def test_readers_read_one_whole_file_through_publishes_and_a_rollback(refreshed_lake, tmp_path):
    from samskab.publish import swap as publish

    lake = copy_lake(refreshed_lake[0], tmp_path)
    stop = tmp_path / "stop"
    logs = {kind: tmp_path / f"{kind}.log" for kind in readers.KINDS}
    processes = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "tests.torture.readers", kind, str(lake), str(logs[kind]), str(stop)],
            cwd=REPO,
            env={**os.environ, "SAMSKAB_DATA_LAKE": str(lake)},
        )
        for kind in readers.KINDS
    }
    fresh = {kind: logs[kind] for kind in (readers.FRESH, readers.SQL)}
    published_runs = []
    try:
        with using_lake(lake) as settings:
            first = publish.published_run(settings.published_path)[0]
            wait_until_read(fresh, first, processes)
            for n in range(PUBLISHES):
                published_runs.append(publish_again(settings, n))
                wait_until_read(fresh, published_runs[-1], processes)
            if TORTURE:  # and once by the whole nightly refresh, forced
                from flows.nightly_refresh import nightly_refresh

                nightly_refresh(force=True)
                published_runs.append(publish.published_run(settings.published_path)[0])
                wait_until_read(fresh, published_runs[-1], processes)
            outcome = publish.rollback(settings)
            assert outcome.changed, outcome.message
            wait_until_read(fresh, published_runs[-2], processes)
    finally:
        stop.touch()
        for process in processes.values():
            process.wait(timeout=120)

    said = {kind: log.read_text(encoding="utf-8").splitlines() for kind, log in logs.items()}
    for kind, lines in said.items():
        failed = [line for line in lines if not line.startswith("ok ")]
        tally.record("readers against the writer", kind, "ok", n=len(lines) - len(failed))
        tally.record("readers against the writer", kind, "failed", n=len(failed))
        assert not failed, f"{kind} reader: {len(failed)} of {len(lines)} queries failed, first: {failed[0]}"
        runs = {line.split()[1] for line in lines}
        if kind == readers.HELD:
            assert runs == {first}, "the held connection read another file than the one it opened"
        else:
            assert {first, *published_runs} <= runs, f"the {kind} reader missed a publish"
            assert runs <= {first, *published_runs}, f"the {kind} reader read a file nobody published"
    assert len(said[readers.HELD]) > 100 and len(said[readers.FRESH]) > 10
