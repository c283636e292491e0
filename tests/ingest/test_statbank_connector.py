"""The Statbank API connector against a real loopback replay server, with recordings written per test.

Every test speaks HTTP to `samskab/ingest/statbank_replay.py` on 127.0.0.1 and checks what really
happened: the files under the landing zone, their bytes against the recorded bodies, the request
records, and how many requests the server received.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from samskab.common import reference
from samskab.common.settings import Settings
from samskab.ingest.statbank_api import (
    BULK,
    FAILED,
    LANDED,
    UNCHANGED,
    StatbankClient,
    TableRequest,
    cell_count,
    declared_tables,
    fetch_registry,
    fetch_table,
    total_value,
)
from samskab.ingest.statbank_replay import NO_RECORDING, ReplayServer, record_interaction
from tests.lakes import FIXTURES

FIXTURES = FIXTURES / "formats" / "statbank"
NIGHT_1 = datetime(2026, 11, 26, 3, 15, 2, tzinfo=UTC)
NIGHT_2 = datetime(2026, 11, 27, 3, 15, 2, tzinfo=UTC)
NIGHT_3 = datetime(2026, 11, 28, 3, 15, 2, tzinfo=UTC)
JSON_TYPE = "application/json; charset=utf-8"
CSV_TYPE = "text/csv; charset=UTF-8"
BACKOFF = 0.01

FOLK1A = TableRequest("FOLK1A", (("OMRÅDE", ("*",)), ("KØN", ("*",)), ("Tid", ("*",))), "Code", "da")
FOLK1A_TABLEINFO_BODY = {"table": "FOLK1A", "format": "JSON", "lang": "da"}
FOLK1A_DATA_BODY = {
    "table": "FOLK1A",
    "format": "CSV",
    "lang": "da",
    "valuePresentation": "Code",
    "variables": [
        {"code": "OMRÅDE", "values": ["*"]},
        {"code": "KØN", "values": ["*"]},
        {"code": "Tid", "values": ["*"]},
    ],
}
FOLK1A_TABLEINFO = {
    "id": "FOLK1A",
    "text": "Befolkningen den 1. i kvartalet",
    "description": "Befolkningen den 1. i kvartalet efter område, køn, alder, civilstand og tid",
    "unit": "Antal",
    "updated": "2026-11-11T08:00:00",
    "active": True,
    "variables": [
        {
            "id": "OMRÅDE",
            "text": "område",
            "elimination": True,
            "time": False,
            "map": "denmark_municipality_07",
            "values": [
                {"id": "000", "text": "Hele landet"},
                {"id": "101", "text": "København"},
                {"id": "147", "text": "Frederiksberg"},
            ],
        },
        {
            "id": "KØN",
            "text": "køn",
            "elimination": True,
            "time": False,
            "values": [{"id": "TOT", "text": "I alt"}, {"id": "1", "text": "Mænd"}, {"id": "2", "text": "Kvinder"}],
        },
        {
            "id": "ALDER",
            "text": "alder",
            "elimination": True,
            "time": False,
            "values": [{"id": "IALT", "text": "Alder i alt"}, {"id": "0", "text": "0 år"}],
        },
        {
            "id": "Tid",
            "text": "tid",
            "elimination": False,
            "time": True,
            "values": [{"id": "2026K1", "text": "2026K1"}, {"id": "2026K2", "text": "2026K2"}],
        },
    ],
}
FOLK1A_CELLS = 3 * 3 * 2


def tableinfo_bytes(tableinfo: dict) -> bytes:
    return json.dumps(tableinfo, ensure_ascii=False).encode("utf-8")


def statbank_csv(lines: list[str]) -> bytes:
    """CSV as the API serves it: UTF-8 with a byte-order mark, CRLF, semicolons."""
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


FOLK1A_CSV = statbank_csv(
    ["OMRÅDE;KØN;TID;INDHOLD"]
    + [
        f"{area};{sex};{quarter};{1000 + index}"
        for index, (area, sex, quarter) in enumerate(
            (area, sex, quarter)
            for area in ("000", "101", "147")
            for sex in ("TOT", "1", "2")
            for quarter in ("2026K1", "2026K2")
        )
    ]
)


def record_folk1a(folder: Path, data_responses: list[tuple[int, bytes, str, float]] | None = None) -> None:
    """FOLK1A's tableinfo and data answers (the data answers given, in order; by default one 200 CSV)."""
    record_interaction(folder, "tableinfo", FOLK1A_TABLEINFO_BODY, 200, tableinfo_bytes(FOLK1A_TABLEINFO), JSON_TYPE)
    for status, body, content_type, delay in data_responses or [(200, FOLK1A_CSV, CSV_TYPE, 0)]:
        record_interaction(folder, "data", FOLK1A_DATA_BODY, status, body, content_type, delay)


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff waits the client asked for (they are not slept)."""
    return []


@pytest.fixture
def client_for(sleeps: list[float]) -> Iterator:
    """Build clients against a replay server; every client is closed after the test."""
    clients: list[StatbankClient] = []

    def build(server: ReplayServer, attempts: int = 4, timeout: float = 0.5, **kwargs) -> StatbankClient:
        client = StatbankClient(
            server.url,
            api="recorded",
            timeout_seconds=timeout,
            attempts=attempts,
            backoff_seconds=BACKOFF,
            sleep=sleeps.append,
            **kwargs,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def landed_names(landing: Path) -> list[str]:
    folder = landing / "statbank" / "api"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def settings_for(lake: Path, **overrides) -> Settings:
    values = {
        "data_lake": lake,
        "statbank_api": "recorded",
        "statbank_backoff_seconds": BACKOFF,
        "statbank_timeout_seconds": 0.5,
        "statbank_attempts": 4,
    }
    return Settings(**(values | overrides))


# --- Landing, unchanged answers, changed answers ---------------------------------------------------


def test_a_fetch_lands_both_answers_with_their_request_records_then_adds_nothing_while_unchanged(tmp_path):
    lake = tmp_path / "lake"
    settings = settings_for(lake)
    record_folk1a(settings.statbank_recordings_dir)

    [result] = fetch_registry(settings, now=NIGHT_1, tables=[FOLK1A])

    assert result.state == LANDED, result.message
    stem = "FOLK1A_20261126T031502Z"
    assert result.files == (
        f"statbank/api/{stem}.tableinfo.json",
        f"statbank/api/{stem}.tableinfo.request.json",
        f"statbank/api/{stem}.csv",
        f"statbank/api/{stem}.request.json",
    )
    assert result.message == (
        f"FOLK1A: landed statbank/api/{stem}.csv ({len(FOLK1A_CSV):,} bytes, {FOLK1A_CELLS} cells, CSV)"
    )
    folder = settings.landing_dir / "statbank" / "api"
    assert landed_names(settings.landing_dir) == sorted(path.rsplit("/", 1)[1] for path in result.files)
    assert (folder / f"{stem}.csv").read_bytes() == FOLK1A_CSV
    assert (folder / f"{stem}.tableinfo.json").read_bytes() == tableinfo_bytes(FOLK1A_TABLEINFO)

    data_record = json.loads((folder / f"{stem}.request.json").read_text(encoding="utf-8"))
    assert data_record["url"].startswith("http://127.0.0.1:")
    assert data_record["url"].endswith("/v1/data")
    assert data_record | {"url": None} == {
        "url": None,
        "method": "POST",
        "body": FOLK1A_DATA_BODY,
        "retrieved_at": "2026-11-26T03:15:02Z",
        "status": 200,
        "content_type": CSV_TYPE,
        "bytes": len(FOLK1A_CSV),
        "sha256": hashlib.sha256(FOLK1A_CSV).hexdigest(),
        "api": "recorded",
        "cells": FOLK1A_CELLS,
        "attempts": 1,
    }
    info_record = json.loads((folder / f"{stem}.tableinfo.request.json").read_text(encoding="utf-8"))
    assert info_record["url"].endswith("/v1/tableinfo")
    assert info_record["body"] == FOLK1A_TABLEINFO_BODY
    assert info_record["sha256"] == hashlib.sha256(tableinfo_bytes(FOLK1A_TABLEINFO)).hexdigest()

    # The next night the API answers the same: nothing is landed again.
    [again] = fetch_registry(settings, now=NIGHT_2, tables=[FOLK1A])
    assert again.state == UNCHANGED
    assert again.files == ()
    assert again.message == "FOLK1A: unchanged since 2026-11-26"
    assert landed_names(settings.landing_dir) == sorted(path.rsplit("/", 1)[1] for path in result.files)


def test_a_changed_answer_lands_a_new_pair_and_keeps_the_old(tmp_path, client_for):
    landing = tmp_path / "landing"
    first, second = tmp_path / "first", tmp_path / "second"
    record_folk1a(first)
    changed_csv = FOLK1A_CSV.replace(b";1000\r\n", b";1001\r\n")
    assert changed_csv != FOLK1A_CSV
    record_folk1a(second, [(200, changed_csv, CSV_TYPE, 0)])

    with ReplayServer(first) as server:
        assert fetch_table(FOLK1A, client_for(server), landing, NIGHT_1).state == LANDED
    with ReplayServer(second) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_2)
        assert server.count() == 2

    assert result.state == LANDED, result.message
    # The table's description did not change: only the new data answer and its record land.
    assert result.files == (
        "statbank/api/FOLK1A_20261127T031502Z.csv",
        "statbank/api/FOLK1A_20261127T031502Z.request.json",
    )
    folder = landing / "statbank" / "api"
    assert landed_names(landing) == [
        "FOLK1A_20261126T031502Z.csv",
        "FOLK1A_20261126T031502Z.request.json",
        "FOLK1A_20261126T031502Z.tableinfo.json",
        "FOLK1A_20261126T031502Z.tableinfo.request.json",
        "FOLK1A_20261127T031502Z.csv",
        "FOLK1A_20261127T031502Z.request.json",
    ]
    assert (folder / "FOLK1A_20261126T031502Z.csv").read_bytes() == FOLK1A_CSV
    assert (folder / "FOLK1A_20261127T031502Z.csv").read_bytes() == changed_csv

    # Back to the first answer: it differs from the newest landed one, so it lands again.
    with ReplayServer(first) as server:
        back = fetch_table(FOLK1A, client_for(server), landing, NIGHT_3)
    assert back.state == LANDED
    assert (folder / "FOLK1A_20261128T031502Z.csv").read_bytes() == FOLK1A_CSV


def test_a_changed_description_with_unchanged_data_lands_the_description_alone(tmp_path, client_for):
    landing = tmp_path / "landing"
    first, second = tmp_path / "first", tmp_path / "second"
    record_folk1a(first)
    record_interaction(
        second,
        "tableinfo",
        FOLK1A_TABLEINFO_BODY,
        200,
        tableinfo_bytes(FOLK1A_TABLEINFO | {"updated": "2026-11-27T08:00:00"}),
        JSON_TYPE,
    )
    record_interaction(second, "data", FOLK1A_DATA_BODY, 200, FOLK1A_CSV, CSV_TYPE)

    with ReplayServer(first) as server:
        assert fetch_table(FOLK1A, client_for(server), landing, NIGHT_1).state == LANDED
    with ReplayServer(second) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_2)

    assert result.state == LANDED
    assert result.files == (
        "statbank/api/FOLK1A_20261127T031502Z.tableinfo.json",
        "statbank/api/FOLK1A_20261127T031502Z.tableinfo.request.json",
    )
    assert result.message == (
        "FOLK1A: landed statbank/api/FOLK1A_20261127T031502Z.tableinfo.json (the table's description changed; "
        "its data is unchanged since 2026-11-26)"
    )
    assert len(landed_names(landing)) == 6


def test_a_declared_variable_the_table_lacks_fails_before_the_data_is_asked(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    record_folk1a(recordings)
    request = TableRequest("FOLK1A", (("OMRÅDE", ("*",)), ("KOEN", ("*",)), ("Tid", ("*",))))

    with ReplayServer(recordings) as server:
        result = fetch_table(request, client_for(server), landing, NIGHT_1)
        assert server.count() == 1

    assert result.state == FAILED
    assert result.message == (
        "FOLK1A: the table has no variable KOEN (its variables: OMRÅDE, KØN, ALDER, Tid); nothing landed — the "
        "refresh uses what landed before. Check the table's line in dbt_project/seeds/statbank_tables.csv"
    )
    assert landed_names(landing) == []


# --- Retries -------------------------------------------------------------------------------------


def test_a_503_then_a_200_lands_after_two_attempts(tmp_path, client_for, sleeps):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    record_folk1a(recordings, [(503, b"Service Unavailable", "text/plain", 0), (200, FOLK1A_CSV, CSV_TYPE, 0)])

    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_1)
        assert server.count("/v1/data") == 2
        assert server.count("/v1/tableinfo") == 1

    assert result.state == LANDED, result.message
    folder = landing / "statbank" / "api"
    assert (folder / "FOLK1A_20261126T031502Z.csv").read_bytes() == FOLK1A_CSV
    record = json.loads((folder / "FOLK1A_20261126T031502Z.request.json").read_text(encoding="utf-8"))
    assert record["attempts"] == 2
    assert sleeps == [BACKOFF]


def test_503_forever_fails_after_exactly_the_configured_attempts_and_lands_nothing(tmp_path, client_for, sleeps):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    record_folk1a(recordings, [(503, b"Service Unavailable", "text/plain", 0)])

    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server, attempts=3), landing, NIGHT_1)
        assert server.count("/v1/data") == 3

    assert result.state == FAILED
    assert result.files == ()
    assert result.message == (
        "FOLK1A: the Statbank API could not be reached after 3 attempts (503, 503, 503); "
        "nothing landed — the refresh uses what landed before"
    )
    assert landed_names(landing) == []
    assert sleeps == [BACKOFF, 2 * BACKOFF]


def test_a_timeout_then_a_200_is_retried_and_lands(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    # The first answer is held back 5 s, far beyond the client's 0.3 s timeout.
    record_folk1a(recordings, [(200, FOLK1A_CSV, CSV_TYPE, 5), (200, FOLK1A_CSV, CSV_TYPE, 0)])

    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server, timeout=0.3), landing, NIGHT_1)
        assert server.count("/v1/data") == 2

    assert result.state == LANDED, result.message
    folder = landing / "statbank" / "api"
    assert (folder / "FOLK1A_20261126T031502Z.csv").read_bytes() == FOLK1A_CSV
    assert json.loads((folder / "FOLK1A_20261126T031502Z.request.json").read_text(encoding="utf-8"))["attempts"] == 2


def test_timeouts_and_5xx_are_named_in_order_when_the_api_cannot_be_reached(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    record_folk1a(
        recordings,
        [(200, FOLK1A_CSV, CSV_TYPE, 5), (200, FOLK1A_CSV, CSV_TYPE, 5), (503, b"", "text/plain", 0)],
    )
    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server, attempts=4, timeout=0.2), landing, NIGHT_1)
    assert result.state == FAILED
    assert "after 4 attempts (timeout, timeout, 503, 503)" in result.message
    assert landed_names(landing) == []


# --- Refusals --------------------------------------------------------------------------------------


def test_a_refusal_is_never_retried_and_its_code_and_message_reach_the_researcher(tmp_path, client_for, sleeps):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    # Stands for the API refusing a CSV request as too large; the real errorTypeCode of that refusal is not
    # publicly recorded, and the connector handles every 4xx error answer alike.
    refusal = {"errorTypeCode": "EXAMPLE-REFUSAL", "message": "Udtræk for stort,\r\n brug BULK."}
    record_folk1a(recordings, [(400, json.dumps(refusal).encode("utf-8"), JSON_TYPE, 0)])

    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_1)
        assert server.count("/v1/data") == 1

    assert result.state == FAILED
    assert result.message == (
        "FOLK1A: the Statbank API refused the data request (EXAMPLE-REFUSAL: Udtræk for stort, brug BULK.); "
        "nothing landed — the refresh uses what landed before. "
        "Check the table's line in dbt_project/seeds/statbank_tables.csv"
    )
    assert sleeps == []
    assert landed_names(landing) == []


def test_a_real_error_answer_refusing_the_tableinfo_request(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    refusal = {"errorTypeCode": "REQUEST-MISSING", "message": "Format ikke angivet, eller ikke gyldigt."}
    record_interaction(recordings, "tableinfo", FOLK1A_TABLEINFO_BODY, 400, json.dumps(refusal).encode(), JSON_TYPE)

    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_1)
        assert server.count() == 1

    assert result.state == FAILED
    assert "refused the tableinfo request (REQUEST-MISSING: Format ikke angivet, eller ikke gyldigt.)" in result.message
    assert landed_names(landing) == []


def test_a_refusal_that_is_not_json_is_quoted_briefly(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    page = b"<html><body><h1>Bad Request</h1>" + b"x" * 5000 + b"SECRET-TAIL</body></html>"
    record_folk1a(recordings, [(400, page, "text/html", 0)])

    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_1)
        assert server.count("/v1/data") == 1

    assert result.state == FAILED
    assert "refused the data request (HTTP 400, an answer that is not JSON: '<html><body><h1>Bad Request</h1>" in (
        result.message
    )
    assert "SECRET-TAIL" not in result.message
    assert "x" * 200 not in result.message
    assert len(result.message) < 500
    assert landed_names(landing) == []


# --- BULK ----------------------------------------------------------------------------------------


def test_more_than_a_million_cells_are_asked_as_bulk_naming_every_variable(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    tableinfo = {
        "id": "BIG1",
        "text": "En stor tabel",
        "variables": [
            {"id": "A", "text": "a", "values": [{"id": f"A{i}", "text": f"a {i}"} for i in range(1000)]},
            {"id": "B", "text": "b", "values": [{"id": f"B{i}", "text": f"b {i}"} for i in range(1001)]},
            {
                "id": "KØN",
                "text": "køn",
                "elimination": True,
                "values": [{"id": "1", "text": "Mænd"}, {"id": "9", "text": "Køn i alt"}],
            },
            {"id": "D", "text": "d", "values": [{"id": "D1", "text": "første"}, {"id": "D2", "text": "anden"}]},
            {"id": "Tid", "text": "tid", "time": True, "values": [{"id": "2025", "text": "2025"}]},
        ],
    }
    request = TableRequest("BIG1", (("A", ("*",)), ("B", ("*",)), ("Tid", ("*",))))
    assert cell_count(tableinfo, request) == 1_001_000
    bulk_body = {
        "table": "BIG1",
        "format": "BULK",
        "lang": "da",
        "valuePresentation": "Code",
        "variables": [
            {"code": "A", "values": ["*"]},
            {"code": "B", "values": ["*"]},
            {"code": "KØN", "values": ["9"]},  # its total: the value whose text ends in " i alt"
            {"code": "D", "values": ["D1"]},  # no total: its first value
            {"code": "Tid", "values": ["*"]},
        ],
    }
    bulk_csv = statbank_csv(["A;B;KØN;D;TID;INDHOLD", "A0;B0;9;D1;2025;7"])
    record_interaction(
        recordings,
        "tableinfo",
        {"table": "BIG1", "format": "JSON", "lang": "da"},
        200,
        tableinfo_bytes(tableinfo),
        JSON_TYPE,
    )
    record_interaction(recordings, "data", bulk_body, 200, bulk_csv, CSV_TYPE)

    with ReplayServer(recordings) as server:
        result = fetch_table(request, client_for(server), landing, NIGHT_1)
        data_requests = [received for received in server.received if received.path == "/v1/data"]

    assert result.state == LANDED, result.message
    assert [received.json for received in data_requests] == [bulk_body]
    assert result.message.endswith("1,001,000 cells, BULK)")
    folder = landing / "statbank" / "api"
    assert (folder / "BIG1_20261126T031502Z.csv").read_bytes() == bulk_csv
    record = json.loads((folder / "BIG1_20261126T031502Z.request.json").read_text(encoding="utf-8"))
    assert record["cells"] == 1_001_000
    assert record["body"]["format"] == BULK


def test_cell_count_and_the_total_of_a_variable():
    real = json.loads((FIXTURES / "STRAF42_tableinfo_da.json").read_text(encoding="utf-8"))
    counts = {variable["id"]: len(variable["values"]) for variable in real["variables"]}
    everything = TableRequest("STRAF42", tuple((code, ("*",)) for code in counts))
    expected = 1
    for count in counts.values():
        expected *= count
    assert cell_count(real, everything) == expected
    # Unnamed variables count one; listed values count as listed; a code pattern counts its matches.
    assert cell_count(real, TableRequest("STRAF42", (("HERKOMST1", ("00", "80")),))) == 2
    assert cell_count(FOLK1A_TABLEINFO, TableRequest("FOLK1A", (("område", ("1*",)), ("Tid", ("*",))))) == 4
    herkomst = next(variable for variable in real["variables"] if variable["id"] == "HERKOMST1")
    assert total_value(herkomst) == "00"  # text "I alt"
    square = {"variables": [{"id": "X", "values": [{"id": str(i)} for i in range(1000)]}] * 2}
    assert cell_count(square, TableRequest("SQ", (("X", ("*",)),))) == 1_000_000  # the limit itself is CSV


# --- Many tables ---------------------------------------------------------------------------------


def test_one_failing_table_does_not_stop_the_others(tmp_path):
    settings = settings_for(tmp_path / "lake", statbank_attempts=2)
    recordings = settings.statbank_recordings_dir
    are207 = TableRequest("ARE207", (("OMRÅDE", ("*",)), ("Tid", ("*",))))
    record_interaction(
        recordings, "tableinfo", {"table": "ARE207", "format": "JSON", "lang": "da"}, 503, b"", "text/plain"
    )
    record_folk1a(recordings)

    sleeps: list[float] = []
    results = fetch_registry(settings, now=NIGHT_1, tables=[are207, FOLK1A], sleep=sleeps.append)

    assert [(result.table_id, result.state) for result in results] == [("ARE207", FAILED), ("FOLK1A", LANDED)]
    assert results[0].message == (
        "ARE207: the Statbank API could not be reached after 2 attempts (503, 503); "
        "nothing landed — the refresh uses what landed before"
    )
    assert all(name.startswith("FOLK1A_") for name in landed_names(settings.landing_dir))
    assert len(landed_names(settings.landing_dir)) == 4


def test_without_recordings_every_table_fails_and_says_how_to_ask_the_live_api(tmp_path):
    settings = settings_for(tmp_path / "lake")
    results = fetch_registry(settings, now=NIGHT_1, tables=[FOLK1A, TableRequest("ARE207", (("Tid", ("*",)),))])
    assert [result.state for result in results] == [FAILED, FAILED]
    for result in results:
        assert "no recorded Statbank answers are in data_lake/recorded_api/statbank" in result.message
        assert "SAMSKAB_STATBANK_API=https://api.statbank.dk/v1/" in result.message
    assert not settings.landing_dir.exists() or landed_names(settings.landing_dir) == []


def test_a_url_without_its_trailing_slash_asks_that_api_as_live(tmp_path):
    recordings = tmp_path / "recordings"
    record_folk1a(recordings)
    with ReplayServer(recordings) as server:
        settings = settings_for(tmp_path / "lake", statbank_api=server.url.rstrip("/"))
        [result] = fetch_registry(settings, now=NIGHT_1, tables=[FOLK1A])
        assert server.count() == 2
    assert result.state == LANDED, result.message
    record = settings.landing_dir / "statbank" / "api" / "FOLK1A_20261126T031502Z.request.json"
    assert json.loads(record.read_text(encoding="utf-8"))["api"] == "live"


def test_a_request_without_recording_is_named_in_the_failure(tmp_path, client_for):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    record_interaction(
        recordings, "tableinfo", FOLK1A_TABLEINFO_BODY, 200, tableinfo_bytes(FOLK1A_TABLEINFO), JSON_TYPE
    )
    with ReplayServer(recordings) as server:
        result = fetch_table(FOLK1A, client_for(server), landing, NIGHT_1)
    assert result.state == FAILED
    assert "refused the data request (REPLAY-NO-RECORDING: No recording for POST /v1/data" in result.message
    assert "SAMSKAB_STATBANK_API=https://api.statbank.dk/v1/" in result.message
    assert landed_names(landing) == []


# --- The declared tables ---------------------------------------------------------------------------


def test_declared_tables_are_read_from_the_seed_and_an_unknown_name_is_named(monkeypatch):
    rows = [
        {"table_id": "FOLK1A", "variables": "OMRÅDE=*;KØN=TOT,1,2;Tid=*", "value_presentation": "Code", "lang": "da"},
        {"table_id": "ARE207", "variables": "OMRÅDE=*;Tid=*", "value_presentation": "", "lang": ""},
    ]
    monkeypatch.setattr(reference, "seed_rows", lambda name: rows if name == "statbank_tables" else [])

    folk1a, are207 = declared_tables()
    assert folk1a == TableRequest("FOLK1A", (("OMRÅDE", ("*",)), ("KØN", ("TOT", "1", "2")), ("Tid", ("*",))))
    assert are207 == TableRequest("ARE207", (("OMRÅDE", ("*",)), ("Tid", ("*",))), "Code", "da")
    assert declared_tables(["are207"]) == [are207]
    with pytest.raises(ValueError) as raised:
        declared_tables(["FOLK1A", "NOPE1"])
    assert "NOPE1 is not declared in dbt_project/seeds/statbank_tables.csv" in str(raised.value)
    assert "(declared tables: FOLK1A, ARE207)" in str(raised.value)

    rows.append({"table_id": "BAD1", "variables": "OMRÅDE", "value_presentation": "Code", "lang": "da"})
    with pytest.raises(ValueError) as raised:
        declared_tables()
    assert "table BAD1 in dbt_project/seeds/statbank_tables.csv read 'OMRÅDE'" in str(raised.value)


# --- The replay server ---------------------------------------------------------------------------


def test_an_unmatched_request_gets_404_and_the_server_leaves_no_thread(tmp_path):
    recordings = tmp_path / "recordings"
    record_folk1a(recordings)
    before = set(threading.enumerate())

    with ReplayServer(recordings) as server, httpx.Client(base_url=server.url, trust_env=False) as http:
        # Key order and spacing of the body do not matter: this one matches.
        matched = http.post("tableinfo", content=b'{"lang": "da",  "format": "JSON", "table": "FOLK1A"}')
        unmatched = http.post("data", json={"table": "NOPE1", "format": "CSV", "lang": "da"})
        thread = server.thread
        assert server.count() == 2
        assert [received.matched for received in server.received] == [True, False]

    assert matched.status_code == 200
    assert matched.content == tableinfo_bytes(FOLK1A_TABLEINFO)
    assert unmatched.status_code == 404
    answer = unmatched.json()
    assert answer["errorTypeCode"] == NO_RECORDING
    assert "/v1/data" in answer["message"] and "NOPE1" in answer["message"]
    assert thread is not None and not thread.is_alive()
    assert set(threading.enumerate()) <= before


def test_record_interaction_appends_responses_served_in_order_the_last_repeating(tmp_path):
    recordings = tmp_path / "recordings"
    first = record_interaction(recordings, "/v1/data", FOLK1A_DATA_BODY, 503, b"", "text/plain")
    second = record_interaction(recordings, "data", FOLK1A_DATA_BODY, 200, FOLK1A_CSV, CSV_TYPE)
    assert (first.name, second.name) == ("FOLK1A_data.txt", "FOLK1A_data.csv")
    index = json.loads((recordings / "index.json").read_text(encoding="utf-8"))
    assert len(index) == 1
    assert index[0]["request"] == {"method": "POST", "path": "/v1/data", "json": FOLK1A_DATA_BODY}
    assert [response["status"] for response in index[0]["responses"]] == [503, 200]

    with ReplayServer(recordings) as server, httpx.Client(base_url=server.url, trust_env=False) as http:
        statuses = [http.post("data", json=FOLK1A_DATA_BODY).status_code for _ in range(3)]
        last = http.post("data", json=FOLK1A_DATA_BODY)
    assert statuses == [503, 200, 200]
    assert last.content == FOLK1A_CSV
    assert last.headers["Content-Type"] == CSV_TYPE


# --- Interrupted writes --------------------------------------------------------------------------


class _Killed(BaseException):
    """Stands for the process being killed in the middle of a download."""


class _BreakingStream(httpx.SyncByteStream):
    """A response body that delivers its first chunk, then fails."""

    def __init__(self, stream: httpx.SyncByteStream, error: BaseException) -> None:
        self._stream = stream
        self._error = error

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            yield chunk
            raise self._error

    def close(self) -> None:
        self._stream.close()


class _BreakingTransport(httpx.BaseTransport):
    """A real HTTP transport whose data answers break after their first chunk."""

    def __init__(self, error: BaseException) -> None:
        self._transport = httpx.HTTPTransport(trust_env=False)
        self._error = error

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._transport.handle_request(request)
        if request.url.path.endswith("/data"):
            response.stream = _BreakingStream(response.stream, self._error)
        return response

    def close(self) -> None:
        self._transport.close()


@pytest.mark.parametrize("error", [httpx.ReadError("connection lost"), _Killed()], ids=["read-error", "killed"])
def test_an_interrupted_download_leaves_no_file_under_a_final_name(tmp_path, client_for, error):
    recordings, landing = tmp_path / "recordings", tmp_path / "landing"
    big_csv = statbank_csv(["OMRÅDE;KØN;TID;INDHOLD"] + [f"101;1;2026K1;{n}" for n in range(40_000)])
    assert len(big_csv) > 500_000
    record_folk1a(recordings, [(200, big_csv, CSV_TYPE, 0)])

    with ReplayServer(recordings) as server:
        client = client_for(server, attempts=2, transport=_BreakingTransport(error))
        if isinstance(error, _Killed):
            with pytest.raises(_Killed):
                fetch_table(FOLK1A, client, landing, NIGHT_1)
        else:
            result = fetch_table(FOLK1A, client, landing, NIGHT_1)
            assert result.state == FAILED
            assert "after 2 attempts (ReadError, ReadError)" in result.message
        assert server.count("/v1/data") == (1 if isinstance(error, _Killed) else 2)

    # Nothing under a final name; whatever a real kill would leave behind is a hidden .part file.
    assert [name for name in landed_names(landing) if not (name.startswith(".") and name.endswith(".part"))] == []


# --- `samskab registry fetch`, by hand, on the embedded sample's recordings ------------------------


def test_registry_fetch_by_hand_lands_then_says_unchanged_and_names_what_failed(tmp_path, capsys):
    from samskab.cli import main
    from tests.lakes import make_sample_lake, using_lake, using_setting

    lake, _ = make_sample_lake(tmp_path, waves=("2016",), fetch_registry=False)
    with using_lake(lake):
        assert main(["registry", "fetch"]) == 0
        first = capsys.readouterr().out
        assert main(["registry", "fetch", "FOLK1A"]) == 0
        second = capsys.readouterr().out
        assert main(["registry", "fetch", "NOSUCH"]) == 2
        unknown = capsys.readouterr().out
    assert "FOLK1A: landed statbank/api/FOLK1A_" in first and "ARE207: landed statbank/api/ARE207_" in first
    assert "FOLK1A: unchanged since " in second and "ARE207" not in second
    assert "NOSUCH" in unknown and "statbank_tables.csv" in unknown
    landed = sorted(path.name for path in (lake / "landing" / "statbank" / "api").iterdir())
    assert len(landed) == 8  # two tables: answer, tableinfo and a request record for each

    with (
        using_lake(lake),
        using_setting("SAMSKAB_STATBANK_API", "http://127.0.0.1:9/v1/"),
        using_setting("SAMSKAB_STATBANK_ATTEMPTS", "1"),
    ):
        assert main(["registry", "fetch", "ARE207"]) == 1
    out = capsys.readouterr().out
    assert "ARE207: the Statbank API could not be reached after 1 attempt" in out
    assert "keep their earlier answers" in out
    assert sorted(path.name for path in (lake / "landing" / "statbank" / "api").iterdir()) == landed
