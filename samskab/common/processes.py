"""Whether a process of this machine still runs."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True while process `pid` runs (someone else's included); False for a pid no process has."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True
