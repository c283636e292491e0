"""Publish: atomic swap, readers undisturbed, previous snapshot kept, DuckDB 1.2 can read the file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from samskab.common.settings import Settings
from samskab.operate.locking import RefreshAlreadyRunning, refresh_lock
from samskab.publish.swap import build_candidate, published_run, rollback, swap_in
from tests.lakes import REPO

ROOT = REPO
COMPAT_PYTHON = ROOT / ".venv-duckdb-1.2" / "bin" / "python"


def make_warehouse(settings: Settings, version: int) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(settings.warehouse_path))
    try:
        connection.execute("create schema if not exists marts")
        connection.execute(
            f"create or replace table marts.municipality_profile as "
            f"select range as municipality_code, {version} as version from range(98)"
        )
    finally:
        connection.close()


def publish_version(settings: Settings, version: int) -> None:
    make_warehouse(settings, version)
    swap_in(settings, build_candidate(settings, f"run{version}"))


def read_version(path: Path) -> int:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return connection.execute("select max(version) from municipality_profile").fetchall()[0][0]
    finally:
        connection.close()


def test_swap_publishes_new_snapshot_and_keeps_previous(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 1)
    publish_version(settings, 2)
    assert read_version(settings.published_path) == 2
    assert read_version(settings.previous_path) == 1
    assert sorted(path.name for path in settings.published_dir.iterdir()) == [
        "analytics.duckdb",
        "analytics.previous.duckdb",
        "snapshots",  # one dated read-only copy per publish (tests/publish/test_snapshots.py)
    ]
    assert len(list(settings.snapshots_dir.glob("*.duckdb"))) == 2  # each with its .sha256


def test_rollback_restores_previous_snapshot(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 1)
    publish_version(settings, 2)
    rollback(settings)
    assert read_version(settings.published_path) == 1
    assert read_version(settings.previous_path) == 2


def test_reader_open_during_swap_keeps_its_snapshot_and_new_reader_sees_new_one(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 1)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, duckdb
            connection = duckdb.connect({str(settings.published_path)!r}, read_only=True)
            print(connection.execute("select max(version) from municipality_profile").fetchall()[0][0], flush=True)
            sys.stdin.readline()  # stay open, mid-session, while the refresh swaps the file
            row = connection.execute("select max(version), count(*) from municipality_profile").fetchall()[0]
            print(row, flush=True)
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"
        publish_version(settings, 2)  # the analyst's open read-only session does not block the refresh
        out, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert out.strip() == "(1, 98)"
    assert reader.returncode == 0
    assert (
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import duckdb, sys; connection = duckdb.connect(sys.argv[1], read_only=True); "
                "print(connection.execute('select max(version) from municipality_profile').fetchall()[0][0])",
                str(settings.published_path),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        == "2"
    )


def test_published_file_opens_in_duckdb_1_2(tmp_path):
    assert COMPAT_PYTHON.exists(), "make test installs DuckDB 1.2 into .venv-duckdb-1.2 for this test"
    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 3)
    result = subprocess.run(
        [
            str(COMPAT_PYTHON),
            "-c",
            "import duckdb, sys; connection = duckdb.connect(sys.argv[1], read_only=True); "
            "print(duckdb.__version__, connection.execute('select count(*) from municipality_profile').fetchall())",
            str(settings.published_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1.2.2", "[(98,)]"]


def test_second_refresh_exits_at_once_while_one_runs(tmp_path):
    lock = tmp_path / ".refresh.lock"
    with refresh_lock(lock), pytest.raises(RefreshAlreadyRunning, match="already running"), refresh_lock(lock):
        pass  # pragma: no cover - the second lock must not be granted
    with refresh_lock(lock):  # released again afterwards
        pass


# --- Rollback under kills: any state a kill leaves is recoverable ---------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL inside the rollback: nothing after the kill point runs, no cleanup either."""


def kill_after(monkeypatch, calls: int) -> None:
    """Let the rollback's first `calls` file-system renames and links happen, then kill it."""
    import samskab.publish.swap as publish

    done = []

    def counted(real):
        def call(*args, **kwargs):
            if len(done) == calls:
                raise Killed
            done.append(real.__name__)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(publish.os, "link", counted(os.link))
    monkeypatch.setattr(publish.os, "replace", counted(os.replace))


def names(settings: Settings) -> list[str]:
    """The files of the published folder (the dated snapshots live in its snapshots/ folder)."""
    return sorted(path.name for path in settings.published_dir.iterdir() if path.is_file())


# A rollback's renames and links, in order: its record (1), the newest file linked (2), the previous one
# renamed over the published name (3), the newest renamed to the previous name (4), the snapshot kept (5).
@pytest.mark.parametrize("kill_point", [0, 1, 2, 3, 4])
def test_an_interrupted_rollback_retried_never_loses_the_newest_snapshot(tmp_path, monkeypatch, kill_point):
    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 1)
    publish_version(settings, 2)
    with monkeypatch.context() as patched:
        kill_after(patched, kill_point)
        with pytest.raises(Killed):
            rollback(settings)
    # Whatever the kill left, the published name points at a whole file and version 2 still exists.
    versions = {read_version(path) for path in settings.published_dir.glob("*.duckdb")}
    assert versions == {1, 2} and read_version(settings.published_path) in (1, 2)

    retried = rollback(settings)  # the researcher runs it again
    assert retried.changed
    assert read_version(settings.published_path) == 1 and read_version(settings.previous_path) == 2
    assert names(settings) == ["analytics.duckdb", "analytics.previous.duckdb"]
    if kill_point == 3:  # the kill came after the published name changed: the retry finishes that rollback
        assert "interrupted half way and is now complete" in retried.message
    if kill_point == 4:  # after the last rename: the retry finishes it, and never swaps the files back
        assert "interrupted after its last rename and is now complete" in retried.message
    assert not rollback(settings).message.startswith("An earlier")  # nothing left to recover


def test_a_publish_killed_between_its_two_renames_can_still_be_rolled_back(tmp_path, monkeypatch):
    """The kill leaves both names on one file (the previous file is the published one); the rollback takes
    the newest snapshot of another run instead of saying there is nothing to roll back to."""
    from tests.lakes import publish_version as publish_run

    settings = Settings(data_lake=tmp_path)
    publish_run(settings, 1, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "run-1")
    publish_run(settings, 2, datetime(2026, 11, 21, 2, 0, tzinfo=UTC), "run-2")
    make_warehouse(settings, 3)
    candidate = build_candidate(settings, "run-3")
    with monkeypatch.context() as patched:
        kill_after(patched, 3)  # the checksum, the old file linked and renamed to the previous name; not the new one
        with pytest.raises(Killed):
            swap_in(settings, candidate)
    assert os.path.samefile(settings.published_path, settings.previous_path)
    outcome = rollback(settings)
    assert outcome.changed and "taken from the snapshot of" in outcome.message
    assert published_run(settings.published_path)[0] == "run-1"
    assert published_run(settings.previous_path)[0] == "run-2"


def test_a_publish_after_one_killed_between_its_two_renames_leaves_no_second_name(tmp_path, monkeypatch):
    """The next publish finds the previous name on the published file: that file becomes the previous one
    and nothing is left beside it (renaming its temporary second link over the previous name did nothing
    before: both are links to one file, and the link stayed; found by a kill test)."""
    from samskab.publish.swap import leftovers

    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 1)
    make_warehouse(settings, 2)
    candidate = build_candidate(settings, "run2")
    with monkeypatch.context() as patched:
        kill_after(patched, 3)  # the old file linked and renamed to the previous name; not the new one
        with pytest.raises(Killed):
            swap_in(settings, candidate)
    assert os.path.samefile(settings.published_path, settings.previous_path)
    publish_version(settings, 3)
    assert read_version(settings.published_path) == 3 and read_version(settings.previous_path) == 1
    assert [path.name for path in leftovers(settings)] == [".candidate-run2.duckdb"]  # the killed run's, as before


def test_an_interrupted_publish_leaves_leftovers_the_next_run_removes(tmp_path, monkeypatch):
    from samskab.publish.swap import candidate_path, recover_files

    settings = Settings(data_lake=tmp_path)
    publish_version(settings, 1)
    make_warehouse(settings, 2)
    candidate = build_candidate(settings, "run2")
    candidate.path.with_name(candidate.path.name + ".wal").write_bytes(b"\0" * 2048)  # as a kill leaves it
    with monkeypatch.context() as patched:
        kill_after(patched, 2)  # the snapshot's checksum, the old file linked under its temporary name: killed
        with pytest.raises(Killed):
            swap_in(settings, candidate)
    assert read_version(settings.published_path) == 1
    done = recover_files(settings)
    assert len(done) == 1 and ".candidate-run2.duckdb (" in done[0] and "analytics.previous.duckdb.tmp" in done[0]
    assert names(settings) == ["analytics.duckdb"] and not candidate_path(settings, "run2").exists()


def test_a_rollback_that_changes_nothing_says_so(tmp_path):
    settings = Settings(data_lake=tmp_path)
    nothing = rollback(settings)
    assert not nothing.changed and "no previous snapshot" in nothing.message
    publish_version(settings, 1)
    os.link(settings.published_path, settings.previous_path)  # both names on one file, as a kill can leave
    same = rollback(settings)
    assert not same.changed and "the previous snapshot is the file already published" in same.message


def test_an_empty_meta_table_keeps_its_text_columns_as_text(tmp_path):
    from samskab.publish.swap import write_meta

    path = tmp_path / "candidate.duckdb"
    duckdb.connect(str(path)).close()
    with duckdb.connect() as connection:  # what the lineage reads when nothing was rejected
        empty = connection.execute(
            "select 'survey/x.csv'::varchar as file, 3::bigint as line, now()::timestamp as rejected_at where false"
        ).df()
    write_meta(path, {"rejected_rows": empty})
    with duckdb.connect(str(path), read_only=True) as connection:
        types = connection.execute(
            "select column_name, data_type from duckdb_columns() "
            "where table_name = 'rejected_rows' order by column_index"
        ).fetchall()
    assert types == [("file", "VARCHAR"), ("line", "BIGINT"), ("rejected_at", "TIMESTAMP")]
