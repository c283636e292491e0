"""A team on one machine, for the tests of team mode (issue 21): a real PostgreSQL, `samskab serve` keeping
its Prefect runs there with the nightly deployment on a process work pool, and `samskab worker` in a separate
copy of the project (no git: another machine's checkout) on its own data lake, with the shared history in the
same PostgreSQL. Everything it starts is stopped when the block ends (the worker before the server)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from samskab.common.settings import Settings
from samskab.operate.prefect_server import free_port
from tests.lakes import REPO, STUDY_KEY
from tests.postgres import Postgres

POOL = "samskab-local"
DEPLOYMENT = "nightly_refresh/nightly-refresh"
WAIT_SECONDS = 600


def project_copy(target: Path) -> Path:
    """The project's files as git knows them (tracked, or new and not ignored), without its history."""
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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Team:
    root: Path
    lake: Path  # the worker machine's data lake
    postgres: Postgres
    api: str = ""
    shared: dict[str, str] = field(default_factory=dict)  # the history's settings, as both machines have them
    copy: Path | None = None
    worker: subprocess.Popen | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """The worker machine's settings, with the shared history."""
        return Settings(
            data_lake=self.lake,
            ducklake_catalog=self.shared["SAMSKAB_DUCKLAKE_CATALOG"],
            ducklake_data_path=self.shared["SAMSKAB_DUCKLAKE_DATA_PATH"],
        )

    def worker_environment(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.shared,
            "PREFECT_HOME": str(self.root / "worker_home"),
            "SAMSKAB_DATA_LAKE": str(self.lake),
            "SAMSKAB_PSEUDONYM_KEY": STUDY_KEY,
            "PYTHONPATH": str(self.copy),  # the copy's code, as on another machine
        }

    def start_worker(self) -> subprocess.Popen:
        output = self.root / f"worker-{len(self.processes)}.out"
        self.worker = start(
            [sys.executable, "-m", "samskab.cli", "worker", "--api-url", self.api],
            self.copy,
            self.worker_environment(),
            output,
        )
        self.processes.append(self.worker)
        wait_for(output, f"runs the nightly refresh's runs of the work pool {POOL}", self.worker)
        return self.worker

    def worker_output(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.root.glob("worker-*.out")))[-4000:]

    def run(self, parameters: dict | None = None, env: dict[str, str] | None = None):
        """A run of the nightly deployment created through the API; returns it (not waited for)."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.api}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name(DEPLOYMENT)
            return client.create_flow_run_from_deployment(
                deployment.id, parameters=parameters or {}, job_variables={"env": env} if env else None
            )

    def wait(self, run_id, until=lambda state: state.is_final()):
        """The run once `until(state)` holds (its end, by default)."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        deadline = time.monotonic() + WAIT_SECONDS
        with temporary_settings(updates={PREFECT_API_URL: self.api}), get_client(sync_client=True) as client:
            while not until((found := client.read_flow_run(run_id)).state):
                assert time.monotonic() < deadline, f"the run is still {found.state.name}:\n{self.worker_output()}"
                time.sleep(1)
        return found


@contextlib.contextmanager
def team(lake: Path, root: Path) -> Iterator[Team]:
    postgres = Postgres().initialise().start()
    crew = Team(root, lake, postgres)
    try:
        postgres.create_database("prefect")
        postgres.create_database("history")
        crew.shared = {
            "SAMSKAB_DUCKLAKE_CATALOG": f"postgres:{postgres.libpq('history')}",
            "SAMSKAB_DUCKLAKE_DATA_PATH": str(root / "history_data") + "/",
        }
        port = free_port()
        served = root / "serve.out"
        serve = start(
            [sys.executable, "-m", "samskab.cli", "serve", "--port", str(port)],
            REPO,
            {
                **os.environ,
                **crew.shared,
                "PREFECT_HOME": str(root / "server_home"),
                "SAMSKAB_DATA_LAKE": str(root / "server_lake"),
                "SAMSKAB_PREFECT_DATABASE_URL": postgres.sqlalchemy_url("prefect"),
                "SAMSKAB_WORK_POOL": POOL,
            },
            served,
        )
        crew.processes.append(serve)
        wait_for(served, f"Its runs go to the work pool {POOL}", serve)
        said = served.read_text(encoding="utf-8")
        assert "its runs kept in PostgreSQL (127.0.0.1:" in said and "/prefect)" in said, said
        crew.api = f"http://127.0.0.1:{port}/api"
        crew.copy = project_copy(root / "worker_copy")
        crew.start_worker()
        yield crew
    finally:
        for process in reversed(crew.processes):  # workers before the server
            stop(process)
        postgres.remove()
