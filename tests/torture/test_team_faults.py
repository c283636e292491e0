"""A team's runs under faults (issue 21, `make torture`): runs of the nightly deployment, executed by a worker
in its own copy of the project (tests/team.py), each stopped half way through dbt by its stage's own signal,
then:

1. PostgreSQL (Prefect's database and the history's catalog) restarted as a crash would: the run goes on,
   publishes, commits to the history, and Prefect records it Completed;
2. the worker killed (SIGKILL), its run left alone: the run goes on to publish (`stream_output: false`);
3. the worker and its run killed together: the run stays Running in Prefect until the next `samskab refresh`
   on that lake, reporting to the team's server, closes it as died (Crashed) and recovers with no manual step.

After each, the published file is whole and names the run that built it, and the history's newest snapshot
is the same run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from samskab.common import stop_points
from tests.lakes import REPO, copy_lake
from tests.team import team
from tests.torture import tally
from tests.torture.faults import assert_whole

pytestmark = pytest.mark.end_to_end

TORTURE = bool(os.environ.get("SAMSKAB_TORTURE"))
POINT = "dbt middle"


def stopped_run(crew, said):
    """A forced run that stops itself half way through dbt; returns it and the pid that stopped."""
    said.unlink(missing_ok=True)
    run = crew.run({"force": True}, env={stop_points.STOP_AT: POINT, stop_points.STOP_LOG: str(said)})
    deadline = time.monotonic() + 600
    while not said.exists():
        assert time.monotonic() < deadline, f"the run never reached {POINT}:\n{crew.worker_output()}"
        time.sleep(0.1)
    return run, int(said.read_text().split()[-1])


def published_by(crew) -> tuple[str, str]:
    """The run the published file names, and the run of the history's newest snapshot."""
    from samskab.publish import history, swap

    published = crew.lake / "published" / "analytics.duckdb"
    assert_whole(published)
    return swap.published_run(published)[0], history.listed(crew.settings)[-1].run_id


def team_runs_survive_a_restarted_database_and_a_killed_worker(refreshed_lake, tmp_path):
    from samskab.operate import run_journal

    lake = copy_lake(refreshed_lake[0], tmp_path)
    said = tmp_path / "stopped-at.txt"
    with team(lake, tmp_path) as crew:
        # 1. PostgreSQL restarted mid-run.
        run, pid = stopped_run(crew, said)
        crew.postgres.restart()
        os.kill(pid, signal.SIGCONT)
        finished = crew.wait(run.id)
        assert finished.state.is_completed(), f"{finished.state.name}: {finished.state.message}"
        assert published_by(crew) == (str(run.id), str(run.id))
        tally.record("team faults", "PostgreSQL restarted mid-run", "recovered")

        # 2. The worker killed mid-run, its run left alone: the run finishes and publishes.
        run, pid = stopped_run(crew, said)
        worker = psutil.Process(crew.worker.pid)
        # `samskab worker` and Prefect's worker process; the run's processes below them are left alone
        doomed = [worker, *(p for p in worker.children() if "-m prefect worker start" in " ".join(p.cmdline()))]
        assert len(doomed) == 2, [process.cmdline() for process in worker.children()]
        assert pid not in {process.pid for process in doomed}
        for process in doomed:
            process.kill()
        os.kill(pid, signal.SIGCONT)
        finished = crew.wait(run.id)
        assert finished.state.is_completed(), f"{finished.state.name}: {finished.state.message}"
        assert published_by(crew) == (str(run.id), str(run.id))
        tally.record("team faults", "worker killed mid-run", "recovered")

        # 3. The worker and its run killed together: Running until the next refresh closes it.
        crew.start_worker()
        run, pid = stopped_run(crew, said)
        worker = psutil.Process(crew.worker.pid)
        tree = [worker, *worker.children(recursive=True)]  # as when the worker's machine stops
        assert pid in {process.pid for process in tree}
        for process in tree:
            process.kill()
        crew.worker.wait()
        assert crew.wait(run.id, until=lambda state: True).state.is_running()
        refresh = subprocess.run(
            [sys.executable, "-m", "samskab.cli", "refresh"],
            cwd=REPO,
            env={**crew.worker_environment(), "SAMSKAB_PREFECT_API_URL": crew.api, "PYTHONPATH": ""},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert refresh.returncode == 0, refresh.stdout[-3000:] + refresh.stderr[-3000:]
        assert crew.wait(run.id, until=lambda state: True).state.is_crashed()
        died = [entry for entry in run_journal.read_runs(crew.settings) if entry.flow_run_id == str(run.id)]
        assert [entry.state for entry in died] == [run_journal.DIED]
        published, newest = published_by(crew)
        assert uuid.UUID(published) != run.id and newest == published
        tally.record("team faults", "worker and run killed", "recovered")


if TORTURE:  # a team of processes and three forced runs: `make torture` only
    test_team_runs_survive_a_restarted_database_and_a_killed_worker = (
        team_runs_survive_a_restarted_database_and_a_killed_worker
    )
