"""The published documentation over HTTP on loopback, while `samskab serve` runs.

A browser refuses a `file://` link on a web page (the Prefect UI's run summary is one), so `samskab serve`
also serves the folder of the published file's documentation (`published/docs/`: the study report, dbt's
docs, the quality checks' page and Great Expectations' Data Docs it links) read-only on 127.0.0.1, and
announces its address beside the lake; a run's summary links there. Given the lake's settings, it also
serves `/snapshots/`: the kept snapshots and each one's study report, drawn on its first request
(samskab/analysts/snapshot_reports.py). Only GET and HEAD are answered, no folder is listed, and nothing
outside the folder is reachable (the standard library's file handler keeps a path inside its folder; a
snapshot's report is asked for by the name the index gives, never by a path).
"""

from __future__ import annotations

import functools
import html
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from samskab.common import failures
from samskab.common.settings import Settings
from samskab.operate.prefect_server import HOST, port_is_free

SNAPSHOTS = "/snapshots/"


class _DocsHandler(SimpleHTTPRequestHandler):
    settings: Settings | None = None  # set on a subclass: then /snapshots/ is served too

    def log_message(self, format: str, *args: object) -> None:
        """No line per request in the terminal of `samskab serve`."""

    def do_GET(self) -> None:
        if self._snapshots():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._snapshots():
            super().do_HEAD()

    def _snapshots(self) -> bool:
        """Answer a request under /snapshots/ (the index, or a report drawn first if it is not yet);
        True when the file handler is to answer it (anything else, or a report now drawn)."""
        from samskab.analysts import snapshot_reports
        from samskab.publish.snapshots import SnapshotChanged

        path = unquote(urlsplit(self.path).path)
        if self.settings is None or not (path + "/").startswith(SNAPSHOTS):
            return True
        name = path[len(SNAPSHOTS) :]
        try:
            if name in ("", "index.html"):
                self._send(200, snapshot_reports.index_page(self.settings))
                return False
            if "/" in name or snapshot_reports.report(self.settings, name) is None:
                self.send_error(404, "Not found")
                return False
        except SnapshotChanged as changed:
            self._send(409, f"<p>{html.escape(str(changed))}</p>")
            return False
        except Exception as error:  # a report that cannot be drawn is said, never a traceback
            self._send(500, f"<p>{html.escape(failures.describe(error))}</p>")
            return False
        return True

    def _send(self, status: int, page: str) -> None:
        body = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def list_directory(self, path):
        """A folder without an index page is not listed."""
        self.send_error(404, "Not found")
        return None


class DocsServer:
    """`DocsServer(docs_dir, port, settings)` serves `docs_dir` at `.url` until `.stop()`, and with the lake's
    `settings` the snapshots' reports under /snapshots/; port 0 takes a free one."""

    def __init__(self, docs_dir: Path, port: int = 0, settings: Settings | None = None) -> None:
        handler_class = type("DocsHandler", (_DocsHandler,), {"settings": settings})
        handler = functools.partial(handler_class, directory=str(docs_dir))
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
