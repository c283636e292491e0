"""Each delivery read in a process of its own, with a time limit and a memory limit.

A reader meets files nobody has seen: a 10 MB answer, a cut workbook, a damaged `.sav` that crashes the
library that parses it. Read in the refresh's own process, such a file could hold the refresh (and its
lock) for as long as it takes, take the machine's memory, or end the process. Here the reader runs in a
child process forked from a server that has the readers imported (multiprocessing's forkserver). Not a
fork of the refresh itself: the refresh has threads (Prefect's, DuckDB's), and a fork of a process with
threads can die at once (measured under the fuzzer: SIGABRT in one fork of some hundreds); the server has
none, and a fork of it costs milliseconds. The child ends when the refresh does (killed or not). The
parent waits `read_time_limit_seconds` for its answer, and watches the child's resident memory while it
waits: past either limit (`read_memory_limit_mb`), it kills the child. (A limit on the child's address
space was tried first: pyarrow's allocator reserves address space ahead and aborts the process when it
cannot, so a damaged file was told as a crash, not as too much memory.) Whatever happens, the answer is a batch, a
refusal naming the file and the reason, or a fault of the platform naming where in the code: never the
text of an exception, which may quote the file.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from samskab.common import stop_points
from samskab.common.settings import ENV_PREFIX, Settings, reset_settings
from samskab.ingest.landing import Delivery
from samskab.ingest.sources.common import LandingFileError, Pseudonymise, SourceBatch
from samskab.ingest.sources.registry import source_named

# What the server imports once, so that each child starts with every reader ready (the workbook and
# SPSS/Stata libraries too, which the readers import only when a file needs them).
PRELOAD = ["samskab.ingest.sources.registry", "openpyxl", "pyreadstat"]
_SERVER: multiprocessing.context.ForkServerContext | None = None
Reader = Callable[[Delivery, Pseudonymise], SourceBatch]
# How often the refresh looks at the reader's memory while it waits for the answer.
POLL_SECONDS = 0.05


def _server() -> multiprocessing.context.ForkServerContext:
    global _SERVER
    if _SERVER is None:
        _SERVER = multiprocessing.get_context("forkserver")
        _SERVER.set_forkserver_preload(PRELOAD)
    return _SERVER


def start_early() -> None:
    """Start the readers' server now, for a run that will read deliveries: its imports (about a second of a
    core) then overlap the run's own start instead of delaying the first delivery's read. It does not wait
    for the server: the first reader connects once the server is ready."""
    from multiprocessing import forkserver

    _server()
    forkserver.ensure_running()


class ReaderFault(Exception):
    """The reader stopped on an error of the platform's code (not a refusal of the file)."""

    def __init__(self, error_type: str, code_location: str) -> None:
        super().__init__(error_type)
        self.error_type = error_type
        self.code_location = code_location  # file:line in function, one frame a line; never the message


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.read_time_limit_seconds, settings.read_memory_limit_mb * 2**20)


def code_location(error: BaseException) -> str:
    """Where in the code an error happened: file, line and function of each frame, never the message."""
    frames = traceback.extract_tb(error.__traceback__)
    return "\n".join(f"  {Path(frame.filename).name}:{frame.lineno} in {frame.name}" for frame in frames)


def _resident_bytes(pid: int) -> int:
    """A process's resident memory (Linux; 0 where the system does not say)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _end_with_the_refresh(lifeline: Connection) -> None:
    """End this child when the refresh that asked for it ends, killed or not. (Its parent is the fork
    server, which lives while any child does; so the refresh holds the other end of a pipe, and its end,
    closed by the refresh or by the kernel when the refresh dies, is read here.)"""

    def watch() -> None:
        with contextlib.suppress(OSError, EOFError):
            lifeline.poll(None)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="end-with-the-refresh", daemon=True).start()


def _platform_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}


def _settings_of_the_refresh(environment: dict[str, str]) -> None:
    """The child has the fork server's environment, as it was when the server started; a reader reads its
    seeds where the refresh's settings say (SAMSKAB_DBT_PROJECT_DIR, ...), so it takes the refresh's."""
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        del os.environ[name]
    os.environ.update(environment)
    reset_settings()


def _child(
    answer: Connection,
    lifeline: Connection,
    delivery: Delivery,
    pseudonymise: Pseudonymise,
    reader: Reader | None,
    environment: dict[str, str],
) -> None:
    """In the child: read, and send back ("batch", batch), ("refused", ...), ("memory",) or ("fault", ...)."""
    _end_with_the_refresh(lifeline)
    _settings_of_the_refresh(environment)
    faulthandler.disable()  # a crash is told by the parent, by its signal, not as a dump of frames
    stop_points.reached("reader")
    try:
        batch = (reader or source_named(delivery.source).read)(delivery, pseudonymise)
        answer.send(("batch", batch))
    except LandingFileError as error:
        answer.send(("refused", str(error.file), error.reason, error.row, error.sheet))
    except MemoryError:
        answer.send(("memory",))
    except Exception as error:
        answer.send(("fault", type(error).__name__, code_location(error)))
    finally:
        answer.close()


@contextlib.contextmanager
def _main_module_left_out() -> Iterator[None]:
    """While a child is started: multiprocessing tells a child to import the parent's main module again
    (a script, or `python -m prefect.engine` in a deployment's run: seconds of imports, and whatever a
    script does at import). A reader needs nothing from it, so the child is shown an empty one."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def read_delivery(
    delivery: Delivery, pseudonymise: Pseudonymise, limits: Limits, reader: Reader | None = None
) -> SourceBatch:
    """The delivery read by its source's reader (or `reader`, a function importable by name) in a child
    process. Raises LandingFileError for a refused file (its own reasons, the time limit, the memory
    limit) and ReaderFault for an error of the platform."""
    receive, answer = _server().Pipe(duplex=False)
    lifeline, held = _server().Pipe(duplex=False)
    child = _server().Process(
        target=_child, args=(answer, lifeline, delivery, pseudonymise, reader, _platform_environment()), daemon=True
    )
    started = time.monotonic()
    with _main_module_left_out():
        child.start()
    answer.close()
    lifeline.close()
    try:
        while not receive.poll(POLL_SECONDS):
            if _resident_bytes(child.pid) > limits.memory_bytes:
                raise LandingFileError(Path(delivery.name), _too_much_memory(limits))
            if time.monotonic() - started < limits.seconds:
                continue
            raise LandingFileError(
                Path(delivery.name),
                f"reading it took longer than {limits.seconds:g} s, so it was stopped "
                "(SAMSKAB_READ_TIME_LIMIT_SECONDS). A file this slow to read is most likely damaged or far "
                "larger than expected (a very long line or field): check it, export it again, or raise the limit",
            )
        try:
            message = receive.recv()
        except (EOFError, OSError):
            child.join(timeout=5)
            raise ReaderFault(
                "ReaderProcessEnded",
                f"  the reader's process ended without an answer after {time.monotonic() - started:.1f} s "
                f"(exit code {child.exitcode}{_signal_name(child.exitcode)})",
            ) from None
    finally:
        receive.close()
        held.close()
        if child.is_alive():
            child.kill()
        child.join(timeout=5)
    kind, *rest = message
    if kind == "batch":
        return rest[0]
    if kind == "refused":
        file, reason, row, sheet = rest
        raise LandingFileError(Path(file), reason, row, sheet)
    if kind == "memory":
        raise LandingFileError(Path(delivery.name), _too_much_memory(limits))
    raise ReaderFault(*rest)


def _too_much_memory(limits: Limits) -> str:
    return (
        f"reading it needed more than {limits.memory_bytes // 2**20:,} MB of memory, so it was stopped "
        "(SAMSKAB_READ_MEMORY_LIMIT_MB). Check that the file is what it should be, or raise the limit"
    )


def _signal_name(exitcode: int | None) -> str:
    if exitcode is None or exitcode >= 0:
        return ""
    with contextlib.suppress(ValueError):
        return f": {signal.Signals(-exitcode).name}"
    return ""
