"""Each delivery is read in a process of its own: a reader that hangs, eats memory or crashes refuses its
delivery with a reason, and never holds or ends the refresh (issue 22, defect 2).

The readers here stand in for a source's reader; they are module-level functions because the child is
forked from the reading server and finds them by name, as it finds the registered readers."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from samskab.ingest.landing import Delivery
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.reading import Limits, ReaderFault, read_delivery
from samskab.ingest.sources.common import LandingFileError, SourceBatch
from tests.lakes import REPO

DELIVERY = Delivery(
    "survey", "survey/samskabelse_2016", Path("survey/samskabelse_2016"), (Path("dataset.csv"),), "folder"
)
ROOMY = Limits(seconds=60, memory_bytes=512 * 2**20)
PSEUDONYMISE = Pseudonymiser(b"r" * 32)


def a_big_batch(delivery, pseudonymise):
    table = pd.DataFrame({"answer": np.arange(200_000), "who": [pseudonymise("email", "a@b.dk")] * 200_000})
    return SourceBatch(delivery.source, delivery.files, {"survey_answers": table}, notes=["read"])


def a_refusal(delivery, pseudonymise):
    raise LandingFileError(Path("survey/x/dataset.csv"), "ends mid-row", row=12, sheet=None)


def a_hang(delivery, pseudonymise):
    marker = os.environ.get("SAMSKAB_TEST_READER_PID")  # set before the reading server started, if at all
    if marker:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(3600)


def two_gigabytes(delivery, pseudonymise):
    held = np.ones(2**31 // 8)  # written, so resident
    time.sleep(3600)
    return held


def a_crash(delivery, pseudonymise):
    ctypes.string_at(0)  # a read of address 0: SIGSEGV


def a_quoting_error(delivery, pseudonymise):
    raise UnicodeDecodeError("utf-16-le", b"mette.hansen@aarhus.dk", 0, 1, "unexpected end of data")


def test_a_batch_comes_back_whole_with_its_tables():
    batch = read_delivery(DELIVERY, PSEUDONYMISE, ROOMY, a_big_batch)
    assert batch.notes == ["read"] and len(batch.tables["survey_answers"]) == 200_000
    assert set(batch.tables["survey_answers"]["who"]) == {PSEUDONYMISE("email", "a@b.dk")}


def test_a_refusal_keeps_its_file_row_sheet_and_reason():
    with pytest.raises(LandingFileError) as refused:
        read_delivery(DELIVERY, PSEUDONYMISE, ROOMY, a_refusal)
    error = refused.value
    assert (str(error.file), error.reason, error.row) == ("survey/x/dataset.csv", "ends mid-row", 12)


def test_a_reader_that_hangs_is_stopped_at_the_time_limit_and_the_delivery_refused():
    started = time.monotonic()
    with pytest.raises(LandingFileError, match="reading it took longer than 1 s, so it was stopped") as refused:
        read_delivery(DELIVERY, PSEUDONYMISE, Limits(seconds=1, memory_bytes=2**28), a_hang)
    assert time.monotonic() - started < 30
    assert str(refused.value.file) == DELIVERY.name and "SAMSKAB_READ_TIME_LIMIT_SECONDS" in refused.value.reason


def test_a_reader_that_needs_more_memory_than_allowed_is_refused():
    with pytest.raises(LandingFileError, match="needed more than 512 MB of memory") as refused:
        read_delivery(DELIVERY, PSEUDONYMISE, Limits(seconds=600, memory_bytes=2**29), two_gigabytes)
    assert "SAMSKAB_READ_MEMORY_LIMIT_MB" in refused.value.reason


def test_a_reader_that_crashes_its_process_is_a_fault_named_by_its_signal():
    """A damaged file can crash the C library that parses it (pyreadstat, openpyxl's lxml): the refresh lives."""
    with pytest.raises(ReaderFault) as fault:
        read_delivery(DELIVERY, PSEUDONYMISE, ROOMY, a_crash)
    assert fault.value.error_type == "ReaderProcessEnded" and "SIGSEGV" in fault.value.code_location


def test_an_error_in_the_readers_code_is_told_by_place_never_by_its_text():
    with pytest.raises(ReaderFault) as fault:
        read_delivery(DELIVERY, PSEUDONYMISE, ROOMY, a_quoting_error)
    assert fault.value.error_type == "UnicodeDecodeError"
    assert "test_reading.py" in fault.value.code_location and "in a_quoting_error" in fault.value.code_location
    assert "mette" not in fault.value.code_location and "mette" not in str(fault.value)


REFRESH = textwrap.dedent(
    """
    from samskab.ingest.pseudonyms import Pseudonymiser
    from samskab.ingest.reading import Limits, read_delivery
    from tests.ingest.test_reading import DELIVERY, a_hang
    read_delivery(DELIVERY, Pseudonymiser(b"r" * 32), Limits(seconds=3600, memory_bytes=2**28), a_hang)
    """
)


def test_a_reader_left_behind_by_a_killed_refresh_ends_with_it(tmp_path):
    """A refresh killed while a reader reads (SIGKILL: no clean-up runs) leaves no reader reading on."""
    marker = tmp_path / "reader.pid"
    env = {**os.environ, "PYTHONPATH": str(REPO), "SAMSKAB_TEST_READER_PID": str(marker)}
    refresh = subprocess.Popen([sys.executable, "-c", REFRESH], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()):  # the reader's own signal: it started reading
            assert time.monotonic() < deadline and refresh.poll() is None, "the reader never started"
            time.sleep(0.05)
    finally:
        refresh.send_signal(signal.SIGKILL)
        refresh.wait()
    reader = int(marker.read_text())
    deadline = time.monotonic() + 20
    while _alive(reader):
        assert time.monotonic() < deadline, "the reader outlived the killed refresh"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


STARTED_EARLY = textwrap.dedent(
    """
    import json, os, time
    from samskab.ingest.pseudonyms import Pseudonymiser
    from samskab.ingest.reading import Limits, read_delivery, start_early
    from tests.ingest.test_reading import DELIVERY, a_big_batch

    def servers():
        pids = set()
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as listed:
                pids |= {int(pid) for pid in listed.read().split()}
        with_command = {pid: open(f"/proc/{pid}/cmdline", "rb").read() for pid in pids}
        return [pid for pid, command in with_command.items() if b"forkserver" in command]

    start_early()
    deadline = time.monotonic() + 30
    while not (early := servers()) and time.monotonic() < deadline:  # its exec may not have happened yet
        time.sleep(0.05)
    batch = read_delivery(DELIVERY, Pseudonymiser(b"r" * 32), Limits(seconds=60, memory_bytes=2**29), a_big_batch)
    rows = len(batch.tables["survey_answers"])
    print(json.dumps({"early": early, "after": sorted(servers()), "rows": rows}))
    """
)


def test_the_readers_server_started_early_is_the_one_the_first_read_uses():
    """`samskab refresh` starts the readers' server before Prefect's start when the landing zone changed, so
    its imports overlap that start; the first delivery is then read by a child of it, not of a second one."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ran = subprocess.run(
        [sys.executable, "-c", STARTED_EARLY], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    said = json.loads(ran.stdout.strip().splitlines()[-1])
    assert said["rows"] == 200_000
    assert len(said["early"]) == 1, said  # the server, started before any read
    assert said["after"] == said["early"], said  # the read used it: no second server
