"""Landing -> raw: every landing file ends loaded, refused, not recognised or withdrawn; the raw layer
follows the landing zone; re-delivery is a no-op; a changed file replaces its rows; nothing is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest_landing_zone, landing_inventory
from flows.pseudonyms import Pseudonymiser
from flows.raw_store import ensure_raw_schema
from flows.settings import Settings
from tests.conftest import make_sample_lake

ONE_WAVE = ("2016",)  # ingest's mechanics on one survey export (the sample's first wave)

PSEUDONYMISE = Pseudonymiser(b"i" * 32)
EXTRACT = "statbank/FOLK1A_kommuner.csv"


def query(settings: Settings, sql: str):
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def sample_settings(tmp_path: Path) -> Settings:
    lake, _ = make_sample_lake(tmp_path, waves=ONE_WAVE)
    return Settings(data_lake=lake)


def states(report) -> dict[str, str]:
    return {row.file: row.state for row in report.landing_files()}


def test_every_raw_row_names_its_file_and_every_file_is_in_the_ledger(tmp_path):
    settings = sample_settings(tmp_path)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert [load.state for load in report.loads] == ["loaded", "loaded", "loaded"]
    assert report.needing_attention() == [] and report.withdrawals == []
    assert set(states(report).values()) == {"loaded"} and len(states(report)) == 6
    assert query(settings, "select count(*) from raw.ingest_ledger where status = 'current'") == [(6,)]
    assert query(settings, "select count(*) from raw.survey_respondents where source_file is null") == [(0,)]
    assert query(settings, "select distinct source_file from raw.statbank_population") == [(EXTRACT,)]
    assert query(settings, "select distinct delivery from raw.ingest_ledger order by 1") == [
        ("cases",),
        ("statbank/FOLK1A_kommuner.csv",),
        ("survey/samskabelse_2016",),
    ]


def test_redelivering_same_bytes_is_a_no_op(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    before = query(settings, "select count(*), max(loaded_at) from raw.ingest_ledger")
    again = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert [load.state for load in again.loads] == ["unchanged"] * 3
    assert "unchanged" in again.loads[0].describe()
    assert query(settings, "select count(*), max(loaded_at) from raw.ingest_ledger") == before
    assert query(settings, "select count(*) from raw.survey_respondents") == [(786,)]


def test_changed_delivery_replaces_its_rows_and_keeps_the_old_hash_in_the_ledger(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    path = settings.landing_dir / EXTRACT
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    path.write_bytes(("\ufeff" + "\r\n".join(lines[:200]) + "\r\n").encode())
    load = next(load for load in ingest_landing_zone(settings, "r2", PSEUDONYMISE).loads if load.source == "statbank")
    assert load.rows == {"statbank_population": 199}
    assert query(settings, "select count(*) from raw.statbank_population") == [(199,)]
    assert query(settings, f"select run_id, status from raw.ingest_ledger where file = '{EXTRACT}' order by 1") == [
        ("r1", "superseded"),
        ("r2", "current"),
    ]


def test_refused_delivery_is_recorded_under_its_own_file_and_its_earlier_rows_are_kept(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    path = settings.landing_dir / EXTRACT
    path.write_text("OMRÅDE;CIVILSTAND;TID;INDHOLD\r\nHele landet;I alt;2016K1;1\r\n", encoding="utf-8")
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    load = next(load for load in report.loads if load.source == "statbank")
    assert load.state == "refused" and load.describe().startswith(f"REFUSED {EXTRACT}, row 1: ")
    assert "last good version" in load.describe()
    assert query(settings, "select count(*) from raw.statbank_population") == [(832,)]
    assert query(settings, "select file, line, reason like '%OMRÅDE;TID;INDHOLD%' from raw.rejected_rows") == [
        (EXTRACT, 1, True)
    ]
    assert query(settings, f"select run_id, status from raw.ingest_ledger where file = '{EXTRACT}'") == [
        ("r1", "current")
    ]
    assert states(report)[EXTRACT] == "refused"
    assert report.needing_attention() == [f"REFUSED {EXTRACT}, row 1: {load.rejects[0].split(': ', 1)[1]}"]


def test_export_missing_a_file_is_refused_naming_the_missing_file(tmp_path):
    settings = sample_settings(tmp_path)
    (settings.landing_dir / "survey" / "samskabelse_2016" / "labels.csv").unlink()
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (load,) = [load for load in report.loads if load.source == "survey"]
    assert load.state == "refused"
    assert load.rejects == [
        "survey/samskabelse_2016/labels.csv: is missing: the export's labels.csv must be delivered with the rest"
    ]
    assert query(settings, "select count(*) from raw.survey_respondents") == [(0,)]


def test_a_folder_where_a_file_was_expected_refuses_that_delivery_only(tmp_path):
    settings = sample_settings(tmp_path)
    dataset = settings.landing_dir / "survey" / "samskabelse_2016" / "dataset.csv"
    dataset.unlink()
    dataset.mkdir()
    (dataset / "part.csv").write_text("x\n", encoding="utf-8")
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    survey = next(load for load in report.loads if load.source == "survey")
    assert survey.state == "refused" and "is a folder where" in survey.reason
    assert survey.reason.startswith("survey/samskabelse_2016/dataset.csv: ")
    assert [load.state for load in report.loads if load.source != "survey"] == ["loaded", "loaded"]
    assert states(report)["survey/samskabelse_2016/dataset.csv/part.csv"] == "not recognised"


def test_files_no_source_reads_are_listed_not_recognised_and_clutter_is_ignored(tmp_path):
    settings = sample_settings(tmp_path)
    landing = settings.landing_dir
    (landing / "notes.txt").write_text("to do\n", encoding="utf-8")
    (landing / "statbank" / "FOLK1A.jsonstat.json").write_text("{}", encoding="utf-8")
    (landing / "survey" / "loose.txt").write_text("x", encoding="utf-8")
    (landing / "survey" / "samskabelse_2016" / "readme.txt").write_text("x", encoding="utf-8")
    (landing / "elsewhere").mkdir()
    (landing / "elsewhere" / "data.csv").write_text("a;b\n", encoding="utf-8")
    (landing / "statbank" / ".DS_Store").write_bytes(b"\0")
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    found = states(report)
    assert {file: found[file] for file in found if found[file] != "loaded"} == {
        "notes.txt": "not recognised",
        "statbank/FOLK1A.jsonstat.json": "not recognised",
        "survey/loose.txt": "not recognised",
        "survey/samskabelse_2016/readme.txt": "not recognised",
        "elsewhere/data.csv": "not recognised",
        "statbank/.DS_Store": "ignored",
    }
    assert len(report.needing_attention()) == 5
    assert [load.state for load in report.loads] == ["loaded"] * 3


def test_a_symbolic_link_is_refused_and_never_followed(tmp_path):
    settings = sample_settings(tmp_path)
    outside = tmp_path / "outside_export"
    shutil.copytree(settings.landing_dir / "survey" / "samskabelse_2016", outside)
    (settings.landing_dir / "survey" / "linked_export").symlink_to(outside, target_is_directory=True)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert states(report)["survey/linked_export"] == "refused"
    assert [load.delivery for load in report.loads] == ["survey/samskabelse_2016", EXTRACT, "cases"]
    assert query(settings, "select count(distinct export_id) from raw.survey_respondents") == [(1,)]
    assert str(tmp_path) not in str(query(settings, "select * from raw.ingest_ledger"))


def test_raw_follows_the_landing_zone_a_withdrawn_delivery_loses_its_rows(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    withdrawn = settings.landing_dir / "withdrawn"
    withdrawn.mkdir()
    (settings.landing_dir / "survey" / "samskabelse_2016").rename(withdrawn / "samskabelse_2016")
    (settings.landing_dir / EXTRACT).unlink()
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert sorted(w.file for w in report.withdrawals) == [
        EXTRACT,
        "survey/samskabelse_2016/dataset.csv",
        "survey/samskabelse_2016/labels.csv",
        "survey/samskabelse_2016/structure.csv",
    ]
    assert next(w for w in report.withdrawals if w.file == EXTRACT).n_rows == 832
    for table in ("survey_respondents", "survey_answers", "survey_variables", "statbank_population"):
        assert query(settings, f"select count(*) from raw.{table}") == [(0,)], table
    assert query(settings, "select count(*) from raw.case_studies") == [(5,)]
    assert query(settings, "select count(*) from raw.ingest_ledger where status = 'withdrawn'") == [(4,)]
    assert states(report)["withdrawn/samskabelse_2016/dataset.csv"] == "withdrawn"
    assert report.needing_attention() == []


def test_a_renamed_file_with_the_same_bytes_is_loaded_under_its_new_name(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (settings.landing_dir / EXTRACT).rename(settings.landing_dir / "statbank" / "FOLK1A_2017.csv")
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert [w.file for w in report.withdrawals] == [EXTRACT]
    assert query(settings, "select distinct source_file, count(*) from raw.statbank_population group by 1") == [
        ("statbank/FOLK1A_2017.csv", 832)
    ]


def test_a_changed_raw_layout_drops_the_raw_layer_and_every_delivery_is_read_again(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    connection = duckdb.connect(str(settings.warehouse_path))
    connection.execute("update raw.layout set fingerprint = 'an-older-layout'")
    connection.close()
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert report.raw_layer_rebuilt and [load.state for load in report.loads] == ["loaded"] * 3
    connection = duckdb.connect(str(settings.warehouse_path))
    assert ensure_raw_schema(connection) is False
    connection.close()


def test_inventory_lists_deliveries_in_registry_order_named_relative_to_the_landing_zone(tmp_path):
    settings = sample_settings(tmp_path)
    inventory = landing_inventory(settings)
    assert [(d.source, d.name, d.format) for d in inventory.deliveries] == [
        ("survey", "survey/samskabelse_2016", "surveyxact-csv"),
        ("statbank", EXTRACT, "statbank-csv"),
        ("cases", "cases", "case-register-csv"),
    ]
    assert inventory.findings == []


def test_free_text_and_identifiers_stay_out_of_the_tables_dbt_reads(tmp_path):
    lake, manifest = make_sample_lake(tmp_path, waves=ONE_WAVE)
    settings = Settings(data_lake=lake)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
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


def test_a_survey_export_replaced_by_a_truncated_copy_is_refused_and_its_last_good_version_stays(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    dataset = settings.landing_dir / "survey" / "samskabelse_2016" / "dataset.csv"
    raw = dataset.read_bytes()
    dataset.write_bytes(raw[: (len(raw) // 2) & ~1])
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    survey = next(load for load in report.loads if load.source == "survey")
    assert survey.state == "refused" and "ends mid-row" in survey.reason
    assert survey.reason.startswith("survey/samskabelse_2016/dataset.csv, row ")
    assert query(settings, "select count(*) from raw.survey_respondents") == [(786,)]
    assert report.needing_attention() == [f"REFUSED {survey.reason}"]


def test_an_unexpected_reader_error_refuses_the_delivery_without_its_text(tmp_path, monkeypatch, caplog):
    """A fault in a reader (here one that quotes the file, as a decoding error does) refuses the delivery;
    neither the reject nor the log carries the exception's text."""
    from flows.sources import registry

    settings = sample_settings(tmp_path)
    survey = registry.source_named("survey")

    def faulty(delivery, pseudonymise):
        raise UnicodeDecodeError("utf-16-le", b"mette.hansen@aarhus.dk", 0, 1, "unexpected end of data")

    monkeypatch.setattr(
        registry,
        "SOURCES",
        tuple(
            source if source is not survey else type(survey)(**{**survey.__dict__, "read": faulty})
            for source in registry.SOURCES
        ),
    )
    with caplog.at_level("ERROR"):
        report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    load = next(load for load in report.loads if load.source == "survey")
    assert load.state == "refused" and "UnicodeDecodeError" in load.reason and "fault in the platform" in load.reason
    assert "mette.hansen" not in load.reason and "mette.hansen" not in caplog.text
    assert "faulty" in caplog.text  # the log names the place in the code
    assert [other.state for other in report.loads if other.source != "survey"] == ["loaded", "loaded"]


def _truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: (len(raw) // 2) & ~1])


def _swap_a_column_name(path: Path) -> None:
    text = path.read_bytes().decode("utf-16")
    path.write_bytes(text.replace("\tq2\t", "\tq2x\t", 1).encode("utf-16"))


def _undecodable(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[1000:1002] = b"\x00\xd8"
    path.write_bytes(bytes(raw))


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes().decode("utf-16").split("\n")[0].encode("utf-16") + "\n".encode("utf-16-le"))


@pytest.mark.parametrize(
    ("file", "damage", "reason"),
    [
        ("dataset.csv", _truncate, "ends mid-row"),
        ("dataset.csv", _swap_a_column_name, "do not match structure.csv"),
        ("dataset.csv", _undecodable, "is not valid UTF-16 at byte"),
        ("dataset.csv", lambda path: path.write_bytes(b""), "is empty (0 bytes)"),
        ("dataset.csv", _header_only, "has a header but no data rows"),
        ("labels.csv", lambda path: path.write_bytes(b"\x00\x00\xfe\xff"), "is UTF-32"),
    ],
    ids=["truncated", "columns-not-in-structure", "undecodable", "empty", "header-only", "utf-32"],
)
def test_a_refused_survey_file_is_in_the_rejects_table_and_other_deliveries_load(tmp_path, file, damage, reason):
    settings = sample_settings(tmp_path)
    path = settings.landing_dir / "survey" / "samskabelse_2016" / file
    damage(path)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert [load.state for load in report.loads] == ["refused", "loaded", "loaded"]
    rejected = query(settings, "select file, reason from raw.rejected_rows")
    assert len(rejected) == 1 and rejected[0][0] == f"survey/samskabelse_2016/{file}" and reason in rejected[0][1]
    assert query(settings, "select count(*) from raw.case_studies") == [(5,)]
    assert query(settings, "select count(*) from raw.statbank_population") == [(832,)]
