"""A full disk and no memory at several stages of a refresh: the run says so in plain words, the published
file stays as it was, and the next run recovers with no manual step.

The refresh runs in a process of its own; at the named point of its work (samskab/common/stop_points.py)
it is limited from then on, as a machine would limit it: no file may grow past 1 MB (writes fail with
EFBIG, which the platform treats as a full disk, ENOSPC), or its memory may not grow at all (allocations
fail, as under a memory limit of the operating system or a container). Where the fault meets the run
differs by stage: DuckDB writing a delivery's rows, dbt writing models, the candidate file being written.

Only in `make torture` (each is a whole refresh and a recovery); `make test` proves the wording at the
functions that own it (tests/operate/test_run_journal.py, tests/build/test_dbt_runner.py).
"""

from __future__ import annotations

import contextlib
import os

import pytest

from samskab.common.hashing import tree_digest
from samskab.common.stop_points import FILE_SIZE, MEMORY
from tests.lakes import using_lake, using_setting
from tests.torture import tally
from tests.torture.faults import (
    KEY,
    assert_snapshots_match_their_checksums,
    assert_whole,
    delivers,
    prepared_lake,
    refresh_arguments,
    run_limited_at,
)

pytestmark = pytest.mark.end_to_end

TORTURE = bool(os.environ.get("SAMSKAB_TORTURE"))
LIMITS = [(FILE_SIZE, "raw commit"), (FILE_SIZE, "dbt middle"), (FILE_SIZE, "candidate"), (MEMORY, "dbt middle")]
SAID = {
    FILE_SIZE: "a file grew larger than this machine allows (EFBIG)",
    MEMORY: "the machine ran out of memory (ENOMEM)",
}


def a_refresh_out_of_disk_or_memory_says_so_and_the_next_run_recovers(limit, point, refreshed_lake, tmp_path):
    from flows.nightly_refresh import nightly_refresh
    from samskab.cli import EXIT_GATE_FAILED, describe_status
    from samskab.operate import run_journal
    from samskab.publish import swap

    lake = prepared_lake(refreshed_lake, tmp_path, point)
    landing = tree_digest(lake / "landing")
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    code, printed = run_limited_at(lake, point, limit, *refresh_arguments(point))

    assert code == EXIT_GATE_FAILED, printed[-3000:]
    assert SAID[limit] in printed and "Nothing was published; analysts keep the file published before" in printed
    key = using_setting("SAMSKAB_PSEUDONYM_KEY", KEY) if delivers(point) else contextlib.nullcontext()
    with using_lake(lake) as settings, key:
        assert published.read_bytes() == before
        assert_whole(published)
        assert_snapshots_match_their_checksums(settings)
        assert tree_digest(settings.landing_dir) == landing
        text, status_code = describe_status(settings)
        assert status_code == EXIT_GATE_FAILED and ": failed." in text and SAID[limit] in text, text

        report = nightly_refresh()  # with no manual step, and no limit

        assert report.outcome in (run_journal.UNCHANGED, run_journal.PUBLISHED), report.verdict
        assert swap.leftovers(settings) == []
        assert_whole(published)
        assert delivers(point) == (report.outcome == run_journal.PUBLISHED)  # the new delivery, published now
    tally.record("full disk and no memory", f"{limit} at {point}", "recovered")


if TORTURE:  # a whole refresh and a recovery each: only in `make torture`
    test_a_refresh_out_of_disk_or_memory_says_so_and_the_next_run_recovers = pytest.mark.parametrize(
        ("limit", "point"), LIMITS
    )(a_refresh_out_of_disk_or_memory_says_so_and_the_next_run_recovers)
