"""Snapshots: every publish keeps a dated read-only copy, `--as-of DAY` reads the one of that day."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from samskab.common.settings import Settings
from samskab.publish import snapshots
from samskab.publish import swap as publish
from tests.lakes import FIRST_NIGHT, SECOND_NIGHT, publish_version, samskab


@pytest.fixture
def two_nights(tmp_path) -> Settings:
    settings = Settings(data_lake=tmp_path / "data_lake")
    publish_version(settings, 1, FIRST_NIGHT, "1a1a1a1a-0000-4000-8000-000000000001")
    publish_version(settings, 2, SECOND_NIGHT, "2b2b2b2b-0000-4000-8000-000000000002")
    return settings


def test_each_publish_keeps_a_dated_read_only_snapshot_named_by_its_run(two_nights):
    kept = snapshots.listed(two_nights)
    assert [snapshot.path.name for snapshot in kept] == [
        "2026-11-20_023114_1a1a1a1a.duckdb",
        "2026-11-21_023052_2b2b2b2b.duckdb",
    ]
    for snapshot in kept:
        assert stat.S_IMODE(snapshot.path.stat().st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    # the newest snapshot holds the same tables and rows as the published file
    with duckdb.connect(str(kept[-1].path), read_only=True) as connection:
        assert connection.execute("select sum(population) from municipality_profile").fetchall() == [
            (sum(2000 + n for n in range(98)),)
        ]


def test_sql_as_of_the_first_day_returns_the_first_snapshots_figures(two_nights):
    query = "select min(population) as lowest from municipality_profile"
    first = samskab(two_nights.data_lake, "sql", "--as-of", "2026-11-20", query)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[2].strip() == "1000"
    assert "snapshot of 2026-11-20 02:31 (Danish time), as of 2026-11-20: run 1a1a1a1a-" in first.stdout
    second = samskab(two_nights.data_lake, "sql", "--as-of", "2026-11-21", query)
    assert second.stdout.splitlines()[2].strip() == "2000"
    assert "run 2b2b2b2b-" in second.stdout
    # a later day reads the last snapshot before it; the published file is the newest
    later = samskab(two_nights.data_lake, "sql", "--csv", "--as-of", "2026-12-24", query)
    assert later.stdout == "lowest\n2000\n"
    assert "snapshot of 2026-11-21 02:30" in later.stderr
    published = samskab(two_nights.data_lake, "sql", query)
    assert "the published file: run 2b2b2b2b-0000-4000-8000-000000000002" in published.stdout
    assert "kept as the snapshot of 2026-11-21 02:30 (Danish time)" in published.stdout


def test_as_of_a_day_before_every_snapshot_says_which_are_kept(two_nights):
    result = samskab(two_nights.data_lake, "sql", "--as-of", "2026-11-19", "select 1")
    assert result.returncode == 2
    assert "No snapshot was published on or before 2026-11-19: the oldest kept is of 2026-11-20 02:31" in result.stderr
    assert "--as-of takes a day as YYYY-MM-DD" in samskab(two_nights.data_lake, "sql", "--as-of", "20/11", "x").stderr


def test_snapshots_older_than_the_retention_are_removed_but_never_the_newest(tmp_path):
    settings = Settings(data_lake=tmp_path, snapshot_retention_days=60)
    source = tmp_path / "file.duckdb"
    duckdb.connect(str(source)).close()
    today = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    for days, run in ((61, "old"), (60, "edge"), (1, "recent")):
        snapshots.keep(settings, source, run, today - timedelta(days=days))
    # each keep prunes relative to its own night: yesterday's kept the one 61 nights before today
    assert [snapshot.run_prefix for snapshot in snapshots.listed(settings)] == ["old", "edge", "recent"]
    snapshots.keep(settings, source, "tonight", today)
    assert [snapshot.run_prefix for snapshot in snapshots.listed(settings)] == ["edge", "recent", "tonight"]
    # a lake left alone for months keeps its last snapshot
    lonely = Settings(data_lake=tmp_path / "lonely", snapshot_retention_days=1)
    snapshots.keep(lonely, source, "only", today - timedelta(days=300))
    assert snapshots.prune(lonely, today) == []
    assert snapshots.as_of(lonely, date(2026, 11, 27)).run_prefix == "only"


def test_a_rollback_is_kept_as_a_snapshot_so_as_of_today_reads_the_file_put_back(two_nights):
    outcome = publish.rollback(two_nights)
    assert outcome.changed and "Kept as snapshot of" in outcome.message
    kept = snapshots.listed(two_nights)
    assert [snapshot.run_prefix for snapshot in kept] == ["1a1a1a1a", "2b2b2b2b", "1a1a1a1a"]
    today = datetime.now(UTC).astimezone(snapshots.DANISH_TIME).date()
    assert snapshots.as_of(two_nights, today).path == kept[-1].path
    query = "select min(population) from municipality_profile"
    result = samskab(two_nights.data_lake, "sql", "--as-of", f"{today}", query)
    assert result.stdout.splitlines()[2].strip() == "1000"


def test_a_snapshot_cut_short_by_a_kill_is_a_leftover_the_next_run_removes(two_nights):
    partial = two_nights.snapshots_dir / "2026-11-22_023000_3c3c3c3c.duckdb.tmp"
    partial.write_bytes(b"half a file")
    # an erasure's rewrites cut short (samskab/publish/erasure.py), beside the files they rewrote
    erasing = [
        two_nights.snapshots_dir / (snapshots.listed(two_nights)[0].path.name + ".erasing"),
        two_nights.published_dir / "analytics.duckdb.erasing",
    ]
    for path in erasing:
        path.write_bytes(b"half a file")
    assert {partial, *erasing} <= set(publish.leftovers(two_nights))
    assert [snapshot.run_prefix for snapshot in snapshots.listed(two_nights)] == ["1a1a1a1a", "2b2b2b2b"]
    publish.remove_leftovers(two_nights)
    assert not partial.exists() and not any(path.exists() for path in erasing)
    assert len(snapshots.listed(two_nights)) == 2  # the files they rewrote stay


def test_a_failed_swap_leaves_no_snapshot_of_a_file_never_published(two_nights, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.os, "link", full_disk)  # the swap's first step: keeping the previous file
    with pytest.raises(OSError):
        publish_version(two_nights, 3, SECOND_NIGHT + timedelta(days=1), "3c3c3c3c-0000-4000-8000-000000000003")
    monkeypatch.undo()
    assert [snapshot.run_prefix for snapshot in snapshots.listed(two_nights)] == ["1a1a1a1a", "2b2b2b2b"]
    assert list(two_nights.snapshots_dir.glob("*.tmp")) == []


def test_a_publish_killed_before_its_snapshot_is_named_gets_one_from_the_next_run(two_nights):
    newest = snapshots.listed(two_nights)[-1]
    newest.path.rename(newest.path.with_name(newest.path.name + ".tmp"))  # as a kill after the swap leaves it
    done = publish.recover_files(two_nights)
    assert any("had no dated snapshot" in line and "run 2b2b2b2b-" in line for line in done), done
    kept = snapshots.listed(two_nights)
    assert [snapshot.run_prefix for snapshot in kept] == ["1a1a1a1a", "2b2b2b2b"]
    assert list(two_nights.snapshots_dir.glob("*.tmp")) == []
    assert publish.recover_files(two_nights) == []  # nothing left to put right


def test_snapshots_command_lists_what_is_kept(two_nights):
    result = samskab(two_nights.data_lake, "snapshots")
    assert result.returncode == 0
    assert "2026-11-20 02:31" in result.stdout and "2b2b2b2b" in result.stdout
    assert "kept 60 nights" in result.stdout


def test_export_as_of_the_first_day_writes_the_first_snapshots_rows_and_names_it(two_nights, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "exports"
    result = samskab(
        two_nights.data_lake, "export", "municipality_profile", "--format", "parquet", "--to", str(out),
        "--as-of", "2026-11-20",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "from snapshot of 2026-11-20 02:31 (Danish time), as of 2026-11-20: run 1a1a1a1a-" in result.stdout
    table = pq.read_table(out / "municipality_profile.parquet")
    assert min(table.column("population").to_pylist()) == 1000
    assert b"run 1a1a1a1a-" in table.schema.metadata[b"source"]
    assert "snapshot of 2026-11-20 02:31" in (out / "README.txt").read_text(encoding="utf-8")


def test_report_after_a_rollback_is_drawn_for_the_file_published_again(two_nights, tmp_path):
    # the report the second night's publish drew names its run; a rollback puts the first night's file back
    drawn_by_publish = two_nights.docs_dir / "report.html"
    drawn_by_publish.parent.mkdir(parents=True)
    drawn_by_publish.write_text("<p>Figures from run 2b2b2b2b-0000-4000-8000-000000000002</p>", encoding="utf-8")
    assert publish.rollback(two_nights).changed
    result = samskab(two_nights.data_lake, "report", "--no-open", "--to", str(tmp_path / "reports"))
    assert result.returncode == 0, result.stderr
    [drawn] = (tmp_path / "reports").glob("samskab-report-*.html")
    assert "1a1a1a1a-0000-4000-8000-000000000001" in drawn.read_text(encoding="utf-8")
    assert str(drawn) in result.stdout


def test_an_edited_snapshot_is_refused_never_served_under_its_runs_name(two_nights):
    """Issue 22, defect 8: each snapshot's sha256 is kept beside it and verified before it is read."""
    first = snapshots.listed(two_nights)[0]
    assert snapshots.checksum_path(first.path).read_text().split() == [
        snapshots.sha256_of(first.path),
        first.path.name,
    ]
    first.path.chmod(0o644)
    with duckdb.connect(str(first.path)) as connection:  # someone "corrects" a figure in an old snapshot
        connection.execute("update municipality_profile set population = population + 1 where municipality_code = 100")
    result = samskab(two_nights.data_lake, "sql", "--as-of", "2026-11-20", "select 1")
    assert result.returncode == 2
    assert "was changed since it was kept (its checksum does not match" in result.stdout + result.stderr
    export = samskab(two_nights.data_lake, "export", "--all", "--format", "csv", "--to", "x", "--as-of", "2026-11-20")
    assert export.returncode != 0 and "was changed since it was kept" in export.stdout + export.stderr
    assert samskab(two_nights.data_lake, "sql", "--as-of", "2026-11-21", "select 1").returncode == 0


def test_snapshots_kept_before_checksums_get_theirs_and_pruned_ones_lose_theirs(two_nights):
    for snapshot in snapshots.listed(two_nights):
        snapshots.checksum_path(snapshot.path).unlink()
    done = publish.recover_files(two_nights)
    assert "Kept the checksums of 2 snapshots kept before snapshots had checksums." in done
    first = snapshots.listed(two_nights)[0]
    snapshots.verify(first)
    removed = snapshots.prune(two_nights.replace(snapshot_retention_days=1), SECOND_NIGHT + timedelta(days=5))
    assert removed == [first.path] and not snapshots.checksum_path(first.path).exists()


class Killed(BaseException):
    """Stands for SIGKILL at a stop point: nothing after it runs (the rewrite cleans up nothing)."""


def test_a_snapshot_rewrite_killed_before_its_rename_still_verifies_and_the_next_run_puts_it_in_place(
    two_nights, monkeypatch
):
    """Issue 22 with issue 20: an erasure's rewrite of a snapshot writes the new checksum, then renames. A kill
    between the two leaves a snapshot that verifies (the checksum names the old bytes too), and the next run's
    clean-up puts the flushed rewrite in place and names it alone."""
    from samskab.common import stop_points
    from samskab.publish import erasure as published_erasure

    def kill_at(point: str) -> None:
        if point == "erase rewrite":
            raise Killed(point)

    first = snapshots.listed(two_nights)[0]
    old = snapshots.sha256_of(first.path)
    monkeypatch.setattr(stop_points, "reached", kill_at)
    with pytest.raises(Killed):
        published_erasure.rewrite(first.path, {"p-1"}, "e-1", rows={"municipality_profile": 0})
    monkeypatch.undo()
    partial = first.path.with_name(first.path.name + ".erasing")
    new = snapshots.sha256_of(partial)
    assert snapshots.checksums(first.path) == [new, old] and snapshots.sha256_of(first.path) == old
    snapshots.verify(first)  # `--as-of` still reads it
    assert samskab(two_nights.data_lake, "sql", "--as-of", "2026-11-20", "select 1").returncode == 0

    done = publish.recover_files(two_nights)

    assert any("Put in place the rewrites an interrupted erasure had checksummed" in line for line in done), done
    assert not partial.exists() and snapshots.sha256_of(first.path) == new
    assert snapshots.checksums(first.path) == [new]
    snapshots.verify(first)
    assert [erasure_id for erasure_id, _ in published_erasure.rewritten_on(first.path)] == ["e-1"]
    assert publish.recover_files(two_nights) == []


def test_a_snapshot_rewritten_but_killed_before_its_checksum_named_it_alone_is_tidied(two_nights):
    first = snapshots.listed(two_nights)[0]
    old = snapshots.sha256_of(first.path)
    snapshots.write_checksums(first.path, old, "0" * 64)  # the rename done, the last checksum write not
    snapshots.verify(first)
    assert publish.recover_files(two_nights) == []
    assert snapshots.checksums(first.path) == [old]
