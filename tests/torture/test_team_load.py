"""Proof under a team's load (issue 21): readers of the shared history and of the published file while
publishes run, and PostgreSQL restarted while the history takes a publish. Nothing is lost; every reader
reads one whole snapshot.

The history's catalog is in a real PostgreSQL (tests/postgres.py). Each publish is the refresh's own
(tests/torture/test_readers.py: a mart one row shorter each time, so no two publishes hold the same rows)
followed by the history's commit, as the nightly refresh does. `make test` publishes twice; `make torture`
ten times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from samskab.common import stop_points
from samskab.common.settings import Settings
from tests.lakes import REPO, copy_lake, using_lake
from tests.postgres import Postgres
from tests.torture import readers, tally
from tests.torture.test_readers import publish_again, wait_until_read

pytestmark = pytest.mark.end_to_end

TORTURE = bool(os.environ.get("SAMSKAB_TORTURE"))
PUBLISHES = 10 if TORTURE else 2
KINDS = (*readers.HISTORY_KINDS, readers.FRESH)


@pytest.fixture(scope="module")
def postgres():
    server = Postgres().initialise().start()
    yield server
    server.remove()


def history_lake(postgres: Postgres, refreshed_lake, root: Path, database: str) -> tuple[Path, dict[str, str]]:
    """A copy of the refreshed lake whose publishes also go to a history in `database`, with its first
    publish committed; and the environment that names that history."""
    from samskab.publish import history, swap

    postgres.create_database(database)
    lake = copy_lake(refreshed_lake[0], root)
    environment = {
        "SAMSKAB_DUCKLAKE_CATALOG": f"postgres:{postgres.libpq(database)}",
        "SAMSKAB_DUCKLAKE_DATA_PATH": str(root / "history_data") + "/",
    }
    settings = Settings(
        data_lake=lake,
        ducklake_catalog=environment["SAMSKAB_DUCKLAKE_CATALOG"],
        ducklake_data_path=environment["SAMSKAB_DUCKLAKE_DATA_PATH"],
    )
    run_id = swap.published_run(settings.published_path)[0]
    history.commit(settings, settings.published_path, run_id, datetime.now(UTC))
    return lake, environment


def test_readers_of_the_history_and_the_file_read_whole_snapshots_through_publishes(postgres, refreshed_lake, tmp_path):
    from samskab.publish import history, swap

    lake, environment = history_lake(postgres, refreshed_lake, tmp_path, "history_readers")
    stop = tmp_path / "stop"
    logs = {kind: tmp_path / f"{kind}.log" for kind in KINDS}
    processes = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "tests.torture.readers", kind, str(lake), str(logs[kind]), str(stop)],
            cwd=REPO,
            env={**os.environ, **environment, "SAMSKAB_DATA_LAKE": str(lake)},
        )
        for kind in KINDS
    }
    published_runs = []
    try:
        with using_lake(lake) as plain:
            settings = plain.replace(
                ducklake_catalog=environment["SAMSKAB_DUCKLAKE_CATALOG"],
                ducklake_data_path=environment["SAMSKAB_DUCKLAKE_DATA_PATH"],
            )
            first = swap.published_run(settings.published_path)[0]
            wait_until_read(logs, first, processes)
            for n in range(PUBLISHES):
                run_id = publish_again(settings, n)
                history.commit(settings, settings.published_path, run_id, datetime.now(UTC))
                published_runs.append(run_id)
                wait_until_read(logs, run_id, processes)
            kept = [snapshot.run_id for snapshot in history.listed(settings)]
    finally:
        stop.touch()
        for process in processes.values():
            process.wait(timeout=120)

    assert kept == [first, *published_runs]  # one snapshot per publish, each tagged with its run
    for kind, log in logs.items():
        lines = log.read_text(encoding="utf-8").splitlines()
        failed = [line for line in lines if not line.startswith("ok ")]
        tally.record("team readers (history and file)", kind, "ok", n=len(lines) - len(failed))
        tally.record("team readers (history and file)", kind, "failed", n=len(failed))
        assert not failed, f"{kind} reader: {len(failed)} of {len(lines)} queries failed, first: {failed[0]}"
        runs = {line.split()[1] for line in lines}
        assert runs == {first, *published_runs}, f"the {kind} reader missed a publish, or read one nobody made"
    tally.record("team publishes", "history commits", "whole", n=PUBLISHES)


def test_postgresql_restarted_while_the_history_takes_a_publish_loses_nothing(postgres, refreshed_lake, tmp_path):
    """The history's commit stopped with every table written, PostgreSQL restarted (as a crash would), the
    commit let go on: it fails, naming the history; the history still ends with the publish before, whole;
    the published file is untouched; the next commit lands."""
    from samskab.publish import history

    lake, environment = history_lake(postgres, refreshed_lake, tmp_path, "history_restart")
    said = tmp_path / "stopped-at.txt"
    with using_lake(lake) as plain:
        settings = plain.replace(
            ducklake_catalog=environment["SAMSKAB_DUCKLAKE_CATALOG"],
            ducklake_data_path=environment["SAMSKAB_DUCKLAKE_DATA_PATH"],
        )
        before = history.listed(settings)
        run_id = publish_again(settings, 1)
        published = settings.published_path.read_bytes()
    commit = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from datetime import UTC, datetime; from pathlib import Path\n"
            "from samskab.common.settings import Settings\nfrom samskab.publish import history\n"
            f"settings = Settings.from_environment(data_lake=Path({str(lake)!r}))\n"
            "try:\n"
            f"    history.commit(settings, settings.published_path, {run_id!r}, datetime.now(UTC))\n"
            "except history.HistoryUnavailable as error:\n"
            "    print(error); sys.exit(1)\n"
        )],
        cwd=REPO,
        env={**os.environ, **environment, stop_points.STOP_AT: "history commit", stop_points.STOP_LOG: str(said)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not said.exists():
        assert commit.poll() is None and time.monotonic() < deadline, commit.stdout.read()
        time.sleep(0.05)
    postgres.restart()
    os.kill(commit.pid, signal.SIGCONT)
    output, _ = commit.communicate(timeout=120)

    assert commit.returncode == 1, output
    assert f"The shared history did not take run {run_id}'s publish" in output and "Traceback" not in output
    with using_lake(lake):
        assert history.listed(settings) == before  # no torn snapshot: the one before is the newest
        with history.connect(settings) as connection:
            newest = connection.execute("select run_id from meta.runs").fetchone()[0]
        assert newest == before[-1].run_id
        assert settings.published_path.read_bytes() == published
        again = history.commit(settings, settings.published_path, run_id, datetime.now(UTC))
        assert [kept.run_id for kept in history.listed(settings)][-1] == run_id and again.version > before[-1].version
        with duckdb.connect(str(settings.published_path), read_only=True) as file:
            counts = dict(file.execute("select table_name, n_rows from meta.row_counts").fetchall())
        with history.connect(settings) as connection:
            for table, n in counts.items():
                assert connection.execute(f'select count(*) from main."{table}"').fetchone()[0] == n, table
    tally.record("PostgreSQL restarted", "during the history's commit", "recovered")
