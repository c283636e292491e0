"""Retention of landing originals with direct identifiers (issue 20): past the set days the refresh takes
them out of the landing zone (moved or deleted, as set) while raw keeps their pseudonymised rows and the
ledger their sha256; status warns before; a raw layer that would need them again refuses."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from samskab.common.settings import Settings, SettingsError
from samskab.ingest import retention
from samskab.ingest.deliveries import ingest_landing_zone, open_warehouse, retire_originals
from samskab.ingest.pseudonyms import Pseudonymiser
from tests.lakes import make_sample_lake

KEY = Pseudonymiser(b"k" * 32)
SURVEY = "survey/samskabelse_2016"
IDENTIFYING = [f"{SURVEY}/dataset.csv", f"{SURVEY}/labels.csv", f"{SURVEY}/structure.csv", "cases/case_register.xlsx"]


def lake_with(tmp_path: Path, **settings) -> Settings:
    lake, _ = make_sample_lake(tmp_path, waves=("2016",))
    chosen = Settings(data_lake=lake, **settings)
    ingest_landing_zone(chosen, "r1", KEY)
    return chosen


def raw_counts(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return {
            table: connection.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in ("survey_respondents", "survey_answers", "case_informants", "statbank_observations")
        }


def ledger(settings: Settings) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        rows = connection.execute("select file, status, sha256 from raw.ingest_ledger").fetchall()
    return {file: (status, sha) for file, status, sha in rows}


def test_without_a_retention_nothing_is_taken_out(tmp_path):
    settings = lake_with(tmp_path)
    assert retire_originals(settings, "r2", datetime.now(UTC) + timedelta(days=3650)) == []
    assert all((settings.landing_dir / file).is_file() for file in IDENTIFYING)


def test_past_the_retention_originals_with_names_are_moved_out_and_their_rows_stay(tmp_path):
    settings = lake_with(tmp_path, originals_retention_days=30)
    before, hashes = raw_counts(settings), ledger(settings)
    in_three_weeks = datetime.now(UTC) + timedelta(days=21)

    from samskab.cli import describe_status

    status, _ = describe_status(settings, in_three_weeks)  # within the 14 days' warning
    assert "Retention: 4 landing original(s) with names or e-mails in clear reach their 30 days" in status
    assert all(file in status for file in IDENTIFYING)
    assert retire_originals(settings, "r2", in_three_weeks) == []  # warned, not yet due

    retired = retire_originals(settings, "r3", datetime.now(UTC) + timedelta(days=31))

    assert sorted(original.file for original in retired) == sorted(IDENTIFYING)
    for file in IDENTIFYING:
        assert not (settings.landing_dir / file).exists()
        moved = settings.retired_originals_dir / file
        assert moved.is_file() and stat.S_IMODE(moved.stat().st_mode) == 0o600
    assert any(settings.landing_dir.glob("statbank/**/*.csv"))  # public statistics carry no names: kept
    # the next night: the deliveries are gone from the landing zone, their rows are not withdrawn
    report = ingest_landing_zone(settings, "r4", KEY)
    assert report.withdrawals == [] and raw_counts(settings) == before
    assert ledger(settings) == hashes  # every file still current, with its sha256
    status, _ = describe_status(settings, datetime.now(UTC) + timedelta(days=40))
    assert "Retention:" not in status


def test_retention_can_delete_and_a_rebuild_that_needs_the_originals_refuses(tmp_path):
    settings = lake_with(tmp_path, originals_retention_days=1, originals_retention_action="delete")
    before = raw_counts(settings)
    retire_originals(settings, "r2", datetime.now(UTC) + timedelta(days=2))
    assert not any((settings.landing_dir / file).exists() for file in IDENTIFYING)
    assert not settings.retired_originals_dir.exists()

    with pytest.raises(retention.OriginalsRetired) as refused:  # another key: raw would be read again
        ingest_landing_zone(settings, "r3", Pseudonymiser(b"n" * 32))
    assert "4 original(s) were taken out of it by retention" in str(refused.value)
    assert raw_counts(settings) == before  # nothing was dropped
    connection = open_warehouse(settings)
    try:
        assert retention.retired_files(connection) == set(IDENTIFYING)
    finally:
        connection.close()


def test_a_retention_action_other_than_move_or_delete_is_refused():
    with pytest.raises(SettingsError, match="ORIGINALS_RETENTION_ACTION"):
        Settings(originals_retention_action="archive")
