"""Each delivery is read in a process of its own: a reader that hangs, eats memory or crashes refuses its
delivery with a reason, and never holds or ends the refresh (issue 22, defect 2)."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from samskab.ingest.landing import Delivery
from samskab.ingest.reading import Limits, ReaderFault, read_delivery
from samskab.ingest.sources import registry
from samskab.ingest.sources.common import LandingFileError, SourceBatch

DELIVERY = Delivery(
    "survey", "survey/samskabelse_2016", Path("survey/samskabelse_2016"), (Path("dataset.csv"),), "folder"
)
ROOMY = Limits(seconds=60, memory_bytes=512 * 2**20)


@pytest.fixture
def reader(monkeypatch):
    """Swap the survey source's reader for one the test writes (the child is a fork: it sees the swap)."""
    survey = registry.source_named("survey")

    def use(read):
        replaced = type(survey)(**{**survey.__dict__, "read": read})
        monkeypatch.setattr(
            registry, "SOURCES", tuple(replaced if source is survey else source for source in registry.SOURCES)
        )

    return use


def test_a_batch_comes_back_whole_with_its_tables(reader):
    def read(delivery, pseudonymise):
        table = pd.DataFrame({"answer": np.arange(200_000), "who": [pseudonymise("email", "a@b.dk")] * 200_000})
        return SourceBatch(delivery.source, delivery.files, {"survey_answers": table}, notes=["read"])

    reader(read)
    batch = read_delivery("survey", DELIVERY, lambda kind, value: f"{kind}_x", ROOMY)
    assert batch.notes == ["read"] and len(batch.tables["survey_answers"]) == 200_000
    assert set(batch.tables["survey_answers"]["who"]) == {"email_x"}


def test_a_refusal_keeps_its_file_row_sheet_and_reason(reader):
    def read(delivery, pseudonymise):
        raise LandingFileError(Path("survey/x/dataset.csv"), "ends mid-row", row=12, sheet=None)

    reader(read)
    with pytest.raises(LandingFileError) as refused:
        read_delivery("survey", DELIVERY, lambda kind, value: value, ROOMY)
    assert (str(refused.value.file), refused.value.reason, refused.value.row) == (
        "survey/x/dataset.csv",
        "ends mid-row",
        12,
    )


def test_a_reader_that_hangs_is_stopped_at_the_time_limit_and_the_delivery_refused(reader):
    def read(delivery, pseudonymise):
        time.sleep(3600)

    reader(read)
    started = time.monotonic()
    with pytest.raises(LandingFileError, match="reading it took longer than 1 s, so it was stopped") as refused:
        read_delivery("survey", DELIVERY, lambda kind, value: value, Limits(seconds=1, memory_bytes=2**28))
    assert time.monotonic() - started < 30
    assert str(refused.value.file) == DELIVERY.name and "SAMSKAB_READ_TIME_LIMIT_SECONDS" in refused.value.reason


def test_a_reader_that_needs_more_memory_than_allowed_is_refused(reader):
    def read(delivery, pseudonymise):
        return np.ones(2**30 // 8)  # 1 GB, the limit is 256 MB

    reader(read)
    with pytest.raises(LandingFileError, match="needed more than 256 MB of memory") as refused:
        read_delivery("survey", DELIVERY, lambda kind, value: value, Limits(seconds=60, memory_bytes=2**28))
    assert "SAMSKAB_READ_MEMORY_LIMIT_MB" in refused.value.reason


def test_a_reader_that_crashes_its_process_is_a_fault_named_by_its_signal(reader):
    """A damaged file can crash the C library that parses it (pyreadstat, openpyxl's lxml): the refresh lives."""

    def read(delivery, pseudonymise):
        ctypes.string_at(0)  # a read of address 0: SIGSEGV

    reader(read)
    with pytest.raises(ReaderFault) as fault:
        read_delivery("survey", DELIVERY, lambda kind, value: value, ROOMY)
    assert fault.value.error_type == "ReaderProcessEnded" and "SIGSEGV" in fault.value.code_location


def test_an_error_in_the_readers_code_is_told_by_place_never_by_its_text(reader):
    def read(delivery, pseudonymise):
        raise UnicodeDecodeError("utf-16-le", b"mette.hansen@aarhus.dk", 0, 1, "unexpected end of data")

    reader(read)
    with pytest.raises(ReaderFault) as fault:
        read_delivery("survey", DELIVERY, lambda kind, value: value, ROOMY)
    assert fault.value.error_type == "UnicodeDecodeError"
    assert "test_reading.py" in fault.value.code_location and "in read" in fault.value.code_location
    assert "mette" not in fault.value.code_location and "mette" not in str(fault.value)


def test_a_reader_left_behind_by_a_killed_refresh_ends_with_it(tmp_path):
    """The child dies with its parent (a killed refresh leaves no reader reading on)."""
    marker = tmp_path / "child.pid"
    parent = os.fork()
    if parent == 0:  # the "refresh": starts a reader that hangs, then is killed
        try:
            survey = registry.source_named("survey")

            def read(delivery, pseudonymise):
                marker.write_text(str(os.getpid()))
                time.sleep(3600)

            registry.SOURCES = tuple(
                type(survey)(**{**survey.__dict__, "read": read}) if source is survey else source
                for source in registry.SOURCES
            )
            read_delivery("survey", DELIVERY, lambda kind, value: value, ROOMY)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 30
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(marker.read_text())
    os.kill(parent, signal.SIGKILL)
    os.waitpid(parent, 0)
    deadline = time.monotonic() + 10
    while _alive(child):
        assert time.monotonic() < deadline, "the reader outlived the killed refresh"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
