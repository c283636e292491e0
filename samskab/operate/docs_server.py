"""The published documentation over HTTP on loopback, while `samskab serve` runs.

A browser refuses a `file://` link on a web page (the Prefect UI's run summary is one), so `samskab serve`
also serves the folder of the published file's documentation (`published/docs/`: the study report, dbt's
docs, the quality checks' page and Great Expectations' Data Docs it links) read-only on 127.0.0.1, and
announces its address beside the lake; a run's summary links there. Routes the command gives answer the
requests under their prefix: `/snapshots/`, the kept snapshots and each one's study report, drawn on its
first request (samskab/analysts/snapshot_reports.py, wired in by samskab/cli.py). Only GET and HEAD are
answered, no folder is listed, and nothing outside the folder is reachable (the standard library's file
handler keeps a path inside its folder; a route is given one name, never a path).
"""

from __future__ import annotations

import functools
import html
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from samskab.common import failures
from samskab.operate.prefect_server import HOST, port_is_free


@dataclass(frozen=True)
class Answer:
    """What a route answers: a page drawn now (`page`), or None to serve the file the request names from the
    docs folder (a route may draw that file first)."""

    status: int = 200
    page: str | None = None


# A route answers the requests under its prefix, given the rest of the path (one name, no "/"); None: 404.
Route = Callable[[str], Answer | None]


class _DocsHandler(SimpleHTTPRequestHandler):
    routes: Mapping[str, Route] = {}  # set on a subclass: prefix ("/snapshots/") -> route

    def log_message(self, format: str, *args: object) -> None:
        """No line per request in the terminal of `samskab serve`."""

    def do_GET(self) -> None:
        if self._routed():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._routed():
            super().do_HEAD()

    def _routed(self) -> bool:
        """Answer a request under a route's prefix; True when the file handler is to answer it (any other
        request, or a file the route has drawn)."""
        path = unquote(urlsplit(self.path).path)
        for prefix, route in self.routes.items():
            if not (path + "/").startswith(prefix):
                continue
            name = path[len(prefix) :]
            try:
                answer = None if "/" in name else route(name)
            except Exception as error:  # a page that cannot be drawn is said, never a traceback
                answer = Answer(500, f"<p>{html.escape(failures.describe(error))}</p>")
            if answer is None:
                self.send_error(404, "Not found")
                return False
            if answer.page is not None:
                self._send(answer.status, answer.page)
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
    """`DocsServer(docs_dir, port, routes)` serves `docs_dir` at `.url` until `.stop()`, and each route the
    requests under its prefix; port 0 takes a free one."""

    def __init__(self, docs_dir: Path, port: int = 0, routes: Mapping[str, Route] | None = None) -> None:
        handler_class = type("DocsHandler", (_DocsHandler,), {"routes": dict(routes or {})})
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
