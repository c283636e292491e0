"""A loopback HTTP server that stands for the Statbank API by replaying recorded answers.

When `SAMSKAB_STATBANK_API` is "recorded" (the default), the connector (`samskab/ingest/statbank_api.py`) asks
this server instead of https://api.statbank.dk/v1/, so no run needs the network and every test meets a
real HTTP conversation: sockets, status codes, headers, streamed bodies, slow answers.

The recordings live in one folder (`data_lake/recorded_api/statbank/`):

- `index.json`: a list of interactions, each
  `{"request": {"method": "POST", "path": "/v1/data", "json": {...the request body...}},
  "responses": [{"status": 200, "headers": {"Content-Type": "text/csv; charset=UTF-8"},
  "body_file": "FOLK1A_data.csv", "delay_seconds": 0}, ...]}`;
- the body files the responses name, beside `index.json`, served byte for byte.

A request matches an interaction when its method, its path and its JSON body (compared after parsing,
so key order and spacing do not matter) are equal to the recorded ones. The interaction's responses are
served in order, one per matching request, the last one repeating: `[503, 200]` reads "the first
attempt fails, every later one works". A response's `delay_seconds` holds the answer back that long, so
a delay above the client's timeout stands for a timeout. A request nothing matches is answered 404 with
`{"errorTypeCode": "REPLAY-NO-RECORDING", "message": ...}` naming the path and the table, so a developer
knows which recording is missing.

`record_interaction()` adds answers to a recordings folder; the sample generator writes the embedded
sample's recordings with it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

INDEX = "index.json"
NO_RECORDING = "REPLAY-NO-RECORDING"
API_PREFIX = "/v1/"
CHUNK = 1 << 16


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the replay server received, as the client sent it."""

    method: str
    path: str
    json: Any  # the parsed body; None when the body was empty or not JSON
    matched: bool


def load_index(folder: Path) -> list[dict[str, Any]]:
    """The interactions recorded in `folder/index.json`; ValueError saying what is wrong with the file."""
    path = folder / INDEX
    if not path.is_file():
        raise ValueError(f"There is no {INDEX} in the Statbank recordings folder {folder.name}/.")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"The recordings index {folder.name}/{INDEX} is not readable JSON ({error}).") from None
    if not isinstance(index, list):
        raise ValueError(f"The recordings index {folder.name}/{INDEX} should be a list of interactions.")
    for number, interaction in enumerate(index, start=1):
        request = interaction.get("request") if isinstance(interaction, dict) else None
        responses = interaction.get("responses") if isinstance(interaction, dict) else None
        if not isinstance(request, dict) or not isinstance(responses, list) or not responses:
            raise ValueError(
                f"Interaction {number} of {folder.name}/{INDEX} needs a 'request' object and a non-empty "
                "'responses' list."
            )
        for response in responses:
            body_file = response.get("body_file") if isinstance(response, dict) else None
            if body_file is not None and not _inside(folder, body_file):
                raise ValueError(
                    f"Interaction {number} of {folder.name}/{INDEX} names the body file {body_file!r}, "
                    "which is not a file beside the index."
                )
    return index


def _inside(folder: Path, name: str) -> bool:
    """Whether `name` is a plain file name in `folder` (no way out of the recordings folder)."""
    return bool(name) and Path(name).name == name and name not in (".", "..")


class _Replay:
    """The recorded interactions and how many times each has been asked, shared by the handler threads."""

    def __init__(self, folder: Path, interactions: list[dict[str, Any]]) -> None:
        self.folder = folder
        self.interactions = interactions
        self.served = [0] * len(interactions)
        self.received: list[ReceivedRequest] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def answer(self, method: str, path: str, body: Any) -> dict[str, Any] | None:
        """The next recorded response for this request (and count it), or None when nothing matches."""
        with self.lock:
            for number, interaction in enumerate(self.interactions):
                recorded = interaction["request"]
                if (
                    recorded.get("method", "POST").upper() == method
                    and recorded.get("path") == path
                    and recorded.get("json") == body
                ):
                    responses = interaction["responses"]
                    response = responses[min(self.served[number], len(responses) - 1)]
                    self.served[number] += 1
                    self.received.append(ReceivedRequest(method, path, body, True))
                    return response
            self.received.append(ReceivedRequest(method, path, body, False))
            return None


class _ReplayHTTPServer(ThreadingHTTPServer):
    # Handler threads are joined when the server closes, so no thread outlives the context.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], replay: _Replay) -> None:
        self.replay = replay
        super().__init__(address, _ReplayHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (its timeout ran out) is part of the replay, not an error to print.
        pass


class _ReplayHandler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a handler thread ends with its answer.
    protocol_version = "HTTP/1.0"
    server_version = "StatbankReplay/1"
    timeout = 10  # seconds a client may take to send its request
    server: _ReplayHTTPServer

    def do_POST(self) -> None:
        self._replay()

    def do_GET(self) -> None:
        self._replay()

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: the requests are counted in `ReplayServer.received`, not printed.
        pass

    def _replay(self) -> None:
        replay = self.server.replay
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        path = self.path.split("?", 1)[0]
        response = replay.answer(self.command, path, body)
        try:
            if response is None:
                self._send_no_recording(path, body, raw)
            else:
                self._send_recorded(replay, response)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the client gave up waiting; nothing to answer

    def _send_no_recording(self, path: str, body: Any, raw: bytes) -> None:
        table = body.get("table") if isinstance(body, dict) else None
        what = f"table {table}" if table else ("a body that is not JSON" if raw else "no body")
        message = (
            f"No recording for {self.command} {path} with this body ({what}). Record the answer into the "
            f"recordings' {INDEX} (samskab.ingest.statbank_replay.record_interaction), or ask the live API "
            "with SAMSKAB_STATBANK_API=https://api.statbank.dk/v1/."
        )
        self._send_json(HTTPStatus.NOT_FOUND, {"errorTypeCode": NO_RECORDING, "message": message})

    def _send_json(self, status: HTTPStatus, answer: dict[str, str]) -> None:
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_recorded(self, replay: _Replay, response: dict[str, Any]) -> None:
        delay = float(response.get("delay_seconds") or 0)
        if delay > 0 and replay.stopping.wait(delay):
            return  # the server is shutting down: drop the held-back answer
        body_file = response.get("body_file")
        path = replay.folder / body_file if body_file else None
        if path is not None and not path.is_file():
            self._send_json(
                HTTPStatus.NOT_FOUND,
                {"errorTypeCode": NO_RECORDING, "message": f"The recorded body file {body_file} is missing."},
            )
            return
        size = path.stat().st_size if path is not None else 0
        self.send_response(int(response.get("status", 200)))
        for name, value in (response.get("headers") or {}).items():
            if name.lower() != "content-length":
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if path is None:
            return
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                self.wfile.write(chunk)


class ReplayServer:
    """The replay server over one recordings folder, on 127.0.0.1; use it as a context manager.

    `with ReplayServer(folder) as server:` starts it on a free port (unless `port` is given);
    `server.url` is its API root (`http://127.0.0.1:PORT/v1/`), `server.received` the requests it got.
    Leaving the block stops it, cuts short any held-back answer and joins every thread it started.
    The index is read once, at the start.
    """

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self._server: _ReplayHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self._replay: _Replay | None = None

    @property
    def url(self) -> str:
        """The API root the connector asks, e.g. http://127.0.0.1:53211/v1/."""
        if self._server is None:
            raise RuntimeError("The replay server is not running.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    @property
    def received(self) -> list[ReceivedRequest]:
        """Every request received so far, in order."""
        if self._replay is None:
            return []
        with self._replay.lock:
            return list(self._replay.received)

    def count(self, path: str | None = None) -> int:
        """How many requests were received (for `path` alone, e.g. "/v1/data", if given)."""
        return sum(1 for request in self.received if path is None or request.path == path)

    def start(self) -> ReplayServer:
        """Read the index and start serving; ValueError when the recordings cannot be read."""
        if self._server is not None:
            raise RuntimeError("The replay server is already running.")
        self._replay = _Replay(self.folder, load_index(self.folder))
        self._server = _ReplayHTTPServer((self.host, self.port), self._replay)
        self.thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="statbank-replay", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wait for every thread of the server to end."""
        if self._server is None:
            return
        assert self._replay is not None and self.thread is not None
        self._replay.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self.thread.join()
        self._server = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _api_path(path: str) -> str:
    """ "data", "v1/data" or "/v1/data" -> "/v1/data"."""
    path = path.strip()
    if path.startswith("/"):
        return path
    if path.startswith(API_PREFIX[1:]):
        return "/" + path
    return API_PREFIX + path


def _extension(content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind.endswith("json"):
        return ".json"
    if kind.endswith("csv"):
        return ".csv"
    return ".txt"


def record_interaction(
    folder: Path,
    path: str,
    body: Any,
    status: int,
    body_bytes: bytes,
    content_type: str,
    delay_seconds: float = 0,
    *,
    method: str = "POST",
) -> Path:
    """Add one recorded answer to the recordings in `folder`, and return the body file written.

    `path` is the API endpoint ("tableinfo", "data" or "/v1/data"); `body` the JSON request body
    the answer belongs to (a dict); `status`, `body_bytes` and `content_type` the answer served;
    `delay_seconds` holds it back that long (above the client's timeout it stands for a timeout).

    The first call for a request creates its interaction in `index.json`; later calls with the same
    method, path and body append a response, served after the earlier ones (the last one repeats).
    The body file is named after the table and the endpoint (`FOLK1A_data.csv`, then `FOLK1A_data_2.csv`,
    ...), so the same calls in the same order write the same folder byte for byte.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    index = load_index(folder) if (folder / INDEX).exists() else []
    method, api_path = method.upper(), _api_path(path)
    interaction = next(
        (
            item
            for item in index
            if item["request"].get("method", "POST").upper() == method
            and item["request"].get("path") == api_path
            and item["request"].get("json") == body
        ),
        None,
    )
    if interaction is None:
        interaction = {"request": {"method": method, "path": api_path, "json": body}, "responses": []}
        index.append(interaction)
    table = body.get("table") if isinstance(body, dict) else None
    stem = re.sub(r"[^0-9A-Za-z]+", "_", f"{table or 'request'}_{api_path.rstrip('/').rsplit('/', 1)[-1]}")
    extension = _extension(content_type)
    taken = {response.get("body_file") for item in index for response in item["responses"]}
    name, number = f"{stem}{extension}", 1
    while name in taken:
        number += 1
        name = f"{stem}_{number}{extension}"
    (folder / name).write_bytes(body_bytes)
    interaction["responses"].append(
        {
            "status": int(status),
            "headers": {"Content-Type": content_type},
            "body_file": name,
            "delay_seconds": delay_seconds,
        }
    )
    temporary = folder / f".{INDEX}.part"
    temporary.write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, folder / INDEX)
    return folder / name
