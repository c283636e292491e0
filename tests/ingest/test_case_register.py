"""The case register as researchers keep it (one workbook, four sheets) and in its first CSV form; and what
a researcher is told about each kind of mistake in it: a row rejected with sheet, row, column and reason,
or the workbook refused, never a crash and never a name repeated."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from samskab.common.settings import Settings
from samskab.ingest.deliveries import ingest_landing_zone
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.sources.case_register import read_case_register, read_case_workbook
from samskab.sample.case_register import build_register, write_case_csv_form, write_case_workbook

PSEUDONYMISE = Pseudonymiser(b"c" * 32)
WORKBOOK = "cases/case_register.xlsx"
TYPING_SLIP = "is more than {}: a number typed into the wrong column?"


@pytest.fixture()
def names() -> list[str]:
    return []


@pytest.fixture()
def register(names):
    return build_register(random.Random(2016), 1, names)


@pytest.fixture()
def settings(tmp_path, register) -> Settings:
    """A lake whose landing zone holds the sample's case register workbook alone."""
    settings = Settings(data_lake=tmp_path / "lake")
    write_case_workbook(settings.landing_dir / WORKBOOK, register)
    return settings


def edit(path: Path, sheet: str, cell: str, value) -> None:
    workbook = load_workbook(path)
    workbook[sheet][cell] = value
    workbook.save(path)


def query(settings: Settings, sql: str):
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def cells(batch) -> str:
    return "\n".join(frame.astype(str).to_csv() for frame in batch.tables.values())


# --- the workbook and the CSV form ------------------------------------------------------------------


def test_the_workbook_reads_into_four_raw_tables_with_informants_as_pseudonyms(settings, register, names):
    batch = read_case_workbook(settings.landing_dir / WORKBOOK, PSEUDONYMISE)
    assert batch.rejects == []
    tables = batch.tables
    assert len(tables["case_studies"]) == 5 and len(tables["fieldwork_activities"]) == len(register.activities)
    assert len(tables["case_informants"]) == len(register.informants) and len(tables["case_documents"]) == 15
    cases = tables["case_studies"].set_index("case_id")
    assert cases.loc["C4", "municipality_code"] == 825 and cases.loc["C4", "knowledge_area"] == "social_health"
    assert cases.loc["C1", "fieldwork_start_date"] == date(2016, 9, 1)
    activities = tables["fieldwork_activities"]
    assert set(activities["activity_type"]) == {
        "individual_interview",
        "group_interview",
        "participant_observation",
        "spot_interview",
        "desk_research",
    }
    assert set(activities["consent_status"]) == {"given", "pending", "not_needed"}
    assert set(activities["transcript_status"]) <= {"done", "in_progress", "not_applicable"}
    assert activities["informant_ids"].dropna().str.match(r"^C\d-I\d\d(, ?C\d-I\d\d)*$").all()
    informants = tables["case_informants"]
    assert informants["informant_pseudonym"].str.startswith("informant_").all()
    assert set(informants["organisation_type"]) <= {
        "municipality",
        "association",
        "volunteer_group",
        "self_owned_institution",
        "none",
    }
    text = cells(batch)
    assert names and [name for name in names if name in text] == []


def test_the_register_in_its_first_csv_form_is_still_read(tmp_path, register):
    write_case_csv_form(tmp_path / "cases", register)
    batch = read_case_register(tmp_path / "cases", PSEUDONYMISE)
    assert batch.rejects == []
    assert len(batch.tables["case_studies"]) == 5
    activities = batch.tables["fieldwork_activities"]
    assert len(activities) == len(register.activities)
    # 'ja' consent reads as given, the informant on an activity's row becomes an informant of its own.
    interviews = activities[activities["informant_ids"].notna()]
    assert (interviews["informant_ids"] == interviews["activity_id"] + "-I").all()
    assert set(activities["consent_status"].dropna()) == {"given"}
    assert len(batch.tables["case_informants"]) == len(interviews)


def test_unknown_labels_and_a_name_typed_into_the_role_column_are_rejected_without_repeating_them(settings):
    path = settings.landing_dir / WORKBOOK
    edit(path, "Aktiviteter", "C2", "Fokusgruppe")
    edit(path, "Informanter", "D3", "Mette Kirstine Hansen")
    batch = read_case_workbook(path, PSEUDONYMISE)
    where = {(reject.sheet, reject.row, reject.column): reject for reject in batch.rejects}
    assert set(where) >= {("Aktiviteter", 2, "type"), ("Informanter", 3, "rolle")}
    assert "reference list dbt_project/seeds/informant_roles.csv" in where["Informanter", 3, "rolle"].reason
    said = "\n".join(str(reject) for reject in batch.rejects)
    assert "Fokusgruppe" not in said and "Mette" not in said and "Hansen" not in said


# --- bad input, each with its message and its rows in the rejects table -----------------------------


def rejected(settings: Settings) -> list[tuple]:
    return query(settings, "select sheet, line, column_name, reason from raw.rejected_rows order by sheet, line")


def test_an_activity_for_an_unknown_case_is_rejected_naming_sheet_row_and_column(settings):
    edit(settings.landing_dir / WORKBOOK, "Aktiviteter", "B5", "C9")
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (load,) = report.loads
    assert load.state == "loaded" and load.n_rejected == 1
    assert rejected(settings) == [("Aktiviteter", 5, "case_id", "is not a case of the Cases sheet")]
    assert load.rejects == [f"{WORKBOOK}, sheet Aktiviteter, row 5, column case_id: is not a case of the Cases sheet"]


def test_a_case_in_an_unknown_municipality_is_rejected_and_so_is_everything_of_that_case(settings, register):
    edit(settings.landing_dir / WORKBOOK, "Cases", "B3", 999)
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    rows = rejected(settings)
    assert (
        "Cases",
        3,
        "kommunekode",
        "is not one of the 98 municipalities (a 3- or 4-digit code, or its name)",
    ) in rows
    of_c2 = sum(1 for row in register.activities if row[1] == "C2")
    assert sum(1 for sheet, _, column, _ in rows if sheet == "Aktiviteter" and column == "case_id") == of_c2
    assert query(settings, "select count(*) from raw.case_studies") == [(4,)]
    assert "999" not in "\n".join(reason for *_, reason in rows)


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "column", "reason"),
    [
        ("Aktiviteter", "D2", "31.02.2017", "dato", "is not a date that exists (an Excel date, or DD.MM.YYYY)"),
        ("Cases", "H2", datetime(2016, 8, 1), "feltarbejde_slut", "is before feltarbejde_start"),
        ("Aktiviteter", "E2", -30, "varighed_min", "is negative"),
        # A phone number typed as a duration once failed every night's refresh, quoting it in the log.
        ("Aktiviteter", "E2", 45_87_65_43_21, "varighed_min", TYPING_SLIP.format("10,080 (minutes in a week)")),
        ("Aktiviteter", "E2", 2.0**40, "varighed_min", TYPING_SLIP.format("10,080 (minutes in a week)")),
        ("Aktiviteter", "F2", 87654321, "antal_deltagere", TYPING_SLIP.format("100,000 (participants)")),
        ("Aktiviteter", "F2", 10**30, "antal_deltagere", TYPING_SLIP.format("100,000 (participants)")),
    ],
)
def test_impossible_dates_and_figures_are_rejected(settings, sheet, cell, value, column, reason, caplog):
    edit(settings.landing_dir / WORKBOOK, sheet, cell, value)
    with caplog.at_level("DEBUG"):
        report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert [load.state for load in report.loads] == ["loaded"]
    assert any(row[:3] == (sheet, 2, column) and row[3].startswith(reason) for row in rejected(settings))
    if isinstance(value, int | float) and abs(value) > 1000:  # the figure is never repeated
        told = caplog.text + "\n".join(map(str, rejected(settings))) + "\n".join(report.needing_attention())
        assert str(int(value)) not in told and str(value) not in told


def test_a_missing_sheet_refuses_the_workbook_naming_the_sheet(settings):
    path = settings.landing_dir / WORKBOOK
    workbook = load_workbook(path)
    del workbook["Dokumenter"]
    workbook.save(path)
    (load,) = ingest_landing_zone(settings, "r1", PSEUDONYMISE).loads
    assert load.state == "refused"
    assert load.reason.startswith(f"{WORKBOOK}: has no sheet Dokumenter; the case register holds the sheets ")


def test_a_renamed_column_refuses_the_workbook_naming_sheet_and_column(settings):
    edit(settings.landing_dir / WORKBOOK, "Aktiviteter", "D1", "Dato for aktivitet")
    (load,) = ingest_landing_zone(settings, "r1", PSEUDONYMISE).loads
    assert load.state == "refused"
    assert f"{WORKBOOK}, sheet Aktiviteter, row 1: the header (row 1) has no column dato" in load.reason


def test_a_workbook_cut_short_is_refused_and_a_lock_file_ignored(settings):
    path = settings.landing_dir / WORKBOOK
    path.write_bytes(path.read_bytes()[:2000])
    (path.parent / "~$case_register.xlsx").write_bytes(b"\0" * 165)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (load,) = report.loads
    assert load.state == "refused" and "is not a readable .xlsx workbook" in load.reason
    states = {row.file: row.state for row in report.landing_files()}
    assert states["cases/~$case_register.xlsx"] == "ignored"


def test_the_csv_form_left_beside_the_workbook_is_named_not_read_twice(settings, register):
    write_case_csv_form(settings.landing_dir / "cases", register)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert [load.delivery for load in report.loads] == [WORKBOOK]
    findings = {finding.path: finding for finding in report.findings}
    assert findings["cases/case_studies.csv"].state == "not recognised"
    assert "the register is kept in the workbook beside it" in findings["cases/case_studies.csv"].reason
    assert query(settings, "select count(*) from raw.case_studies") == [(5,)]


def test_raw_tables_hold_no_informant_name(settings, names):
    ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        frames = [
            connection.execute(f"select * from raw.{table}").df()
            for table in ("case_studies", "fieldwork_activities", "case_informants", "case_documents", "rejected_rows")
        ]
    finally:
        connection.close()
    text = "\n".join(frame.astype(str).to_csv() for frame in frames)
    assert names and [name for name in names if name in text] == []
    assert len(frames[2]) > 0  # the informants are there, as pseudonyms


def test_informant_ids_may_be_separated_by_semicolons_or_line_breaks(settings, register):
    path = settings.landing_dir / WORKBOOK
    row = next(
        number for number, activity in enumerate(register.activities, start=2) if activity[2] == "Gruppeinterview"
    )
    ids = register.activities[row - 2][6].split(", ")
    edit(path, "Aktiviteter", f"G{row}", ";\n".join(ids))
    batch = read_case_workbook(path, PSEUDONYMISE)
    assert batch.rejects == []
    activities = batch.tables["fieldwork_activities"]
    assert activities.loc[activities["source_row"] == row, "informant_ids"].tolist() == [",".join(ids)]
