"""Great Expectations in a process of its own, beside the runs of the process that started it.

GX takes seconds to import and validates in Python: in the run's own process both would wait in line
behind dbt's parse of the project. A refresh that will build starts this worker at once; it imports GX
on the other core while the run reads the landing zone and parses the dbt project, then does the run's
Great Expectations work when asked: the raw gate, the drift gate and the Data Docs. It dies with the
process that started it (Linux's parent-death signal). A run that ended with the worker idle leaves it
to the next run of the same process (one import of GX per process, as dbt's parse is kept per process:
samskab/build/dbt.py; `samskab refresh` runs once and exits); each job runs under the platform's
settings (`SAMSKAB_*`) of the process that asks for it, not those the worker started with.

What crosses between the two processes: paths and numbers in; verdicts (names and counts, never a
value), progress lines and the Data Docs' path out. An error in the worker comes back as the words
`failures.describe` gives it and the machine's cause (a full disk, memory run out), never its message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from samskab.common import failures
from samskab.common.failures import DocsFailed, ReportedFailure


class GateWorkerFailed(ReportedFailure):
    """Great Expectations' work failed, or its process ended; the text says which, safe to show."""


def raw_verdicts(warehouse: Path, progress: Callable[[str], None] | None = None) -> tuple[list, list[str]]:
    """Great Expectations' raw suites and the consent gate on the raw layer; and the activities without
    consent, in words for the failure message."""
    from samskab.gate.consent import consent_verdict
    from samskab.gate.stages import validate_stage

    verdicts = validate_stage("raw", warehouse, progress_log=progress)
    consent, without_consent = consent_verdict(warehouse)
    return [*verdicts, consent], without_consent


def _drift(candidate: Path, published: Path, threshold: float, progress: Callable[[str], None]) -> list:
    from samskab.gate.drift import drift_verdicts

    return drift_verdicts(candidate, published, threshold)


def _data_docs(verdicts: list, target_dir: Path, run_name: str, progress: Callable[[str], None]) -> Path:
    from samskab.gate.data_docs import build_gx_data_docs

    return build_gx_data_docs(verdicts, target_dir, run_name)


JOBS: dict[str, Callable[..., Any]] = {"raw": raw_verdicts, "drift": _drift, "data docs": _data_docs}
DOING = {
    "raw": "checking the raw data",
    "drift": "checking the marts' drift",
    "data docs": "building the Data Docs",
}


def _serve(connection: Connection, parent_pid: int) -> None:
    """The worker's process: import GX, then do each job asked for until told to stop."""
    from samskab.common.processes import parent_death_signal

    arrange = parent_death_signal()
    if arrange is not None:
        arrange(parent_pid, signal.SIGKILL)
    from samskab.gate.suites import batch_definition

    with contextlib.suppress(Exception):  # said by the first job, which meets the same failure
        batch_definition()  # GX imported, its context made: what the first job would wait for
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        job, arguments, settings = message
        _take_settings(settings)
        try:
            result = JOBS[job](*arguments, lambda line: connection.send(("log", line)))
        except BaseException as error:  # every failure goes back in safe words; the worker stays
            docs = str(error) if isinstance(error, DocsFailed) else None
            connection.send(("failed", failures.describe(error), failures.machine_cause(error), docs))
        else:
            connection.send(("done", result))


# A worker waiting for the next run of this process to take it: started before the run (GateWorker.early),
# or left idle by the run before (GateWorker.for_run).
_WAITING: GateWorker | None = None


def _settings_of_now() -> dict[str, str]:
    """The platform's settings in this process's environment (the suites' folder and the dbt project whose
    seeds the checks read among them), sent with each job."""
    return {name: value for name, value in os.environ.items() if name.startswith("SAMSKAB_")}


def _take_settings(settings: dict[str, str]) -> None:
    """In the worker: the settings of the process that asked for the job, and no others."""
    from samskab.common.settings import reset_settings

    for name in [name for name in os.environ if name.startswith("SAMSKAB_")]:
        if name not in settings:
            del os.environ[name]
    os.environ.update(settings)
    reset_settings()


class GateWorker:
    """The run's Great Expectations process. `run(job, ...)` does one job and returns its result;
    `close()` ends the process (also at the end of a `with` block); a worker a run took with `for_run`
    is left to the next run instead, when it is idle and alive.

    A new interpreter (`python -m samskab.gate.worker`), not a fork of the run, which has threads, nor
    multiprocessing's spawn, which would import the run's main module again; the two talk over a socket
    pair, in multiprocessing's pickled messages."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "samskab.gate.worker", str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._connection = Connection(ours.detach())
        self._busy = False  # a job asked for and its answer not yet read: the connection is mid-message
        self._for_runs = False  # taken by a run (for_run): left to the next run at the end of the block
        self._runs = 0  # how many runs took it

    @classmethod
    @contextlib.contextmanager
    def early(cls) -> Iterator[None]:
        """Start a worker now, before the run begins (`samskab refresh`, once it knows the run will
        build: Prefect's start then overlaps GX's import too), unless one is waiting already; the run
        takes it with `for_run`. One started here that the run did not take (it stopped before building)
        is ended when the block ends."""
        global _WAITING
        started = None
        if not _usable(_WAITING):
            _close(_WAITING)
            _WAITING = started = cls()
        try:
            yield
        finally:
            if started is not None and started._runs == 0:
                if _WAITING is started:
                    _WAITING = None
                started.close()

    @classmethod
    def waiting(cls) -> GateWorker | None:
        """The worker waiting for the next run (started early, or left by the run before), if any."""
        return _WAITING

    @classmethod
    def for_run(cls) -> GateWorker:
        """The worker waiting for this run (started early, or left by the run before), if it is alive;
        else a new one. At the end of its `with` block it is left for the next run if it is idle and alive
        (else ended). A process that exits ends it too: it finds the run's end of their socket closed."""
        global _WAITING
        waiting, _WAITING = _WAITING, None
        worker = waiting if _usable(waiting) else None
        if worker is None:
            _close(waiting)
            worker = cls()
        worker._for_runs = True
        worker._runs += 1
        return worker

    @classmethod
    def close_waiting(cls) -> None:
        """End the worker waiting for a next run, if any."""
        global _WAITING
        waiting, _WAITING = _WAITING, None
        _close(waiting)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def __enter__(self) -> GateWorker:
        return self

    def __exit__(self, *_: object) -> None:
        global _WAITING
        if self._for_runs and _WAITING is None and not self._busy and self.alive:
            self._for_runs = False
            _WAITING = self
        else:
            self.close()

    def run(self, job: str, *arguments: Any, log: Callable[[str], None] | None = None) -> Any:
        """Do `job` ("raw", "drift" or "data docs") in the worker; its progress lines go to `log`."""
        doing = DOING[job]
        try:
            self._busy = True
            self._connection.send((job, arguments, _settings_of_now()))
            while True:
                kind, *said = self._connection.recv()
                if kind == "log":
                    if log is not None:
                        log(said[0])
                    continue
                self._busy = False
                if kind == "done":
                    return said[0]
                text, cause, docs = said
                if docs is not None:
                    raise DocsFailed(docs)
                if cause is not None:
                    raise failures.machine_failure(cause, doing)
                raise GateWorkerFailed(f"Great Expectations failed while {doing}. {text}")
        except (EOFError, OSError):
            try:
                code = self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            how = (
                f"was killed (signal {-code}; the kernel kills a process so when memory runs out)"
                if code is not None and code < 0
                else f"ended (exit code {code})"
            )
            raise GateWorkerFailed(
                f"Great Expectations' process {how} while {doing}. Nothing was published; run "
                "`samskab refresh` again, and report it if it happens again."
            ) from None

    def close(self) -> None:
        """End the worker (twice is harmless). Its jobs write nothing once they have answered, so it is
        killed rather than waited for (an interpreter with GX loaded takes a second to tear itself down)."""
        self._process.kill()
        self._process.wait(timeout=30)
        self._connection.close()


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))


def _usable(worker: GateWorker | None) -> bool:
    return worker is not None and worker.alive and not worker._busy


def _close(worker: GateWorker | None) -> None:
    if worker is not None:
        worker.close()
