"""A disk without room: the refresh does not start, says why and sends a notice; `samskab status` warns;
a lock file that cannot be written is told in words, not a traceback (issue 22, defect 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import namedtuple

import pytest

from samskab import cli
from samskab.common.failures import StorageFailure
from samskab.common.settings import Settings
from samskab.operate import disk
from tests.lakes import REPO, using_lake

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def nearly_full(monkeypatch):
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10 * 2**30, 10 * 2**30 - 50 * 2**20, 50 * 2**20))


def test_a_refresh_needs_three_times_the_published_file_and_at_least_256_mb(tmp_path):
    settings = Settings(data_lake=tmp_path)
    assert disk.room_needed(settings) == 256 * 2**20
    settings.published_dir.mkdir(parents=True)
    with settings.published_path.open("wb") as big:
        big.truncate(200 * 2**20)
    assert disk.room_needed(settings) == 600 * 2**20


def test_status_warns_and_exits_1_when_the_disk_lacks_room(refreshed_lake, monkeypatch):
    """Once `samskab status` exited 0 naming the previous night while no refresh could run."""
    settings = Settings(data_lake=refreshed_lake[0])
    _, fine = cli.describe_status(settings)
    assert fine != cli.EXIT_GATE_FAILED
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10 * 2**30, 10 * 2**30 - 50 * 2**20, 50 * 2**20))
    text, code = cli.describe_status(settings)
    assert code == cli.EXIT_GATE_FAILED
    assert "WARNING: THE DISK IS NEARLY FULL. The disk that holds the data lake has 50 MB free" in text


def test_a_refresh_on_a_nearly_full_disk_does_not_start_and_sends_a_notice(tmp_path, nearly_full, prefect_server):
    from flows.nightly_refresh import nightly_refresh
    from samskab.operate.notices import read_notices

    settings = Settings(data_lake=tmp_path)
    settings.data_lake.mkdir(parents=True, exist_ok=True)
    with using_lake(settings.data_lake), pytest.raises(StorageFailure, match="The refresh does not start"):
        nightly_refresh()
    assert "did not start: the disk is nearly full" in read_notices(settings)
    assert not settings.lock_path.exists() and not settings.runs_dir.exists()


LOCK_UNDER_A_FILE_SIZE_LIMIT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from samskab.operate.locking import LockNotTaken, refresh_lock
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # every write fails: EFBIG, as a full disk fails
    try:
        with refresh_lock(Path(sys.argv[1])):
            pass
    except LockNotTaken as error:
        print(error)
    """
)


def test_a_lock_file_that_cannot_be_written_is_told_in_words(tmp_path):
    lock = tmp_path / "data_lake" / ".refresh.lock"
    done = subprocess.run(
        [sys.executable, "-c", LOCK_UNDER_A_FILE_SIZE_LIMIT, str(lock)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert "could not take the data lake's lock file (.refresh.lock): a file grew larger" in done.stdout
