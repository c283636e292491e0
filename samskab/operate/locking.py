"""One writer at a time: a refresh holds an exclusive lock on the data lake for its whole run."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RefreshAlreadyRunning(RuntimeError):
    """Another refresh holds the lock; this one leaves everything untouched."""


@contextmanager
def refresh_lock(path: Path) -> Iterator[None]:
    """Hold the data lake's writer lock, or raise RefreshAlreadyRunning at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
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
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()
