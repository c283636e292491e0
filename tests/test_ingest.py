"""Landing -> raw: the ledger makes re-delivery a no-op; a changed file replaces its rows; nothing is lost."""

from __future__ import annotations

import duckdb

from flows.ingest import ingest_case_register, ingest_statbank_extracts, ingest_survey_exports
from flows.pseudonyms import Pseudonymiser
from flows.settings import Settings
from tests.conftest import make_sample_lake

PSEUDONYMISE = Pseudonymiser(b"i" * 32)


def counts(settings: Settings, sql: str):
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_every_raw_row_names_its_file_and_every_file_is_in_the_ledger(tmp_path):
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    loads = [
        *ingest_survey_exports(settings, "r1", PSEUDONYMISE),
        *ingest_statbank_extracts(settings, "r1"),
        *ingest_case_register(settings, "r1", PSEUDONYMISE),
    ]
    assert [load.skipped for load in loads] == [False, False, False]
    assert counts(settings, "select count(*) from raw.ingest_ledger where is_current") == [(6,)]
    assert counts(settings, "select count(*) from raw.survey_respondents where source_file is null") == [(0,)]
    assert counts(settings, "select distinct source_file from raw.statbank_population") == [
        ("statbank/FOLK1A_kommuner.csv",)
    ]


def test_redelivering_same_bytes_is_a_no_op(tmp_path):
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    ingest_survey_exports(settings, "r1", PSEUDONYMISE)
    before = counts(settings, "select count(*), max(loaded_at) from raw.ingest_ledger")
    again = ingest_survey_exports(settings, "r2", PSEUDONYMISE)
    assert again[0].skipped and "unchanged" in again[0].describe()
    assert counts(settings, "select count(*), max(loaded_at) from raw.ingest_ledger") == before
    assert counts(settings, "select count(*) from raw.survey_respondents") == [(785,)]


def test_changed_delivery_replaces_its_rows_and_keeps_the_old_hash_in_the_ledger(tmp_path):
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    ingest_statbank_extracts(settings, "r1")
    path = settings.landing_dir / "statbank" / "FOLK1A_kommuner.csv"
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    path.write_bytes(("\ufeff" + "\r\n".join(lines[:200]) + "\r\n").encode())
    load = ingest_statbank_extracts(settings, "r2")[0]
    assert load.rows == {"statbank_population": 199}
    assert counts(settings, "select count(*) from raw.statbank_population") == [(199,)]
    assert counts(settings, "select run_id, is_current from raw.ingest_ledger order by loaded_at") == [
        ("r1", False),
        ("r2", True),
    ]


def test_unreadable_delivery_is_recorded_and_its_earlier_rows_are_kept(tmp_path):
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    ingest_statbank_extracts(settings, "r1")
    path = settings.landing_dir / "statbank" / "FOLK1A_kommuner.csv"
    path.write_text("OMRÅDE;CIVILSTAND;TID;INDHOLD\r\nHele landet;I alt;2016K1;1\r\n", encoding="utf-8")
    load = ingest_statbank_extracts(settings, "r2")[0]
    assert load.n_rejected == 1 and "could not be read" in load.notes[0]
    assert counts(settings, "select count(*) from raw.statbank_population") == [(832,)]
    assert counts(settings, "select file, line, reason like '%OMRÅDE;TID;INDHOLD%' from raw.rejected_rows") == [
        ("statbank/FOLK1A_kommuner.csv", 1, True)
    ]
    assert counts(settings, "select run_id, is_current from raw.ingest_ledger") == [("r1", True)]
    assert load.describe().startswith("statbank/FOLK1A_kommuner.csv: nothing loaded; rejected 1 rows")


def test_export_missing_a_file_is_reported_not_crashed(tmp_path):
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    (settings.landing_dir / "survey" / "samskabelse_2016" / "labels.csv").unlink()
    (load,) = ingest_survey_exports(settings, "r1", PSEUDONYMISE)
    assert load.n_rejected == 1 and "missing labels.csv" in load.rejects[0]
    assert counts(settings, "select count(*) from raw.survey_respondents") == [(0,)]


def test_free_text_and_identifiers_stay_out_of_the_tables_dbt_reads(tmp_path):
    lake, manifest = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    ingest_survey_exports(settings, "r1", PSEUDONYMISE)
    ingest_case_register(settings, "r1", PSEUDONYMISE)
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw' "
                "and table_name not in ('survey_open_answers')"
            ).fetchall()
        ]
        text = "\n".join(
            str(value)
            for table in tables
            for value in connection.execute(f"select * from raw.{table}").df().to_numpy().ravel()
        )
    finally:
        connection.close()
    assert not [email for email in manifest.emails if email in text]
    assert not [name for name in manifest.names if name in text]
