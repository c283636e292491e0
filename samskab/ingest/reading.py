"""Each delivery read in a process of its own, with a time limit and a memory limit.

A reader meets files nobody has seen: a 10 MB answer, a cut workbook, a damaged `.sav` that crashes the
library that parses it. Read in the refresh's own process, such a file could hold the refresh (and its
lock) for as long as it takes, take the machine's memory, or end the process. Here the reader runs in a
forked child process (a fork costs milliseconds and needs nothing imported again; the child runs only
the reader's code, which takes no lock another thread of the refresh could hold). The child has
`read_memory_limit_mb` of address space beyond what the refresh held when it forked, and dies with the
refresh; the parent waits `read_time_limit_seconds` for its answer, then kills it. Whatever happens, the
answer is a batch, a refusal naming the file and the reason, or a fault of the platform naming where in
the code: never the text of an exception, which may quote the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import multiprocessing
import os
import resource
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from samskab.common.settings import Settings
from samskab.ingest.landing import Delivery
from samskab.ingest.sources.common import LandingFileError, Pseudonymise, SourceBatch
from samskab.ingest.sources.registry import source_named

_PR_SET_PDEATHSIG = 1
_FORK = multiprocessing.get_context("fork")


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


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _die_with_the_refresh() -> None:
    """Linux: end this child when its parent, the refresh, ends (killed, it would otherwise read on)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(answer, source_name: str, delivery: Delivery, pseudonymise: Pseudonymise, memory_bytes: int) -> None:
    """In the child: read, and send back ("batch", batch), ("refused", ...), ("memory",) or ("fault", ...)."""
    _die_with_the_refresh()
    faulthandler.disable()  # a crash is told by the parent, by its signal, not as a dump of frames
    with contextlib.suppress(OSError, ValueError):
        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        batch = source_named(source_name).read(delivery, pseudonymise)
        answer.send(("batch", batch))
    except LandingFileError as error:
        answer.send(("refused", str(error.file), error.reason, error.row, error.sheet))
    except MemoryError:
        answer.send(("memory",))
    except Exception as error:
        answer.send(("fault", type(error).__name__, code_location(error)))
    finally:
        answer.close()


def read_delivery(source_name: str, delivery: Delivery, pseudonymise: Pseudonymise, limits: Limits) -> SourceBatch:
    """The delivery read by its source's reader in a child process. Raises LandingFileError for a refused
    file (its own reasons, the time limit, the memory limit) and ReaderFault for an error of the platform."""
    receive, answer = _FORK.Pipe(duplex=False)
    child = _FORK.Process(
        target=_child, args=(answer, source_name, delivery, pseudonymise, limits.memory_bytes), daemon=True
    )
    started = time.monotonic()
    child.start()
    answer.close()
    try:
        if not receive.poll(limits.seconds):
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
        raise LandingFileError(
            Path(delivery.name),
            f"reading it needed more than {limits.memory_bytes // 2**20:,} MB of memory, so it was stopped "
            "(SAMSKAB_READ_MEMORY_LIMIT_MB). Check that the file is what it should be, or raise the limit",
        )
    raise ReaderFault(*rest)


def _signal_name(exitcode: int | None) -> str:
    if exitcode is None or exitcode >= 0:
        return ""
    with contextlib.suppress(ValueError):
        return f": {signal.Signals(-exitcode).name}"
    return ""
