"""The published documentation over HTTP on loopback, while `samskab serve` runs.

A browser refuses a `file://` link on a web page (the Prefect UI's run summary is one), so `samskab serve`
also serves the folder of the published file's documentation (`published/docs/`: the study report, dbt's
docs, Great Expectations' Data Docs) read-only on 127.0.0.1, and announces its address beside the lake; a
run's summary links there. Only GET and HEAD are answered, no folder is listed, and nothing outside the
folder is reachable (the standard library's file handler keeps a path inside its folder).
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from samskab.operate.prefect_server import HOST, port_is_free


class _DocsHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No line per request in the terminal of `samskab serve`."""

    def list_directory(self, path):
        """A folder without an index page is not listed."""
        self.send_error(404, "Not found")
        return None


class DocsServer:
    """`DocsServer(docs_dir, port)` serves `docs_dir` at `.url` until `.stop()`; port 0 takes a free one."""

    def __init__(self, docs_dir: Path, port: int = 0) -> None:
        handler = functools.partial(_DocsHandler, directory=str(docs_dir))
        self._server = ThreadingHTTPServer((HOST, port), handler)
        self._server.daemon_threads = True
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="docs-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def docs_port(prefect_port: int) -> int:
    """The port next to the Prefect server's when it is free (4201 beside 4200), else any free one."""
    return prefect_port + 1 if prefect_port < 65535 and port_is_free(prefect_port + 1) else 0
