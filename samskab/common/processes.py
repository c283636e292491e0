"""Processes of this machine: whether one still runs, and a child that must not outlive its parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while process `pid` runs (someone else's included); False for a pid no process has, or one
    that has ended but not yet been collected (a zombie)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that ended and waits for its parent to collect its exit status runs no more (its parent
    killed, it waits for init, and a container's init may never collect it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:  # no /proc here, or gone since
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Set by `samskab serve` for the processes it starts (each nightly run's own process): its pid.
SERVED_BY = "SAMSKAB_SERVED_BY"


def parent_death_signal() -> Callable[[int, int], None] | None:
    """A function `arrange(parent_pid, signal)` asking Linux to send the calling process `signal` when its
    parent dies (or at once, if the parent `parent_pid` died already); None where Linux cannot be asked.

    prctl is looked up here, so that a child between fork and exec (a `preexec_fn`) only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def arrange(parent_pid: int, sent: int) -> None:
        prctl(_PR_SET_PDEATHSIG, sent, 0, 0, 0)
        # The parent may have died before prctl; then nobody would send the signal.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), sent)

    return arrange


def end_with_serve() -> None:
    """In a nightly run's own process started by `samskab serve`: end when serve ends, killed or not.

    Serve's Prefect server ends with it (samskab/operate/prefect_server.py); a run left behind would go on
    writing the warehouse with nobody to report to, and its flow run would stay Running. Killed, it is
    found by the next refresh, closed as died and marked Crashed, like any run killed half way."""
    served_by = os.environ.get(SERVED_BY, "")
    arrange = parent_death_signal()
    if served_by.isdigit() and int(served_by) == os.getppid() and arrange is not None:
        arrange(int(served_by), signal.SIGKILL)
