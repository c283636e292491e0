"""Landing -> raw: every landing file ends loaded, refused, not recognised or withdrawn; the raw layer
follows the landing zone; re-delivery is a no-op; a changed file replaces its rows; nothing is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from samskab.common.settings import Settings
from samskab.ingest.deliveries import ingest_landing_zone, landing_inventory
from samskab.ingest.pseudonyms import DEMO_PSEUDONYM_KEY, Pseudonymiser
from samskab.ingest.raw_store import ensure_raw_schema
from tests.lakes import ARE207_ANSWER, FOLK1A_ANSWER, make_sample_lake

ONE_WAVE = ("2016",)  # ingest's mechanics on one survey export (the sample's first wave)

PSEUDONYMISE = Pseudonymiser(b"i" * 32)
# Each Statbank answer is a delivery of its own, with the record of the request that fetched it.
FOLK1A_RECORD = FOLK1A_ANSWER.removesuffix(".csv") + ".request.json"
FOLK1A_TABLEINFO = FOLK1A_ANSWER.removesuffix(".csv") + ".tableinfo.json"
ARE207_TABLEINFO = ARE207_ANSWER.removesuffix(".csv") + ".tableinfo.json"
# The deliveries of the one-wave sample, in the order the inventory lists them.
DELIVERIES = [
    "survey/samskabelse_2016",
    ARE207_ANSWER,
    ARE207_TABLEINFO,
    FOLK1A_ANSWER,
    FOLK1A_TABLEINFO,
    "cases/case_register.xlsx",
]
N_FILES = 3 + 4 * 2 + 1  # the survey export's three, each Statbank answer with its request record, the case workbook
FOLK1A_ROWS = (1 + 5 + 98 + 1) * 3 * 24  # areas x KØN (TOT, 1, 2) x quarters 2015K1-2020K4
ARE207_ROWS = (1 + 5 + 11 + 98 + 1) * 6  # areas (with the 11 landsdele) x years 2015-2020


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
    assert [load.state for load in report.loads] == ["loaded"] * 6
    assert report.needing_attention() == [] and report.withdrawals == []
    assert set(states(report).values()) == {"loaded"} and len(states(report)) == N_FILES
    assert query(settings, "select count(*) from raw.ingest_ledger where status = 'current'") == [(N_FILES,)]
    assert query(settings, "select count(*) from raw.survey_respondents where source_file is null") == [(0,)]
    assert query(
        settings, "select source_file, table_id, count(*) from raw.statbank_observations group by all order by 1"
    ) == [(ARE207_ANSWER, "ARE207", ARE207_ROWS), (FOLK1A_ANSWER, "FOLK1A", FOLK1A_ROWS)]
    assert query(settings, "select distinct source_file, table_id from raw.statbank_tableinfo order by 1") == [
        (ARE207_TABLEINFO, "ARE207"),
        (FOLK1A_TABLEINFO, "FOLK1A"),
    ]
    assert query(settings, "select distinct delivery from raw.ingest_ledger order by 1") == sorted(
        (delivery,) for delivery in DELIVERIES
    )


def test_redelivering_same_bytes_is_a_no_op(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    before = query(settings, "select count(*), max(loaded_at) from raw.ingest_ledger")
    again = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert [load.state for load in again.loads] == ["unchanged"] * 6
    assert "unchanged" in again.loads[0].describe()
    assert query(settings, "select count(*), max(loaded_at) from raw.ingest_ledger") == before
    assert query(settings, "select count(*) from raw.survey_respondents") == [(786,)]


def test_changed_delivery_replaces_its_rows_and_keeps_the_old_hash_in_the_ledger(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    path = settings.landing_dir / FOLK1A_ANSWER
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    kept = FOLK1A_ROWS - 200  # the header and all but 200 figures (most of them: a shrink that needs no decision)
    path.write_bytes(("\ufeff" + "\r\n".join(lines[: kept + 1]) + "\r\n").encode())
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    load = next(load for load in report.loads if load.delivery == FOLK1A_ANSWER)
    assert load.state == "loaded" and load.rows == {"statbank_observations": kept}
    assert query(settings, "select source_file, count(*) from raw.statbank_observations group by 1 order by 1") == [
        (ARE207_ANSWER, ARE207_ROWS),
        (FOLK1A_ANSWER, kept),
    ]
    assert query(
        settings, f"select run_id, status from raw.ingest_ledger where file = '{FOLK1A_ANSWER}' order by 1"
    ) == [("r1", "superseded"), ("r2", "current")]


def test_refused_delivery_is_recorded_under_its_own_file_and_its_earlier_rows_are_kept(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    path = settings.landing_dir / FOLK1A_ANSWER
    path.write_text("\ufeffOMRÅDE;KØN;TID;ANTAL\r\n000;TOT;2016K1;1\r\n", encoding="utf-8")  # no INDHOLD
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    load = next(load for load in report.loads if load.delivery == FOLK1A_ANSWER)
    assert load.state == "refused" and load.describe().startswith(f"REFUSED {FOLK1A_ANSWER}, row 1: ")
    assert "last good version" in load.describe()
    assert query(settings, "select source_file, count(*) from raw.statbank_observations group by 1 order by 1") == [
        (ARE207_ANSWER, ARE207_ROWS),
        (FOLK1A_ANSWER, FOLK1A_ROWS),
    ]
    assert query(settings, "select file, line, reason like '%end with INDHOLD%' from raw.rejected_rows") == [
        (FOLK1A_ANSWER, 1, True)
    ]
    assert query(settings, f"select run_id, status from raw.ingest_ledger where file = '{FOLK1A_ANSWER}'") == [
        ("r1", "current")
    ]
    assert states(report)[FOLK1A_ANSWER] == states(report)[FOLK1A_RECORD] == "refused"
    assert report.needing_attention() == [f"REFUSED {FOLK1A_ANSWER}, row 1: {load.rejects[0].split(': ', 1)[1]}"]


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
    assert [load.state for load in report.loads if load.source != "survey"] == ["loaded"] * 5
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
    (landing / "statbank" / "api" / "ARE207_20261127T030000Z.request.json").write_text("{}", encoding="utf-8")
    (landing / "statbank" / "api" / ".FOLK1A_20261127T030000Z.csv.part").write_bytes(b"OMR")
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    found = states(report)
    assert {file: found[file] for file in found if found[file] != "loaded"} == {
        "notes.txt": "not recognised",
        "statbank/FOLK1A.jsonstat.json": "refused",  # a JSON-stat answer, but not a dataset
        "statbank/api/ARE207_20261127T030000Z.request.json": "not recognised",  # a request without its answer
        "survey/loose.txt": "not recognised",
        "survey/samskabelse_2016/readme.txt": "not recognised",
        "elsewhere/data.csv": "not recognised",
        "statbank/.DS_Store": "ignored",
        "statbank/api/.FOLK1A_20261127T030000Z.csv.part": "ignored",  # a download the connector left unfinished
    }
    assert len(report.needing_attention()) == 6
    refused = next(load for load in report.loads if load.state != "loaded")
    assert refused.reason.startswith("statbank/FOLK1A.jsonstat.json: ") and "not a JSON-stat dataset" in refused.reason
    assert sorted(load.state for load in report.loads) == ["loaded"] * 6 + ["refused"]


def test_a_symbolic_link_is_refused_and_never_followed(tmp_path):
    settings = sample_settings(tmp_path)
    outside = tmp_path / "outside_export"
    shutil.copytree(settings.landing_dir / "survey" / "samskabelse_2016", outside)
    (settings.landing_dir / "survey" / "linked_export").symlink_to(outside, target_is_directory=True)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert states(report)["survey/linked_export"] == "refused"
    assert [load.delivery for load in report.loads] == DELIVERIES
    assert query(settings, "select count(distinct export_id) from raw.survey_respondents") == [(1,)]
    assert str(tmp_path) not in str(query(settings, "select * from raw.ingest_ledger"))


def test_raw_follows_the_landing_zone_a_withdrawn_delivery_loses_its_rows(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    withdrawn = settings.landing_dir / "withdrawn"
    withdrawn.mkdir()
    (settings.landing_dir / "survey" / "samskabelse_2016").rename(withdrawn / "samskabelse_2016")
    (settings.landing_dir / FOLK1A_ANSWER).unlink()
    (settings.landing_dir / FOLK1A_RECORD).unlink()
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert sorted(w.file for w in report.withdrawals) == [
        FOLK1A_ANSWER,
        FOLK1A_RECORD,
        "survey/samskabelse_2016/dataset.csv",
        "survey/samskabelse_2016/labels.csv",
        "survey/samskabelse_2016/structure.csv",
    ]
    assert next(w for w in report.withdrawals if w.file == FOLK1A_ANSWER).n_rows == FOLK1A_ROWS
    for table in ("survey_respondents", "survey_answers", "survey_variables"):
        assert query(settings, f"select count(*) from raw.{table}") == [(0,)], table
    assert query(settings, "select source_file, count(*) from raw.statbank_observations group by 1") == [
        (ARE207_ANSWER, ARE207_ROWS)
    ]
    assert query(settings, "select count(*) from raw.case_studies") == [(5,)]
    assert query(settings, "select count(*) from raw.ingest_ledger where status = 'withdrawn'") == [(5,)]
    assert states(report)["withdrawn/samskabelse_2016/dataset.csv"] == "withdrawn"
    assert report.needing_attention() == []


def test_a_renamed_file_with_the_same_bytes_is_loaded_under_its_new_name(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (settings.landing_dir / FOLK1A_ANSWER).rename(settings.landing_dir / "statbank" / "FOLK1A_2017.csv")
    (settings.landing_dir / FOLK1A_RECORD).rename(settings.landing_dir / "statbank" / "FOLK1A_2017.request.json")
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert sorted(w.file for w in report.withdrawals) == [FOLK1A_ANSWER, FOLK1A_RECORD]
    assert query(
        settings,
        "select source_file, count(*) from raw.statbank_observations where table_id = 'FOLK1A' group by 1",
    ) == [("statbank/FOLK1A_2017.csv", FOLK1A_ROWS)]
    assert query(
        settings, "select file from raw.ingest_ledger where status = 'current' and file like '%FOLK1A_2017%'"
    ) == [
        ("statbank/FOLK1A_2017.csv",),
        ("statbank/FOLK1A_2017.request.json",),
    ]


def test_a_changed_raw_layout_drops_the_raw_layer_and_every_delivery_is_read_again(tmp_path):
    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    connection = duckdb.connect(str(settings.warehouse_path))
    connection.execute("update raw.layout set fingerprint = 'an-older-layout'")
    connection.close()
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert report.raw_layer_rebuilt and [load.state for load in report.loads] == ["loaded"] * 6
    connection = duckdb.connect(str(settings.warehouse_path))
    assert ensure_raw_schema(connection) is None
    connection.close()


def informant_names(settings: Settings) -> set[str]:
    """The informants' names as the case register in the landing zone types them."""
    from openpyxl import load_workbook

    workbook = load_workbook(settings.landing_dir / "cases" / "case_register.xlsx", read_only=True)
    try:
        rows = list(workbook["Informanter"].iter_rows(values_only=True))
    finally:
        workbook.close()
    column = list(rows[0]).index("navn")
    return {row[column] for row in rows[1:] if row[column]}


def test_a_key_set_after_the_demo_reads_every_delivery_again_so_raw_holds_one_keys_pseudonyms(tmp_path):
    """Issue 20, as the operator met it: the demo read the sample under the published demo key; then a real
    key is set and the case register is delivered again. The unchanged survey export must not keep its
    demo-key pseudonyms beside the register's new ones: every delivery is read again under the new key, and
    the raw layer records which key made it, by fingerprint only."""
    from openpyxl import load_workbook

    settings = sample_settings(tmp_path)
    pseudonyms = (
        "select respondent_pseudonym from raw.survey_respondents union all "
        "select email_pseudonym from raw.survey_respondents where email_pseudonym is not null union all "
        "select informant_pseudonym from raw.case_informants where informant_pseudonym is not null"
    )
    demo = Pseudonymiser(DEMO_PSEUDONYM_KEY.encode())
    ingest_landing_zone(settings, "demo", demo)
    first = {row[0] for row in query(settings, pseudonyms)}
    assert query(settings, "select key_fingerprint from raw.pseudonym_key") == [(demo.key_fingerprint,)]
    register = settings.landing_dir / "cases" / "case_register.xlsx"
    workbook = load_workbook(register)
    before = register.read_bytes()
    workbook.save(register)  # delivered again: the same register, saved anew
    assert register.read_bytes() != before
    study_key = b"the-study-s-own-key-0123456789abcdef"
    study = Pseudonymiser(study_key)

    report = ingest_landing_zone(settings, "r2", study)

    assert report.raw_layer_rebuilt and [load.state for load in report.loads] == ["loaded"] * 6
    again = {row[0] for row in query(settings, pseudonyms)}
    assert len(again) == len(first) > 100 and again.isdisjoint(first)
    assert query(settings, "select key_fingerprint from raw.pseudonym_key") == [(study.key_fingerprint,)]
    assert study_key.decode() not in (settings.warehouse_path.read_bytes()).decode("latin-1")
    names = {row[0] for row in query(settings, "select informant_pseudonym from raw.case_informants")}
    assert names and names <= {study("informant", name) for name in informant_names(settings)}
    # the same key again: nothing is read again
    report = ingest_landing_zone(settings, "r3", study)
    assert not report.raw_layer_rebuilt and {load.state for load in report.loads} == {"unchanged"}


def test_inventory_lists_deliveries_in_registry_order_named_relative_to_the_landing_zone(tmp_path):
    settings = sample_settings(tmp_path)
    inventory = landing_inventory(settings)
    assert [(d.source, d.name, d.format) for d in inventory.deliveries] == [
        ("survey", "survey/samskabelse_2016", "surveyxact-csv"),
        ("statbank", ARE207_ANSWER, "statbank-data"),
        ("statbank", ARE207_TABLEINFO, "statbank-tableinfo"),
        ("statbank", FOLK1A_ANSWER, "statbank-data"),
        ("statbank", FOLK1A_TABLEINFO, "statbank-tableinfo"),
        ("cases", "cases/case_register.xlsx", "case-register-xlsx"),
    ]
    assert [inventory.relative(path) for path in inventory.deliveries[3].files] == [FOLK1A_ANSWER, FOLK1A_RECORD]
    assert sum(len(delivery.files) for delivery in inventory.deliveries) == N_FILES
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


def a_reader_that_quotes_the_file(delivery, pseudonymise):
    raise UnicodeDecodeError("utf-16-le", b"mette.hansen@aarhus.dk", 0, 1, "unexpected end of data")


def a_case_reader_that_lets_a_phone_number_through(delivery, pseudonymise):
    from samskab.ingest.sources.registry import source_named

    batch = source_named("cases").read(delivery, pseudonymise)
    batch.tables["fieldwork_activities"].loc[0, "duration_minutes"] = 45_87_65_43_21
    return batch


def reading_with(monkeypatch, source: str, reader) -> None:
    """Ingest reads the deliveries of `source` with `reader` (in the reading process, as always)."""
    from samskab.ingest import deliveries, reading

    def read(delivery, pseudonymise, limits):
        chosen = reader if delivery.source == source else None
        return reading.read_delivery(delivery, pseudonymise, limits, chosen)

    monkeypatch.setattr(deliveries, "read_delivery", read)


def test_an_unexpected_reader_error_refuses_the_delivery_without_its_text(tmp_path, monkeypatch, caplog):
    """A fault in a reader (here one that quotes the file, as a decoding error does) refuses the delivery;
    neither the reject nor the log carries the exception's text."""
    settings = sample_settings(tmp_path)
    reading_with(monkeypatch, "survey", a_reader_that_quotes_the_file)
    with caplog.at_level("ERROR"):
        report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    load = next(load for load in report.loads if load.source == "survey")
    assert load.state == "refused" and "UnicodeDecodeError" in load.reason and "fault in the platform" in load.reason
    assert "mette.hansen" not in load.reason and "mette.hansen" not in caplog.text
    assert "a_reader_that_quotes_the_file" in caplog.text  # the log names the place in the code
    assert [other.state for other in report.loads if other.source != "survey"] == ["loaded"] * 5


def test_a_value_a_reader_let_through_that_its_column_cannot_hold_refuses_the_delivery_naming_the_column(
    tmp_path, monkeypatch, caplog
):
    """The last wall before raw: DuckDB's conversion error quotes the value; the refusal names the column
    and counts the rows instead, and the refresh goes on with the other deliveries."""
    settings = sample_settings(tmp_path)
    reading_with(monkeypatch, "cases", a_case_reader_that_lets_a_phone_number_through)
    with caplog.at_level("DEBUG"):
        report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    load = next(load for load in report.loads if load.source == "cases")
    assert load.state == "refused"
    assert "raw.fieldwork_activities.duration_minutes (integer): 1 row" in load.reason
    assert "4587654321" not in load.reason + caplog.text
    assert [other.state for other in report.loads if other.source != "cases"] == ["loaded"] * 5


def test_an_export_cut_at_a_line_end_waits_for_a_decision_and_samskab_accept_loads_it(tmp_path, capsys, monkeypatch):
    """Cut exactly at a line end, an export reads without error: 2 respondents of 786 were once published
    with "PASSED" (issue 22, defect 4). Now the new version is refused until the researcher decides."""
    from samskab import cli
    from samskab.common.settings import reset_settings

    settings = sample_settings(tmp_path)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    dataset = settings.landing_dir / "survey" / "samskabelse_2016" / "dataset.csv"
    raw = dataset.read_bytes()
    assert raw.startswith(b"\xff\xfe")  # UTF-16 with its byte order mark, as SurveyXact writes it
    lines = raw.decode("utf-16").splitlines(keepends=True)
    dataset.write_bytes(("".join(lines[:3])).encode("utf-16"))  # the header and two respondents
    report = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    survey = next(load for load in report.loads if load.delivery == "survey/samskabelse_2016")
    assert survey.state == "refused"
    assert "raw.survey_respondents: 2 of the 786 rows its loaded version has" in survey.reason
    assert "run `samskab accept survey/samskabelse_2016`" in survey.reason
    assert query(settings, "select count(*) from raw.survey_respondents") == [(786,)]
    assert report.needing_attention() == [f"REFUSED {survey.reason}"]
    assert ingest_landing_zone(settings, "r3", PSEUDONYMISE).needing_attention() == [f"REFUSED {survey.reason}"]

    monkeypatch.setenv("SAMSKAB_DATA_LAKE", str(settings.data_lake))
    reset_settings()
    try:
        assert cli.main(["accept", "survey/nothing_of_that_name"]) == 2
        assert cli.main(["accept", "survey/samskabelse_2016"]) == 0
    finally:
        monkeypatch.undo()
        reset_settings()
    assert "Accepted survey/samskabelse_2016 as its 3 file(s) are now" in capsys.readouterr().out
    accepted = ingest_landing_zone(settings, "r4", PSEUDONYMISE)
    assert accepted.needing_attention() == []
    assert query(settings, "select count(*) from raw.survey_respondents") == [(2,)]
    dataset.write_bytes(("".join(lines[:2])).encode("utf-16"))  # changed again: a decision of its own
    again = ingest_landing_zone(settings, "r5", PSEUDONYMISE)
    assert [load.state for load in again.loads if load.source == "survey"] == ["loaded"]  # 1 of 2: under 20 rows


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
    assert [load.state for load in report.loads] == ["refused"] + ["loaded"] * 5
    rejected = query(settings, "select file, reason from raw.rejected_rows")
    assert len(rejected) == 1 and rejected[0][0] == f"survey/samskabelse_2016/{file}" and reason in rejected[0][1]
    assert query(settings, "select count(*) from raw.case_studies") == [(5,)]
    assert query(settings, "select count(*) from raw.statbank_observations") == [(FOLK1A_ROWS + ARE207_ROWS,)]


def test_a_run_reads_each_landing_file_once_for_its_fingerprint_and_its_ingest(tmp_path):
    """The fingerprint (has anything changed?) and ingest name files by the same sha256, read once."""
    from samskab.common import hashing
    from samskab.ingest.landing import walk
    from samskab.operate.fingerprint import landing_digest

    before = hashing.files_read()
    settings = sample_settings(tmp_path)  # the sample's marker names its files by their sha256 too
    files, _ = walk(settings.landing_dir)
    landing_digest(settings)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert hashing.files_read() - before == len(files)
    # A file that changes is read again.
    (settings.landing_dir / FOLK1A_ANSWER).write_bytes(b"changed")
    landing_digest(settings)
    assert hashing.files_read() - before == len(files) + 1
