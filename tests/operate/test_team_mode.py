"""Team mode (issue 21): `samskab serve` on a Prefect server whose runs live in a real PostgreSQL, the nightly
deployment on a process work pool, and `samskab worker` in a separate copy of the project; a run triggered
from the API is executed by the worker, in its copy, on its data lake, publishes, and commits to the shared
history (a DuckLake catalog in the same PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from samskab.common.settings import Settings
from samskab.operate.prefect_server import free_port
from tests.lakes import REPO, STUDY_KEY, copy_lake, deliver_new
from tests.postgres import Postgres

pytestmark = pytest.mark.end_to_end

POOL = "samskab-local"
WAIT_SECONDS = 600


def project_copy(target: Path) -> Path:
    """The project's files as git tracks them, without its history: another machine's checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def start(command: list[str], cwd: Path, env: dict[str, str], output: Path) -> subprocess.Popen:
    with output.open("wb") as sink:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def wait_for(output: Path, text: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while text not in output.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"never said {text!r}:\n" + output.read_text(encoding="utf-8", errors="replace")[-3000:])
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_run_triggered_from_the_api_is_run_by_a_worker_in_its_own_copy_and_publishes(refreshed_lake, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from samskab.publish import history

    postgres = Postgres().initialise().start()
    processes: list[subprocess.Popen] = []
    try:
        postgres.create_database("prefect")
        postgres.create_database("history")
        lake = copy_lake(refreshed_lake[0], tmp_path)  # the worker machine's lake, with a new delivery
        deliver_new(lake)
        shared = {
            **os.environ,
            "SAMSKAB_DUCKLAKE_CATALOG": f"postgres:{postgres.libpq('history')}",
            "SAMSKAB_DUCKLAKE_DATA_PATH": str(tmp_path / "history_data") + "/",
        }
        port = free_port()
        served = tmp_path / "serve.out"
        serve = start(
            [sys.executable, "-m", "samskab.cli", "serve", "--port", str(port)],
            REPO,
            {
                **shared,
                "PREFECT_HOME": str(tmp_path / "server_home"),
                "SAMSKAB_DATA_LAKE": str(tmp_path / "server_lake"),
                "SAMSKAB_PREFECT_DATABASE_URL": postgres.sqlalchemy_url("prefect"),
                "SAMSKAB_WORK_POOL": POOL,
            },
            served,
        )
        processes.append(serve)
        wait_for(served, f"Its runs go to the work pool {POOL}", serve)
        said = served.read_text(encoding="utf-8")
        assert "its runs kept in PostgreSQL (127.0.0.1:" in said and "/prefect)" in said
        api = f"http://127.0.0.1:{port}/api"

        copy = project_copy(tmp_path / "worker_copy")
        worked = tmp_path / "worker.out"
        worker = start(
            [sys.executable, "-m", "samskab.cli", "worker", "--api-url", api],
            copy,
            {
                **shared,
                "PREFECT_HOME": str(tmp_path / "worker_home"),
                "SAMSKAB_DATA_LAKE": str(lake),
                "SAMSKAB_PSEUDONYM_KEY": STUDY_KEY,
                "PYTHONPATH": str(copy),  # this copy's code, as on another machine
            },
            worked,
        )
        processes.append(worker)
        wait_for(worked, f"runs the nightly refresh's runs of the work pool {POOL}", worker)

        with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("nightly_refresh/nightly-refresh")
            assert deployment.work_pool_name == POOL and deployment.pull_steps[0][
                "prefect.deployments.steps.set_working_directory"
            ] == {"directory": "{{ $SAMSKAB_REPO_DIR }}"}
            run = client.create_flow_run_from_deployment(deployment.id)
            deadline = time.monotonic() + WAIT_SECONDS
            while not (state := client.read_flow_run(run.id).state).is_final():
                assert time.monotonic() < deadline, f"the run is still {state.name}:\n" + worked.read_text()[-3000:]
                time.sleep(1)
            finished = client.read_flow_run(run.id)
        assert state.is_completed(), f"{state.name}: {state.message}\n" + worked.read_text()[-3000:]
        assert finished.work_pool_name == POOL

        # It published on the worker's lake, built by the worker's copy (no git checkout there).
        with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as connection:
            run_id, code_version = connection.execute("select run_id, code_version from meta.runs").fetchone()
        assert uuid.UUID(run_id) == run.id
        assert code_version.endswith("(not a git checkout)"), code_version
        # ... and committed it to the shared history, tagged with the run.
        settings = Settings(
            data_lake=lake,
            ducklake_catalog=shared["SAMSKAB_DUCKLAKE_CATALOG"],
            ducklake_data_path=shared["SAMSKAB_DUCKLAKE_DATA_PATH"],
        )
        assert [kept.run_id for kept in history.listed(settings)] == [run_id]
    finally:
        for process in reversed(processes):  # the worker before the server
            stop(process)
        postgres.remove()
