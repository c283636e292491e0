"""One writer at a time: a refresh holds an exclusive lock on the data lake for its whole run."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from samskab.common.failures import ReportedFailure, storage_cause


class RefreshAlreadyRunning(RuntimeError):
    """Another refresh holds the lock; this one leaves everything untouched."""


class LockNotTaken(ReportedFailure):
    """The lock file could not be made or written (a full disk, most often); says why in words."""


@contextmanager
def refresh_lock(path: Path) -> Iterator[None]:
    """Hold the data lake's writer lock, or raise RefreshAlreadyRunning at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as error:
        raise _not_taken(error) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RefreshAlreadyRunning(
                f"A refresh is already running ({holder}); this one changed nothing. "
                "Wait for it to finish, then look at `samskab status`."
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
        except OSError as error:
            raise _not_taken(error) from None
        yield
    finally:
        with contextlib.suppress(OSError):  # closing flushes again what could not be written: told above
            handle.close()


def _not_taken(error: OSError) -> LockNotTaken:
    cause = storage_cause(error) or f"{type(error).__name__} ({errno.errorcode.get(error.errno or 0, 'no errno')})"
    return LockNotTaken(
        f"The refresh could not take the data lake's lock file (.refresh.lock): {cause}. It changed nothing; "
        "analysts keep the file published before. Next: free space on the data lake's disk (`df -h`), then run "
        "`samskab refresh` again."
    )
