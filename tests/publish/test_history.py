"""The shared history (issue 21): every publish also committed to a DuckLake catalog in a real PostgreSQL, as
one snapshot tagged with its run; another process reads an earlier publish's figures as of its snapshot."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

import duckdb
import pytest

from samskab.common.settings import Settings
from samskab.publish import history
from tests.lakes import FIRST_NIGHT, REPO, SAMSKAB, SECOND_NIGHT, publish_version
from tests.postgres import Postgres

FIRST_RUN, SECOND_RUN = "1a1a1a1a-0000-4000-8000-000000000001", "2b2b2b2b-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def postgres():
    server = Postgres().initialise().start()
    yield server
    server.remove()


@pytest.fixture
def lake_settings(postgres, tmp_path, request) -> Settings:
    """A data lake whose publishes also go to a DuckLake catalog of its own in the PostgreSQL above."""
    database = f"history_{abs(hash(request.node.name)) % 10**8}"
    postgres.create_database(database)
    return Settings(
        data_lake=tmp_path / "data_lake",
        ducklake_catalog=f"postgres:{postgres.libpq(database)}",
        ducklake_data_path=str(tmp_path / "history_data") + "/",
    )


def publish_and_commit(settings: Settings, version: int, night, run_id: str) -> history.Committed:
    publish_version(settings, version, night, run_id)
    return history.commit(settings, settings.published_path, run_id, night)


def samskab_on(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """`samskab ARGS` in a process of its own, with the lake's history configured as a researcher would."""
    environment = {
        **os.environ,
        "SAMSKAB_DATA_LAKE": str(settings.data_lake),
        "SAMSKAB_DUCKLAKE_CATALOG": settings.ducklake_catalog.get_secret_value(),
        "SAMSKAB_DUCKLAKE_DATA_PATH": settings.ducklake_data_path,
    }
    return subprocess.run([*SAMSKAB, *args], capture_output=True, text=True, cwd=REPO, env=environment, timeout=60)


def test_two_publishes_are_two_snapshots_and_another_process_reads_the_first_as_of_its_day(lake_settings, tmp_path):
    first = publish_and_commit(lake_settings, 1, FIRST_NIGHT, FIRST_RUN)
    second = publish_and_commit(lake_settings, 2, SECOND_NIGHT, SECOND_RUN)
    assert (first.version, second.version) == (1, 2)
    assert "municipality_profile" in first.written and "meta.runs" in first.written
    assert "municipality_profile" in second.written  # its figures changed
    kept = history.listed(lake_settings)
    assert [(snapshot.version, snapshot.run_id) for snapshot in kept] == [(1, FIRST_RUN), (2, SECOND_RUN)]
    assert kept[0].published_at == FIRST_NIGHT

    # The dated files are gone: what is read below can only come from the shared history.
    for path in lake_settings.snapshots_dir.iterdir():
        path.chmod(0o644)
        path.unlink()
    query = "select min(population) as lowest, (select run_id from meta.runs) as run from municipality_profile"
    read = samskab_on(lake_settings, "sql", "--csv", "--as-of", "2026-11-20", query)
    assert read.returncode == 0, read.stderr
    assert read.stdout == f"lowest,run\n1000,{FIRST_RUN}\n"
    assert f"shared history's snapshot 1 of 2026-11-20 02:31 (Danish time), as of 2026-11-20: run {FIRST_RUN}" in (
        read.stderr
    )
    later = samskab_on(lake_settings, "sql", "--csv", "--as-of", "2026-12-24", query)
    assert later.stdout == f"lowest,run\n2000,{SECOND_RUN}\n", later.stderr
    before = samskab_on(lake_settings, "sql", "--as-of", "2026-11-19", "select 1")
    assert before.returncode == 2 and "holds no publish on or before 2026-11-19" in before.stderr
    # export --as-of too, every table of the first publish
    export = samskab_on(lake_settings, "export", "municipality_profile", "--format", "csv", "--to", str(tmp_path / "x"),
                        "--as-of", "2026-11-20")  # fmt: skip
    assert export.returncode == 0, export.stdout + export.stderr
    (written,) = (tmp_path / "x").glob("municipality_profile*.csv")
    assert written.read_text(encoding="utf-8-sig").splitlines()[1:3] == ["100;1000", "101;1001"]  # Danish Excel
    listing = samskab_on(lake_settings, "snapshots")
    assert FIRST_RUN in listing.stdout and "2 snapshots of the shared history" in listing.stdout


def test_a_publish_writes_only_the_tables_that_changed(lake_settings):
    publish_and_commit(lake_settings, 1, FIRST_NIGHT, FIRST_RUN)
    with duckdb.connect(str(lake_settings.published_path)) as connection:  # a mart no publish changes
        connection.execute("create table steady as select range as n from range(50)")
    again = history.commit(lake_settings, lake_settings.published_path, FIRST_RUN, FIRST_NIGHT)
    assert again.written == ["steady"] and "municipality_profile" in again.kept
    second = publish_and_commit(lake_settings, 2, SECOND_NIGHT, SECOND_RUN)
    assert second.dropped == ["steady"]  # the newer file has no such table: nor has the history's newest
    with history.connect(lake_settings, version=again.version) as connection:
        assert connection.execute("select count(*) from steady").fetchone() == (50,)
        comment = connection.execute(
            "select comment from duckdb_tables() where database_name = 'history' "
            "and table_name = 'municipality_profile'"
        ).fetchone()
    with duckdb.connect(str(lake_settings.published_path), read_only=True) as published:
        expected = published.execute(
            "select comment from duckdb_tables() where table_name = 'municipality_profile'"
        ).fetchone()
    assert comment == expected


def test_snapshots_past_the_retention_expire_but_never_the_newest(lake_settings):
    settings = lake_settings.replace(snapshot_retention_days=2)
    publish_and_commit(settings, 1, FIRST_NIGHT, FIRST_RUN)
    publish_and_commit(settings, 2, SECOND_NIGHT, SECOND_RUN)
    third = publish_and_commit(settings, 3, FIRST_NIGHT + timedelta(days=5), "3c3c3c3c-0000-4000-8000-000000000003")
    assert third.expired == 2
    assert [snapshot.version for snapshot in history.listed(settings)] == [third.version]
    with pytest.raises(LookupError, match="holds no publish on or before 2026-11-21"):
        history.as_of(settings, SECOND_NIGHT.date())


def test_the_sql_shell_on_a_snapshot_of_the_history_reads_no_file_and_writes_none(lake_settings):
    publish_and_commit(lake_settings, 1, FIRST_NIGHT, FIRST_RUN)
    data = lake_settings.ducklake_data_path
    for attempt in (
        "select * from read_csv('/etc/passwd')",
        f"select count(*) from read_parquet('{data}**/*.parquet')",
        f"copy (select 1) to '{data}planted.csv'",
        "set enable_external_access = true",
    ):
        result = samskab_on(lake_settings, "sql", "--as-of", "2026-11-20", attempt)
        assert result.returncode != 0, attempt
    assert not (lake_settings.data_lake.parent / "history_data" / "planted.csv").exists()


def test_a_catalog_that_does_not_answer_is_named_without_its_password(tmp_path):
    settings = Settings(
        data_lake=tmp_path / "data_lake",
        ducklake_catalog="postgres:dbname=history host=127.0.0.1 port=1 user=samskab password=s3cret-Word",
        ducklake_data_path=str(tmp_path / "history_data") + "/",
    )
    publish_version(settings, 1, FIRST_NIGHT, FIRST_RUN)
    with pytest.raises(history.HistoryUnavailable) as raised:
        history.commit(settings, settings.published_path, FIRST_RUN, FIRST_NIGHT)
    assert "could not be attached" in str(raised.value) and "s3cret-Word" not in str(raised.value)
    shown = samskab_on(settings, "sql", "--as-of", "2026-11-20", "select 1")
    assert shown.returncode == 2 and "s3cret-Word" not in shown.stdout + shown.stderr
    assert "shared history" in shown.stderr and "Traceback" not in shown.stderr


def test_after_an_erasure_the_history_keeps_only_the_file_built_without_the_person(lake_settings):
    """DuckLake cannot rewrite a snapshot: after an erasure (issue 20) the history keeps only the file the
    erasure's refresh built without the person, and the older snapshots' files are deleted."""
    from datetime import UTC, datetime
    from pathlib import Path

    from samskab.ingest import erasure as raw_erasure
    from samskab.operate import erasure

    publish_and_commit(lake_settings, 1, FIRST_NIGHT, FIRST_RUN)
    publish_and_commit(lake_settings, 2, SECOND_NIGHT, SECOND_RUN)
    with duckdb.connect(str(lake_settings.warehouse_path)) as connection:  # an erasure, recorded by pseudonym
        raw_erasure.ensure_privacy_schema(connection)
        connection.execute(  # as erase records it: naive UTC
            "insert into privacy.erasures values ('e-1', ?, 'respondent', 'p-1', 'k', 1, null)",
            [datetime.now(UTC).replace(tzinfo=None)],
        )
    rebuilt = "3c3c3c3c-0000-4000-8000-000000000003"
    publish_and_commit(lake_settings, 3, datetime.now(UTC), rebuilt)  # the erasure's refresh
    data = Path(lake_settings.ducklake_data_path)
    before = set(data.rglob("*.parquet"))

    said = erasure.forget_history(lake_settings)

    assert said and "2 older snapshots expired and their files deleted" in said[0], said
    assert [kept.run_id for kept in history.listed(lake_settings)] == [rebuilt]
    left = set(data.rglob("*.parquet"))
    assert left < before  # the older snapshots' files are gone
    with history.connect(lake_settings) as connection:
        assert connection.execute("select min(population) from municipality_profile").fetchone() == (3000,)
    assert erasure.forget_history(lake_settings) == []  # nothing in the history predates the erasure now
