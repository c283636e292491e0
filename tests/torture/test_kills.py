"""Kills at every stage of a refresh, and of a rollback, each at the stage's own signal.

The process is started with a point named (samskab/common/stop_points.py); when its work reaches that
point it says so and stops itself, and the test kills its whole process group there (SIGKILL: no handler
runs, as when the machine's memory runs out). So each kill provably lands in the stage it names, on a
slow machine or a fast one. After each kill:

- the published file opens read-only and is one whole file: its `meta.runs` names one run, and the rows
  `meta.row_counts` records are the rows its tables hold; no write-ahead log beside it; every snapshot
  still matches its checksum; the landing zone is as it was;
- `samskab status` says the run did not finish;
- the next refresh recovers with no manual step: no candidate or other leftover in the published folder,
  the killed run's record closed as died, its Prefect flow run Crashed (not Running).

`make test` kills at two points (a delivery's rows inserted but not committed; the published file kept as
the previous one, the candidate not yet renamed over it); `make torture` at every point of a refresh and
a rollback, each outcome in its table.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest

from samskab.common import stop_points
from samskab.common.hashing import tree_digest
from tests.lakes import copy_lake, using_lake, using_setting
from tests.torture import tally
from tests.torture.faults import (
    KEY,
    assert_snapshots_match_their_checksums,
    assert_whole,
    delivers,
    kill_command_at,
    prepared_lake,
    refresh_arguments,
)

pytestmark = pytest.mark.end_to_end

TORTURE = bool(os.environ.get("SAMSKAB_TORTURE"))
FAST = ("raw commit", "swap")
POINTS = stop_points.REFRESH_POINTS if TORTURE else FAST
# Points where the published file is still the one published before the run.
BEFORE_THE_RENAME = stop_points.REFRESH_POINTS[: stop_points.REFRESH_POINTS.index("swap") + 1]


@pytest.mark.parametrize("point", POINTS)
def test_a_refresh_killed_at_each_stage_leaves_a_whole_file_and_the_next_run_recovers(point, refreshed_lake, tmp_path):
    from prefect.client.orchestration import get_client

    from flows.nightly_refresh import nightly_refresh
    from samskab.cli import EXIT_GATE_FAILED, describe_status
    from samskab.operate import run_journal
    from samskab.publish import documented, swap

    lake = prepared_lake(refreshed_lake, tmp_path, point)
    landing = tree_digest(lake / "landing")
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    kill_command_at(lake, point, *refresh_arguments(point))

    key = using_setting("SAMSKAB_PSEUDONYM_KEY", KEY) if delivers(point) else contextlib.nullcontext()
    with using_lake(lake) as settings, key:
        assert_whole(published)
        if point in BEFORE_THE_RENAME:
            assert published.read_bytes() == before, "the published file changed before the swap"
        assert_snapshots_match_their_checksums(settings)
        assert tree_digest(settings.landing_dir) == landing, "the kill changed the landing zone"
        text, code = describe_status(settings)
        assert code == EXIT_GATE_FAILED and "DID NOT FINISH" in text, text
        if point in BEFORE_THE_RENAME:
            assert "It published nothing" in text, text
        (killed,) = run_journal.dead_runs(settings)
        with get_client(sync_client=True) as client:
            assert client.read_flow_run(uuid.UUID(killed.flow_run_id)).state.is_running()

        report = nightly_refresh()  # with no manual step

        assert report.outcome in (run_journal.UNCHANGED, run_journal.PUBLISHED), report.verdict
        # The next run publishes the new delivery the killed one was given, if that one published nothing.
        assert (delivers(point) and point in BEFORE_THE_RENAME) == (report.outcome == run_journal.PUBLISHED)
        assert swap.leftovers(settings) == []  # no candidate, no half-written name
        assert_whole(published)
        assert_snapshots_match_their_checksums(settings)
        died = next(entry for entry in run_journal.read_runs(settings) if entry.run_id == killed.run_id)
        assert died.state == run_journal.DIED and "found unfinished by run" in died.noted[0]
        with get_client(sync_client=True) as client:
            assert client.read_flow_run(uuid.UUID(killed.flow_run_id)).state.is_crashed()
        if point not in BEFORE_THE_RENAME:  # the killed run's file is published, whole
            assert swap.published_run(published)[0] == killed.run_id
        # The documentation beside the file is of its run (built again if the kill stopped it).
        assert documented.documented_run(settings) == swap.published_run(published)[0]
        text, _ = describe_status(settings)
        assert "DID NOT FINISH" not in text, text
        if report.outcome == run_journal.UNCHANGED and point in BEFORE_THE_RENAME:
            assert "Runs that failed since the file was built (1):" in text and "DIED" in text, text
    tally.record("kill points", point, "recovered")


def rollback_killed_half_way_is_finished_by_the_next_one(refreshed_lake, tmp_path):
    """Killed with the published file renamed away: the published name still opens (the link was made
    first), and the next rollback finishes the interrupted one instead of swapping back."""
    from samskab.publish import swap

    lake = copy_lake(refreshed_lake[0], tmp_path)
    with using_lake(lake) as settings:
        # A second publish, so that there is a previous file of another run to roll back to.
        from flows.nightly_refresh import nightly_refresh

        nightly_refresh(force=True)
        published_before = swap.published_run(settings.published_path)
        previous_before = swap.published_run(settings.previous_path)
        assert published_before != previous_before
    kill_command_at(lake, "rollback", "rollback", "--yes")
    with using_lake(lake) as settings:
        assert_whole(settings.published_path)
        outcome = swap.rollback(settings)
        assert outcome.changed, outcome.message
        assert swap.published_run(settings.published_path) == previous_before
        assert swap.published_run(settings.previous_path) == published_before
        assert swap.leftovers(settings) == []
    tally.record("kill points", "rollback", "recovered")


if TORTURE:  # a second publish first, so a whole refresh more: only in `make torture`
    test_a_rollback_killed_half_way_is_finished_by_the_next_one = rollback_killed_half_way_is_finished_by_the_next_one
