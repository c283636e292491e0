"""A reader killed while spilling to disk leaves nothing that stops the next publish (issue 22, defect 1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb

from samskab.analysts.source import resolve
from samskab.common import spill
from samskab.common.settings import Settings
from samskab.publish.swap import build_candidate, recover_files, swap_in
from tests.lakes import REPO

# A reader of the published file through the analysts' connection, given a small memory limit so that a
# sort spills (the sandboxed connection locks its configuration; this one is opened for the test).
SPILLING_READER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from samskab.analysts.source import connect, resolve
    from samskab.common.settings import Settings
    _, connection = connect(resolve(Settings(data_lake=Path(sys.argv[1]))), sandboxed=False)
    connection.execute("set memory_limit = '20MB'")
    connection.execute("set threads = 1")
    connection.execute("select * from big order by text desc").fetchall()
    """
)


def publish_big_file(settings: Settings, run: str) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(
            "create or replace table marts.big as select range as i, md5(range::varchar) as text from range(1200000)"
        )
    swap_in(settings, build_candidate(settings, run))


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the reader never spilled"
        time.sleep(0.05)


def test_a_reader_killed_while_spilling_leaves_nothing_beside_the_published_file(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_big_file(settings, "run1")
    reader = subprocess.Popen(
        [sys.executable, "-c", SPILLING_READER, str(tmp_path)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    folder = settings.spill_dir / f"reader-{reader.pid}"
    try:
        wait_for(lambda: folder.is_dir() and any(folder.iterdir()))  # the reader's own signal: it spills
    finally:
        reader.send_signal(signal.SIGKILL)
        reader.wait()
    assert not list(settings.published_dir.glob("*.tmp")), "a reader spilled beside the published file"
    done = recover_files(settings)
    assert any(f"Removed what killed readers spilled to disk: reader-{reader.pid}/ (" in line for line in done)
    assert not folder.exists()
    publish_big_file(settings, "run2")  # the next publish is not stopped


def test_what_another_client_spilled_beside_the_published_file_is_removed_and_the_next_publish_runs(tmp_path):
    """DuckDB's default spill folder `<file>.tmp/` (another client, or the platform before the fix): once a
    folder there made every refresh fail with IsADirectoryError."""
    settings = Settings(data_lake=tmp_path)
    publish_big_file(settings, "run1")
    beside = settings.published_dir / "analytics.duckdb.tmp"
    beside.mkdir()
    (beside / "duckdb_temp_storage_DEFAULT-0.tmp").write_bytes(b"\0" * 4096)
    done = recover_files(settings)
    assert "Removed what killed readers spilled to disk: analytics.duckdb.tmp/ (0.0 MB)" in done
    assert not beside.exists()
    publish_big_file(settings, "run2")


def test_a_living_readers_spill_folder_is_kept(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_big_file(settings, "run1")
    source = resolve(settings)
    assert source.spill_dir == settings.spill_dir / f"reader-{os.getpid()}"
    mine = spill.usable(source.spill_dir)
    mine.mkdir()
    beside = settings.published_dir / "analytics.duckdb.tmp"  # another client's, with a file held open
    beside.mkdir()
    with (beside / "held.tmp").open("wb"):
        assert recover_files(settings) == []
    assert mine.is_dir() and beside.is_dir()
