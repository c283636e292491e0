"""The connector that asks the Statbank API for the declared tables and lands each answer with its request.

Statistics Denmark's Statbank API (https://api.statbank.dk/v1/) answers POST requests with a JSON body.
For every table declared in `dbt_project/seeds/statbank_tables.csv` the connector asks two things:

1. `tableinfo`: the table's description (its variables and their values), as JSON;
2. `data`: the selected cells, as CSV (UTF-8 with a byte-order mark, CRLF, semicolons). Up to
   1,000,000 cells it asks `"format": "CSV"`; above that the API refuses CSV, so it asks `BULK`, the same
   CSV shape streamed without a cell limit. BULK wants every variable of the table named: a variable the
   seed does not select is asked for its total (its first value whose text is "I alt"/"Total" or ends
   in " i alt", or whose code is TOT/IALT; failing that, its first value), which is what CSV gives for an
   eliminated variable.

Every answer lands in `data_lake/landing/statbank/api/` as `<TABLE>_<UTC stamp>.tableinfo.json` and
`<TABLE>_<UTC stamp>.csv`, each beside a request record (`<TABLE>_<stamp>.tableinfo.request.json`,
`<TABLE>_<stamp>.request.json`): the URL, the body sent, when, the status, the content type, the size, the
SHA-256, whether the API was live or recorded, the cell count and the attempts it took. A file is
written under a temporary name (`.<name>.part`) and moved into place, the request records last, so an
interrupted fetch leaves no half file under a final name; an answer without its request record is the
trace of an interrupted fetch, and `.part` files are leftovers that may be deleted. An answer equal
(same SHA-256) to the newest landed answer of the same kind, table and request body is not landed
again, so a nightly fetch of an unchanged table adds nothing.

Network errors (timeouts included) and 5xx answers are tried again, with a backoff doubling from
`statbank_backoff_seconds`, up to `statbank_attempts` attempts; a 4xx answer is the API refusing the
request and is never retried. A table that fails lands nothing and never stops the others: the
refresh then uses what landed before.

With `SAMSKAB_STATBANK_API=recorded` (the default) the connector asks a loopback server replaying
the recordings in `data_lake/recorded_api/statbank/` (`samskab/ingest/statbank_replay.py`) instead of
the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx

from samskab.common import reference, stop_points
from samskab.common.atomic_files import write_atomically
from samskab.common.settings import Settings, get_settings
from samskab.common.words import FetchState
from samskab.ingest.statbank_replay import INDEX, NO_RECORDING, ReplayServer

LIVE_API = "https://api.statbank.dk/v1/"
RECORDED = "recorded"
LIVE = "live"
SEED = "statbank_tables"
SEED_PATH = f"dbt_project/seeds/{SEED}.csv"
CELL_LIMIT = 1_000_000
CSV = "CSV"
BULK = "BULK"
API_FOLDER = "statbank/api"  # under the landing zone

LANDED, UNCHANGED, FAILED = FetchState.LANDED, FetchState.UNCHANGED, FetchState.FAILED

TABLEINFO = "tableinfo"
DATA = "data"

ERROR_BODY_LIMIT = 64 * 1024  # bytes of a refusal read to find its error message
QUOTE_LIMIT = 200  # characters of a refusal that is not JSON quoted in the message
MESSAGE_LIMIT = 500  # characters of the API's error message kept
CHUNK = 1 << 16
KEEPS_PREVIOUS = "nothing landed — the refresh uses what landed before"
CHECK_SEED = f"Check the table's line in {SEED_PATH}"
ASK_LIVE = f"SAMSKAB_STATBANK_API={LIVE_API}"

_STAMP = r"\d{8}T\d{6}Z(?:-\d+)?"
log = logging.getLogger(__name__)


# --- What is asked ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRequest:
    """One declared table: which values of which variables to ask, in which presentation and language.

    `variables` is a tuple of (variable code, values) pairs; the value "*" means every value. A variable
    of the table that is not named is eliminated (the API gives its total).
    """

    table_id: str
    variables: tuple[tuple[str, tuple[str, ...]], ...]
    value_presentation: str = "Code"
    lang: str = "da"

    def tableinfo_body(self) -> dict[str, Any]:
        """The body of the `tableinfo` request that describes the table."""
        return {"table": self.table_id, "format": "JSON", "lang": self.lang}

    def data_body(self, tableinfo: dict[str, Any], data_format: str = CSV) -> dict[str, Any]:
        """The body of the `data` request: the declared variables (CSV), or every variable of the table (BULK)."""
        if data_format == BULK:
            variables = bulk_variables(tableinfo, self)
        else:
            variables = [{"code": code, "values": list(values)} for code, values in self.variables]
        return {
            "table": self.table_id,
            "format": data_format,
            "lang": self.lang,
            "valuePresentation": self.value_presentation,
            "variables": variables,
        }


def parse_variables(text: str, table_id: str = "") -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Read a seed's `variables` cell, e.g. `OMRÅDE=*;KØN=TOT,1,2;Tid=*`, into (code, values) pairs.

    ValueError, naming the table and the seed, when a part is not `CODE=value[,value...]`.
    """
    pairs = []
    for part in (part.strip() for part in text.split(";")):
        if not part:
            continue
        code, equals, values_text = part.partition("=")
        values = tuple(value.strip() for value in values_text.split(",") if value.strip())
        if not equals or not code.strip() or not values:
            raise ValueError(
                f"The variables of table {table_id or '?'} in {SEED_PATH} read {text!r}; each variable should "
                "read CODE=value,value (or CODE=* for every value), variables separated by ';', e.g. "
                "OMRÅDE=*;KØN=TOT,1,2;Tid=*."
            )
        pairs.append((code.strip(), values))
    if not pairs:
        raise ValueError(f"Table {table_id or '?'} in {SEED_PATH} selects no variables; e.g. OMRÅDE=*;Tid=*.")
    return tuple(pairs)


def declared_tables(names: Iterable[str] | None = None) -> list[TableRequest]:
    """The tables declared in the seed statbank_tables, in its order (only those in `names`, if given).

    ValueError naming the seed and listing the declared tables when a name is not declared, or when a
    line of the seed cannot be read.
    """
    tables = []
    for row in reference.seed_rows(SEED):
        table_id = (row.get("table_id") or "").strip()
        if not table_id:
            continue
        tables.append(
            TableRequest(
                table_id=table_id,
                variables=parse_variables(row.get("variables") or "", table_id),
                value_presentation=(row.get("value_presentation") or "").strip() or "Code",
                lang=(row.get("lang") or "").strip() or "da",
            )
        )
    if names is None:
        return tables
    wanted = [name.strip() for name in names]
    declared = {table.table_id.upper() for table in tables}
    unknown = [name for name in wanted if name.upper() not in declared]
    if unknown:
        listed = ", ".join(table.table_id for table in tables) or "none"
        raise ValueError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not declared in {SEED_PATH} "
            f"(declared tables: {listed}). Add a line there to fetch another table."
        )
    chosen = {name.upper() for name in wanted}
    return [table for table in tables if table.table_id.upper() in chosen]


def _variables_of(tableinfo: dict[str, Any]) -> list[dict[str, Any]]:
    return tableinfo["variables"]


def _selection(request: TableRequest) -> dict[str, tuple[str, ...]]:
    # The API reads variable codes regardless of case (its CSV heads Tid as TID).
    return {code.casefold(): values for code, values in request.variables}


def _selected_count(variable: dict[str, Any], values: tuple[str, ...]) -> int:
    codes = [str(value["id"]) for value in variable["values"]]
    if "*" in values:
        return len(codes)
    chosen: set[str] = set()
    for value in values:
        if "*" in value:
            chosen.update(code for code in codes if fnmatchcase(code, value))
        else:
            chosen.add(value)
    return len(chosen)


def cell_count(tableinfo: dict[str, Any], request: TableRequest) -> int:
    """How many cells the request selects: the product over the table's variables of the values chosen.

    `*` counts every value the tableinfo lists for the variable (a value with `*` inside counts the
    codes it matches); a variable the request does not name counts 1 (its total).
    """
    selection = _selection(request)
    cells = 1
    for variable in _variables_of(tableinfo):
        values = selection.get(str(variable["id"]).casefold())
        if values is not None:
            cells *= _selected_count(variable, values)
    return cells


def total_value(variable: dict[str, Any]) -> str:
    """The code standing for a variable's total: the first value whose text is "I alt"/"Total" or ends in
    " i alt", or whose code is TOT/IALT; failing that, the variable's first value."""
    values = variable["values"]
    for value in values:
        text = str(value.get("text", "")).strip().casefold()
        code = str(value["id"]).strip().upper()
        if text in ("i alt", "total") or text.endswith(" i alt") or code in ("TOT", "IALT"):
            return str(value["id"])
    return str(values[0]["id"])


def bulk_variables(tableinfo: dict[str, Any], request: TableRequest) -> list[dict[str, Any]]:
    """Every variable of the table, in the tableinfo's order, for a BULK request (BULK eliminates none):
    the declared values where the request names the variable, else the variable's total."""
    selection = _selection(request)
    return [
        {
            "code": str(variable["id"]),
            "values": list(selection.get(str(variable["id"]).casefold(), (total_value(variable),))),
        }
        for variable in _variables_of(tableinfo)
    ]


# --- Asking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A 2xx answer streamed to a file: where it came from and what it was."""

    url: str
    status: int
    content_type: str
    bytes: int
    sha256: str
    attempts: int


class StatbankError(Exception):
    """The Statbank API gave no usable answer to a request."""


class StatbankRefused(StatbankError):
    """The API answered 4xx: it refused the request, and asking again would not change that."""

    def __init__(self, endpoint: str, status: int, code: str | None, message: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        """`REQUEST-MISSING: Format ikke angivet, ...`, or `HTTP 400, an answer that is not JSON: '...'`."""
        return f"{self.code}: {self.message}" if self.code else f"HTTP {self.status}, {self.message}"


class StatbankUnreachable(StatbankError):
    """Every attempt ended in a network error, a timeout or a 5xx answer."""

    def __init__(self, endpoint: str, outcomes: list[str]) -> None:
        self.endpoint = endpoint
        self.outcomes = outcomes  # one per attempt: "timeout", "503", "ConnectError", ...
        super().__init__(f"no answer to the {endpoint} request after {len(outcomes)} attempts ({', '.join(outcomes)})")


def normalise_api_url(url: str) -> str:
    """The API root with exactly one trailing slash: `https://api.statbank.dk/v1` -> `.../v1/`."""
    return url.strip().rstrip("/") + "/"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quote(text: str) -> str:
    text = _one_line(text)
    return repr(text[:QUOTE_LIMIT] + ("…" if len(text) > QUOTE_LIMIT else ""))


def _describe(error: httpx.TransportError) -> str:
    return "timeout" if isinstance(error, httpx.TimeoutException) else type(error).__name__


def _refusal(endpoint: str, response: httpx.Response) -> StatbankRefused:
    """Read at most 64 KB of a refusal and take its errorTypeCode and message (nothing else of it)."""
    raw = bytearray()
    try:
        for chunk in response.iter_bytes():
            raw += chunk
            if len(raw) >= ERROR_BODY_LIMIT:
                break
    except httpx.TransportError:
        pass  # judge what arrived
    text = bytes(raw[:ERROR_BODY_LIMIT]).decode("utf-8-sig", errors="replace")
    status = response.status_code
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        return StatbankRefused(endpoint, status, None, f"an answer that is not JSON: {_quote(text)}")
    if isinstance(answer, dict) and ("errorTypeCode" in answer or "message" in answer):
        code = _one_line(str(answer.get("errorTypeCode") or "")) or None
        message = _one_line(str(answer.get("message") or ""))[:MESSAGE_LIMIT] or "no message"
        return StatbankRefused(endpoint, status, code, message)
    return StatbankRefused(endpoint, status, None, f"an answer that is not a Statbank error message: {_quote(text)}")


def _stream_to(response: httpx.Response, target: Path) -> tuple[int, str]:
    """Write the answer's body to `target` as it arrives; its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as handle:
        for chunk in response.iter_bytes(CHUNK):
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return size, digest.hexdigest()


class StatbankClient:
    """Posts requests to the Statbank API (or its replay), with a timeout and retries.

    Network errors (timeouts included) and 5xx answers are tried again up to `attempts` attempts in all,
    waiting `backoff_seconds`, then twice that, and so on (`sleep` is injectable for tests); a 4xx
    answer raises `StatbankRefused` at once. `api` ("live" or "recorded") is written into the request
    records. Use it as a context manager, or call `close()`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api: str = LIVE,
        timeout_seconds: float = 30.0,
        attempts: int = 4,
        backoff_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = normalise_api_url(base_url)
        self.api = api
        self.attempts = max(1, int(attempts))
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_seconds),
            # The loopback replay is never reached through a proxy; the live API may need the environment's.
            trust_env=api != RECORDED,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "samskab (research data platform of the samskabelse study)"},
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        base_url: str,
        *,
        api: str,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> StatbankClient:
        """A client with the settings' timeout, attempts and backoff."""
        return cls(
            base_url,
            api=api,
            timeout_seconds=settings.statbank_timeout_seconds,
            attempts=settings.statbank_attempts,
            backoff_seconds=settings.statbank_backoff_seconds,
            sleep=sleep,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StatbankClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def download(self, endpoint: str, body: dict[str, Any], target: Path) -> Answer:
        """POST `body` to `endpoint` ("tableinfo", "data") and stream a 2xx answer into `target`.

        Raises `StatbankRefused` on a 4xx answer (at once) and `StatbankUnreachable` when every attempt
        ended in a network error, a timeout or a 5xx answer. `target` may hold a partial body afterwards;
        the caller owns it.
        """
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        outcomes: list[str] = []
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 2))
            try:
                with self._http.stream("POST", endpoint, content=content, headers=headers) as response:
                    if response.status_code >= 500:
                        outcomes.append(str(response.status_code))
                        continue
                    if not 200 <= response.status_code < 300:
                        raise _refusal(endpoint, response)
                    size, sha256 = _stream_to(response, target)
                    return Answer(
                        url=str(response.request.url),
                        status=response.status_code,
                        content_type=response.headers.get("Content-Type", ""),
                        bytes=size,
                        sha256=sha256,
                        attempts=attempt,
                    )
            except httpx.TransportError as error:
                outcomes.append(_describe(error))
        raise StatbankUnreachable(endpoint, outcomes)


# --- Landing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What became of one table: landed, unchanged or failed, the files landed and one line to read."""

    table_id: str
    state: str  # LANDED, UNCHANGED or FAILED
    files: tuple[str, ...]  # relative to the landing zone, e.g. "statbank/api/FOLK1A_20261127T031502Z.csv"
    message: str


@dataclass(frozen=True)
class _Landed:
    name: str
    sha256: str
    retrieved_at: str


class _UnusableAnswer(StatbankError):
    """A 2xx answer the connector cannot use (a tableinfo that is not the JSON it should be), and what to do."""

    def __init__(self, reason: str, advice: str = "") -> None:
        self.reason = reason
        self.advice = advice
        super().__init__(reason)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _record_name(answer_name: str) -> str:
    """`X.tableinfo.json` -> `X.tableinfo.request.json`; `X.csv` -> `X.request.json`."""
    return answer_name.rsplit(".", 1)[0] + ".request.json"


def _answer_names(stem: str) -> dict[str, str]:
    return {TABLEINFO: f"{stem}.tableinfo.json", DATA: f"{stem}.csv"}


def _free_stem(folder: Path, table_id: str, now: datetime) -> str:
    """`FOLK1A_20261127T031502Z`, with `-2`, `-3`, ... if a fetch of the same second already landed."""
    base = f"{table_id}_{now.strftime('%Y%m%dT%H%M%SZ')}"
    stem, number = base, 1
    while any(
        (folder / name).exists() or (folder / _record_name(name)).exists() for name in _answer_names(stem).values()
    ):
        number += 1
        stem = f"{base}-{number}"
    return stem


def _newest_landed(folder: Path, table_id: str, kind: str, body: dict[str, Any]) -> _Landed | None:
    """The newest landed answer of `kind` for this table asked with this very body, if any."""
    suffix = r"\.tableinfo\.request\.json" if kind == TABLEINFO else r"\.request\.json"
    pattern = re.compile(rf"^{re.escape(table_id)}_{_STAMP}{suffix}$")
    found: list[_Landed] = []
    for record_path in folder.glob(f"{table_id}_*.request.json"):
        if not pattern.match(record_path.name):
            continue
        if kind == DATA and record_path.name.endswith(".tableinfo.request.json"):
            continue
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(record, dict) or record.get("body") != body:
            continue
        stem = record_path.name.removesuffix(".request.json").removesuffix(".tableinfo")
        answer = folder / _answer_names(stem)[kind]
        if not answer.is_file() or answer.stat().st_size != record.get("bytes"):
            continue
        found.append(_Landed(answer.name, str(record.get("sha256")), str(record.get("retrieved_at", ""))))
    return max(found, key=lambda landed: (landed.retrieved_at, landed.name), default=None)


def _read_tableinfo(path: Path, request: TableRequest) -> dict[str, Any]:
    """The tableinfo answer, checked to describe variables with values and to have every declared variable."""
    try:
        tableinfo = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _UnusableAnswer("the Statbank API's description of the table (tableinfo) is not JSON") from None
    variables = tableinfo.get("variables") if isinstance(tableinfo, dict) else None
    if not isinstance(variables, list) or not all(
        isinstance(variable, dict)
        and "id" in variable
        and isinstance(variable.get("values"), list)
        and variable["values"]
        and all(isinstance(value, dict) and "id" in value for value in variable["values"])
        for variable in variables
    ):
        raise _UnusableAnswer(
            "the Statbank API's description of the table (tableinfo) does not list its variables and their values"
        )
    known = {str(variable["id"]).casefold(): str(variable["id"]) for variable in variables}
    missing = [code for code, _ in request.variables if code.casefold() not in known]
    if missing:
        raise _UnusableAnswer(
            f"the table has no variable {', '.join(missing)} (its variables: {', '.join(known.values())})", CHECK_SEED
        )
    return tableinfo


def _request_record(answer: Answer, body: dict[str, Any], retrieved_at: str, api: str, cells: int) -> dict[str, Any]:
    return {
        "url": answer.url,
        "method": "POST",
        "body": body,
        "retrieved_at": retrieved_at,
        "status": answer.status,
        "content_type": answer.content_type,
        "bytes": answer.bytes,
        "sha256": answer.sha256,
        "api": api,
        "cells": cells,
        "attempts": answer.attempts,
    }


def _fetch(request: TableRequest, client: StatbankClient, folder: Path, now: datetime) -> FetchResult:
    table = request.table_id
    stem = _free_stem(folder, table, now)
    names = _answer_names(stem)
    temporary = {kind: folder / f".{name}.part" for kind, name in names.items()}
    try:
        bodies = {TABLEINFO: request.tableinfo_body()}
        answers = {TABLEINFO: client.download(TABLEINFO, bodies[TABLEINFO], temporary[TABLEINFO])}
        tableinfo = _read_tableinfo(temporary[TABLEINFO], request)
        cells = cell_count(tableinfo, request)
        data_format = BULK if cells > CELL_LIMIT else CSV
        bodies[DATA] = request.data_body(tableinfo, data_format)
        answers[DATA] = client.download(DATA, bodies[DATA], temporary[DATA])

        previous = {kind: _newest_landed(folder, table, kind, bodies[kind]) for kind in (TABLEINFO, DATA)}
        changed = [
            kind
            for kind in (TABLEINFO, DATA)
            if previous[kind] is None or previous[kind].sha256 != answers[kind].sha256
        ]
        landed_data = previous[DATA]
        if not changed and landed_data is not None:
            return FetchResult(table, UNCHANGED, (), f"{table}: unchanged since {landed_data.retrieved_at[:10]}")

        retrieved_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        for kind in changed:
            os.replace(temporary[kind], folder / names[kind])
        for kind in changed:  # the request records last: an answer counts as landed once its record is there
            record = _request_record(answers[kind], bodies[kind], retrieved_at, client.api, cells)
            content = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
            write_atomically(folder / _record_name(names[kind]), content)
    finally:
        for path in temporary.values():
            path.unlink(missing_ok=True)

    files = tuple(f"{API_FOLDER}/{name}" for kind in changed for name in (names[kind], _record_name(names[kind])))
    if DATA in changed:
        message = (
            f"{table}: landed {API_FOLDER}/{names[DATA]} ({answers[DATA].bytes:,} bytes, {cells:,} cells, "
            f"{data_format})"
        )
    else:
        since = landed_data.retrieved_at[:10] if landed_data is not None else "?"
        message = (
            f"{table}: landed {API_FOLDER}/{names[TABLEINFO]} (the table's description changed; its data is "
            f"unchanged since {since})"
        )
    return FetchResult(table, LANDED, files, message)


def _failed(table_id: str, reason: str) -> FetchResult:
    return FetchResult(table_id, FAILED, (), f"{table_id}: {reason}")


def fetch_table(
    request: TableRequest, client: StatbankClient, landing_dir: Path, now: datetime | None = None
) -> FetchResult:
    """Ask the API for one table (tableinfo, then data) and land both answers with their request records.

    `now` (UTC; default the present) stamps the file names and the records. Never raises for what the
    API or the network did: a refusal, an unreachable API, an unusable answer or a landing zone that
    cannot be written is a FAILED result whose message says what happened and that nothing landed.
    """
    table = request.table_id
    now = _utc(now)
    folder = Path(landing_dir) / API_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return _fetch(request, client, folder, now)
    except StatbankRefused as error:
        if error.code == NO_RECORDING:
            advice = (
                f"The recorded answers have no answer for this request: record one, or ask the live API with {ASK_LIVE}"
            )
        else:
            advice = CHECK_SEED
        return _failed(
            table,
            f"the Statbank API refused the {error.endpoint} request ({error.summary}); {KEEPS_PREVIOUS}. {advice}",
        )
    except StatbankUnreachable as error:
        attempts = len(error.outcomes)
        return _failed(
            table,
            f"the Statbank API could not be reached after {attempts} attempt{'s' if attempts != 1 else ''} "
            f"({', '.join(error.outcomes)}); {KEEPS_PREVIOUS}",
        )
    except _UnusableAnswer as error:
        return _failed(table, f"{error.reason}; {KEEPS_PREVIOUS}" + (f". {error.advice}" if error.advice else ""))
    except OSError as error:
        return _failed(
            table,
            f"the answer could not be written to the landing zone ({error.strerror or type(error).__name__}); "
            f"{KEEPS_PREVIOUS}",
        )


def _lake_relative(settings: Settings, path: Path) -> str:
    """A lake path as the researcher knows it ("data_lake/recorded_api/statbank"), never a server path."""
    try:
        return "data_lake/" + path.relative_to(settings.data_lake).as_posix()
    except ValueError:
        return path.name


def _fetch_all(
    tables: Sequence[TableRequest],
    settings: Settings,
    base_url: str,
    api: str,
    now: datetime,
    sleep: Callable[[float], None],
) -> list[FetchResult]:
    results = []
    with StatbankClient.from_settings(settings, base_url, api=api, sleep=sleep) as client:
        for request in tables:
            try:
                results.append(fetch_table(request, client, settings.landing_dir, now))
                if len(results) == 1:
                    stop_points.reached("registry fetch")
            except Exception as error:  # one table's fault never stops the others
                log.exception("Fetching Statbank table %s failed unexpectedly", request.table_id)
                results.append(
                    _failed(
                        request.table_id,
                        f"an unexpected error stopped its fetch ({type(error).__name__}); {KEEPS_PREVIOUS}. "
                        "Tell the platform's maintainers",
                    )
                )
    return results


def fetch_registry(
    settings: Settings | None = None,
    names: Iterable[str] | None = None,
    now: datetime | None = None,
    *,
    tables: Sequence[TableRequest] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[FetchResult]:
    """Fetch the declared tables (those in `names`, if given; or exactly `tables`), one result per table.

    With `statbank_api` "recorded" a replay server over the recordings folder answers on 127.0.0.1 for
    the duration of the fetch; otherwise `statbank_api` is the API's URL. Raises ValueError only for a
    name that is not declared (or a seed line that cannot be read); everything else is a table's result.
    """
    settings = settings or get_settings()
    tables = list(tables) if tables is not None else declared_tables(names)
    now = _utc(now)
    api = settings.statbank_api.strip()
    if api.casefold() == RECORDED:
        folder = settings.statbank_recordings_dir
        where = _lake_relative(settings, folder)
        if not (folder / INDEX).is_file():
            reason = (
                f"no recorded Statbank answers are in {where} (its {INDEX} is missing), so nothing was asked; "
                f"{KEEPS_PREVIOUS}. To ask the live API instead, set {ASK_LIVE}"
            )
            return [_failed(request.table_id, reason) for request in tables]
        try:
            server = ReplayServer(folder).start()
        except (ValueError, OSError) as error:
            reason = f"the recorded Statbank answers in {where} cannot be replayed ({error}); {KEEPS_PREVIOUS}"
            return [_failed(request.table_id, reason) for request in tables]
        try:
            return _fetch_all(tables, settings, server.url, RECORDED, now, sleep)
        finally:
            server.stop()
    if not api.casefold().startswith(("http://", "https://")):
        reason = (
            f"SAMSKAB_STATBANK_API is {api!r}, neither 'recorded' nor the API's URL; {KEEPS_PREVIOUS}. "
            f"Set {ASK_LIVE} or SAMSKAB_STATBANK_API=recorded"
        )
        return [_failed(request.table_id, reason) for request in tables]
    return _fetch_all(tables, settings, api, LIVE, now, sleep)
