"""Publish: atomic swap, readers undisturbed, previous snapshot kept, DuckDB 1.2 can read the file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from flows.locking import RefreshAlreadyRunning, refresh_lock
from flows.publish import build_candidate, rollback, swap_in
from flows.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
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
    ]


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
