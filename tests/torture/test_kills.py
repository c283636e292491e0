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


@pytest.mark.parametrize("point", stop_points.ERASE_POINTS)
def erase_killed_at_each_point(point, refreshed_lake, tmp_path):
    """`samskab erase` killed with the person's raw rows deleted but not committed, with the warehouse's
    compaction half written, and between a snapshot's new checksum and its rename: the published file and
    every snapshot stay whole and verify, status says the erasure did not finish, and the next refresh
    finishes it (nobody left in any published-zone file, the file built again) or, if nothing was
    committed, says to run the command again."""
    from datetime import timedelta

    from flows.nightly_refresh import nightly_refresh
    from samskab.cli import EXIT_PUBLISHED, describe_status
    from samskab.ingest import erasure as raw_erasure
    from samskab.operate import run_journal
    from samskab.publish import erasure as published_erasure
    from samskab.publish import snapshots, swap
    from tests.flows.test_erasure_everywhere import KEY as PSEUDONYMS
    from tests.flows.test_erasure_everywhere import heads

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    typed = heads(lake)
    head = typed[typed["name"].map(typed["name"].value_counts()) == 1].iloc[0]
    person = raw_erasure.respondent_by_identity(PSEUDONYMS, head["name"], head["email"])
    with using_lake(lake) as settings:
        (newest,) = snapshots.listed(settings)  # an earlier night's snapshot too, so two are rewritten
        snapshots.keep(settings, published, "earlier-night", newest.published_at - timedelta(days=3))
        with duckdb_connection(settings.warehouse_path) as connection:
            found = raw_erasure.find(connection, person)
        pseudonyms = found.every_pseudonym
        assert found.n_rows and all(published_erasure.count(path, pseudonyms) for path in (published, newest.path))
    landing = tree_digest(lake / "landing")

    kill_command_at(lake, point, "erase", "--name", head["name"], "--email", head["email"])

    with using_lake(lake) as settings, using_setting("SAMSKAB_PSEUDONYM_KEY", KEY):
        assert_whole(published)
        assert_snapshots_match_their_checksums(settings)
        assert tree_digest(settings.landing_dir) == landing, "the kill changed the landing zone"
        text, code = describe_status(settings)
        assert code != EXIT_PUBLISHED and "AN ERASURE" in text and "DID NOT FINISH" in text, text

        report = nightly_refresh()  # with no manual step

        committed = point != "erase raw"
        assert report.outcome == (run_journal.PUBLISHED if committed else run_journal.UNCHANGED), report.verdict
        assert swap.leftovers(settings) == []
        assert not list(settings.warehouse_path.parent.glob("*.compacting*"))
        assert_whole(published)
        assert_snapshots_match_their_checksums(settings)
        (erase,) = [entry for entry in run_journal.read_runs(settings) if entry.kind == run_journal.ERASE]
        assert erase.state == run_journal.DIED
        with duckdb_connection(settings.warehouse_path) as connection:
            left = raw_erasure.find(connection, person).n_rows
        files = published_erasure.published_files(settings)
        held = {path.name: published_erasure.count(path, pseudonyms) for path in files}
        if committed:  # finished: nobody in raw or in any file of the published zone
            assert left == 0 and not any(held.values()), held
            assert any("was stopped before its end: finished it" in line for line in report.cleaned_up)
        else:  # nothing was erased: the researcher is told to run the command again
            assert left == found.n_rows
            assert any("Run the same `samskab erase` command again" in line for line in report.cleaned_up)
        text, _ = describe_status(settings)
        assert "AN ERASURE" not in text, text
    tally.record("kill points", point, "recovered")


@contextlib.contextmanager
def duckdb_connection(path):
    import duckdb

    connection = duckdb.connect(str(path))
    try:
        yield connection
    finally:
        connection.close()


if TORTURE:  # three kills and three whole refreshes: only in `make torture`
    test_an_erase_killed_at_each_point_is_finished_by_the_next_refresh = erase_killed_at_each_point
