"""`samskab serve` in a process of a test's own: its environment (a Prefect home of its own, no server to
talk to), waiting for it to serve, and the processes of its group that still run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from samskab.common.settings import TELEMETRY_OFF
from tests.lakes import start_samskab

# Where in the session's Prefect home the migrated, empty database is kept (conftest.py makes it).
PREFECT_TEMPLATE = "migrated-template"
UI_ADDRESS = re.compile(r"Prefect server runs at (http://127\.0\.0\.1:\d+)")


def serve_environment(prefect_home: Path, **extra: str) -> dict[str, str]:
    """The test's environment for a child process, with its own Prefect home and no server to talk to. The
    home holds a copy of the session's migrated Prefect database (conftest.py) once that is ready."""
    _with_migrated_database(prefect_home)
    env = {key: value for key, value in os.environ.items() if key not in {"PREFECT_API_URL", "SAMSKAB_PSEUDONYM_KEY"}}
    env.update(PREFECT_HOME=str(prefect_home), PYTHONUNBUFFERED="1", **TELEMETRY_OFF, **extra)
    return env


def _with_migrated_database(prefect_home: Path) -> None:
    """Copy the session's Prefect database, migrated and empty, into `prefect_home`: a server's first start
    on a new database spends about 7 of its 12 CPU-seconds migrating it. Waits for the copy the session
    makes (conftest.py) to be ready; if it could not be made, the server migrates a new one (slower, the
    same server)."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    session_home = os.environ.get("SAMSKAB_TESTS_PREFECT_HOME")
    if not session_home:
        return
    template = Path(session_home) / PREFECT_TEMPLATE
    deadline = time.monotonic() + 180
    while not (template / "failed").exists() and time.monotonic() < deadline:
        if (template / "ready").exists():
            shutil.copy(template / "prefect.db", prefect_home / "prefect.db")
            return
        time.sleep(0.5)


def living(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for init to reap it runs no more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def living_group_members(pgid: int) -> list[str]:
    members = []
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rsplit(")", 1)[1].split()
            command = (stat_path.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            members.append(f"{stat_path.parent.name} {command}")
    return members


def wait_for(condition, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def wait_for_ui_address(process: subprocess.Popen, output: Path, timeout: float) -> str:
    def printed_address() -> str | None:
        match = UI_ADDRESS.search(output.read_text(encoding="utf-8", errors="replace"))
        if match is None and process.poll() is not None:
            pytest.fail(f"samskab serve exited ({process.returncode}) before it served:\n{output.read_text()}")
        return match.group(1) if match else None

    address = wait_for(printed_address, timeout)
    assert address, f"samskab serve printed no UI address within {timeout} s:\n{output.read_text()}"
    return address


def start_serve(port: int, env: dict[str, str], output: Path) -> subprocess.Popen:
    """`samskab serve --port PORT` as a researcher starts it, its output written to `output`."""
    return start_samskab(["serve", "--port", str(port)], env, output)
