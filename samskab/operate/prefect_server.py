"""The platform's own Prefect server: started and stopped by the platform, never left running by accident.

`samskab serve` keeps one server up for the UI and the nightly schedule and announces it beside the data
lake, so other commands (`samskab refresh`) send their runs to it; without one, a refresh starts a private
server for its own run and stops it afterwards. The server is a `prefect server start` child process on
loopback, with its own process group, that dies with the process that started it, even a killed one.

Prefect is imported inside the functions that need it, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from samskab.common import processes
from samskab.common.processes import pid_alive
from samskab.common.settings import TELEMETRY_OFF

HOST = "127.0.0.1"
ANNOUNCEMENT = ".prefect-server.json"
STOP_GRACE_SECONDS = 15.0


class ServerDidNotStart(RuntimeError):
    """The local Prefect server exited or did not answer in time; the message says which, with its last words."""


class LocalServer:
    """A running `prefect server start` on loopback: `.url` for the API, `.ui_url` for a browser.

    Stop it with `.stop()` or by leaving a `with` block; stopping twice is harmless.
    """

    def __init__(self, process: subprocess.Popen, port: int, log_path: Path, host: str = HOST) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.host = host  # where it listens; its URLs name an address a client can reach it at
        self.ui_url = f"http://{reachable_host(host)}:{port}"
        self.url = f"{self.ui_url}/api"
        self._stopped = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Ask the server's whole process group to stop; kill it if it has not within 15 seconds."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Anything the server started in its group and left behind goes with it.
        _signal_group(self.process.pid, signal.SIGKILL)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalServer(url={self.url!r}, pid={self.pid})"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on this loopback port now (the test `prefect server start` makes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def reachable_host(host: str) -> str:
    """The address clients use for a server listening on `host`: loopback for loopback, this machine's name
    for every address (0.0.0.0), else the address itself."""
    if host in ("127.0.0.1", "localhost"):
        return HOST
    if host in ("0.0.0.0", "::", ""):
        return socket.getfqdn()
    return host


def start_local_server(
    port: int | None = None, *, startup_timeout: float = 120, host: str = HOST, database_url: str | None = None
) -> LocalServer:
    """Start `prefect server start` on 127.0.0.1 (a free port when none is given) and wait until it answers.

    The server keeps its SQLite database under the current PREFECT_HOME, sends no telemetry, and writes
    its output to a log file under PREFECT_HOME rather than the terminal. Its UI calls the API on this
    port. On Linux it is stopped by the kernel when the thread that started it dies, so start it from
    the main thread of a process that lives as long as the server should.

    Raises ServerDidNotStart, naming the port and the server's last lines, when it exits or stays silent
    for `startup_timeout` seconds.
    """
    server = launch_local_server(port, host=host, database_url=database_url)
    try:
        wait_until_answering(server.url, startup_timeout, server)
    except BaseException:
        server.stop()
        raise
    return server


def launch_local_server(port: int | None = None, *, host: str = HOST, database_url: str | None = None) -> LocalServer:
    """`start_local_server` without the wait: the server is starting when this returns (its migrations take
    seconds), so the caller can do other work first and then `wait_until_answering(server.url, ...)`.
    `host`: where it listens (loopback unless a team's workers must reach it); `database_url`: a PostgreSQL
    database (postgresql+asyncpg://...) for its runs instead of SQLite under PREFECT_HOME."""
    port = free_port() if port is None else port
    log_path = _log_path(port)
    api_url = f"http://{reachable_host(host)}:{port}/api"
    environment = _server_environment(api_url)
    if database_url:
        environment["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
    return LocalServer(process, port, log_path, host)


def _server_environment(api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # The server serves; it is no client of another server.
    env.pop("PREFECT_API_URL", None)
    env.update(TELEMETRY_OFF)
    # Without it the UI in a browser calls the API on the default port 4200, not this one.
    env["PREFECT_UI_API_URL"] = api_url
    return env


def _log_path(port: int) -> Path:
    """Where the server's output goes: its PREFECT_HOME when it can be written to, else the temporary folder."""
    from prefect.settings import get_current_settings

    home = os.environ.get("PREFECT_HOME") or str(get_current_settings().home)
    for folder in (Path(home).expanduser(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder / f"local-server-{port}.log"
    raise ServerDidNotStart(f"Found no folder to write the Prefect server's log to (tried {folder}).")


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send the child SIGTERM when its parent dies, or None elsewhere."""
    arrange = processes.parent_death_signal()
    if arrange is None:
        return None
    return lambda: arrange(parent_pid, signal.SIGTERM)


def wait_until_answering(api_url: str, timeout: float, server: LocalServer | None = None) -> None:
    """Wait until the Prefect API at `api_url` answers its health check. With the `server` this process
    started, a server that exits says so at once; without it (a server another process started) only the
    timeout ends the wait. Raises ServerDidNotStart."""
    import httpx

    deadline = time.monotonic() + timeout
    # One client for every try: a new one each time builds its TLS context again (found taking a third of
    # a core while the server started, the very time it needs the machine for its migrations).
    with httpx.Client(timeout=2) as client:
        while True:
            if server is not None and server.process.poll() is not None:
                raise ServerDidNotStart(
                    f"The local Prefect server on port {server.port} stopped while starting "
                    f"(exit code {server.process.returncode}). {_last_words(server)}"
                )
            try:
                if client.get(f"{api_url}/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                said = _last_words(server) if server is not None else ""
                raise ServerDidNotStart(
                    f"The Prefect server at {api_url} did not answer within {timeout:.0f} seconds. {said}".rstrip()
                )
            time.sleep(0.25)


def _last_words(server: LocalServer, n_lines: int = 15) -> str:
    try:
        lines = server.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n_lines:]
    except OSError:
        lines = []
    if not lines:
        return f"It wrote nothing (log: {server.log_path})."
    return f"Its last lines (whole log: {server.log_path}):\n" + "\n".join(f"  {line}" for line in lines)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


# The announcement: how `samskab refresh` finds the server `samskab serve` keeps running for this lake.


def announce(server: LocalServer, lake_dir: Path, docs_url: str = "") -> Path:
    """Write `lake_dir/.prefect-server.json` ({url, ui_url, pid, docs_url}) at once, so no reader sees half
    of it. `docs_url`: where `samskab serve` serves the published documentation (samskab/operate/docs_server.py)."""
    lake_dir.mkdir(parents=True, exist_ok=True)
    path = lake_dir / ANNOUNCEMENT
    record = {"url": server.url, "ui_url": server.ui_url, "pid": server.pid, "docs_url": docs_url}
    with tempfile.NamedTemporaryFile("w", dir=lake_dir, prefix=f"{ANNOUNCEMENT}.", delete=False) as partial:
        json.dump(record, partial)
    os.chmod(partial.name, 0o644)  # readable by whoever shares the lake, as any file written there
    os.replace(partial.name, path)
    return path


def withdraw_announcement(lake_dir: Path) -> None:
    """Remove the announcement (nothing happens when there is none)."""
    (lake_dir / ANNOUNCEMENT).unlink(missing_ok=True)


def running_server_url(lake_dir: Path) -> str | None:
    """The API URL of the server announced for this lake, if it runs and answers within 2 seconds.

    An announcement that cannot be read, names a dead process or a port nobody listens on is removed.
    A server that is alive but slow keeps its announcement; this call then answers None.
    """
    import httpx

    path = lake_dir / ANNOUNCEMENT
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(record["url"]), int(record["pid"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not pid_alive(pid):
        path.unlink(missing_ok=True)
        return None
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=2)
    except httpx.ConnectError:
        path.unlink(missing_ok=True)
        return None
    except httpx.HTTPError:
        return None
    return url if response.status_code == 200 else None


def running_docs_url(lake_dir: Path) -> str | None:
    """Where the `samskab serve` announced for this lake serves the published documentation, if it runs."""
    if running_server_url(lake_dir) is None:
        return None
    try:
        return str(json.loads((lake_dir / ANNOUNCEMENT).read_text(encoding="utf-8")).get("docs_url") or "") or None
    except (OSError, ValueError, AttributeError):
        return None


@contextlib.contextmanager
def refresh_server(lake_dir: Path) -> Iterator[str]:
    """The API URL one refresh reports to: the server `samskab serve` announced, else a private one.

    Inside the block, Prefect in this process (a flow called here, its tasks, logs and artifacts) talks
    to that URL. A private server is stopped when the block ends, after Prefect has sent what it queued.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with contextlib.ExitStack() as stack:
        url = running_server_url(lake_dir)
        if url is None:
            url = stack.enter_context(start_local_server()).url
        # Prefect's log and event senders keep the client they started with: flush and forget them on
        # the way in and out, so nothing this refresh says goes to another server, nor anything else here.
        send_queued_logs_and_events()
        # Prefect reads its settings once, at import: PREFECT_API_URL put in os.environ afterwards is not
        # seen (measured with 3.9.1: the flow started a temporary server of its own). A settings context is.
        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: url}))
        stack.callback(send_queued_logs_and_events)
        yield url


def send_queued_logs_and_events() -> None:
    """Flush Prefect's background log and event senders and stop them; the next use starts fresh ones."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30, at_exit=False)
    EventsWorker.drain_all(timeout=30, at_exit=False)
