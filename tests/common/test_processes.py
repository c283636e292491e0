"""Whether a process runs: a process that ended but was never collected by its parent (a zombie) does not."""

from __future__ import annotations

import subprocess
import sys
import time

from samskab.common.processes import pid_alive


def test_an_ended_process_not_yet_collected_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    assert pid_alive(child.pid)
    deadline = time.monotonic() + 30
    while pid_alive(child.pid) and time.monotonic() < deadline:  # it ends; nobody has collected it yet
        time.sleep(0.05)
    assert not pid_alive(child.pid)
    assert child.poll() == 0  # collected only now: until here it was a zombie, counted as not running
    assert not pid_alive(child.pid)
