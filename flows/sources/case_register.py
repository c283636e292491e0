"""Read the researchers' case register: the five case studies and their fieldwork activities.

The sheets are kept by hand in Danish (semicolons, DD.MM.YYYY dates, 'ja'/'nej'); labels are mapped
to the platform's codes here. Informant names become pseudonyms before anything is stored.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from flows.landing import Delivery, Finding, Inventory, not_recognised, real_entries
from flows.reference import seed_rows
from flows.sources.common import (
    LandingFileError,
    Pseudonymise,
    RawTable,
    Reject,
    RowError,
    Source,
    SourceBatch,
    parse_danish_date,
    parse_int,
    parse_yes_no,
    require_file,
)

SOURCE = "cases"
CASE_FILE, ACTIVITY_FILE = "case_studies.csv", "fieldwork_activities.csv"

# Each coded column, and the reference seed that holds its codes with their Danish and English names.
CODED_COLUMNS = {
    "vidensomraade": ("knowledge_areas", "knowledge_area"),
    "type": ("activity_types", "activity_type"),
    "informant_rolle": ("informant_roles", "informant_role"),
}
CASE_COLUMNS = ["case_id", "kommunekode", "indsats", "vidensomraade", "feltarbejde_start", "feltarbejde_slut"]
ACTIVITY_COLUMNS = [
    "aktivitet_id",
    "case_id",
    "type",
    "dato",
    "informant_navn",
    "informant_rolle",
    "antal_deltagere",
    "samtykke",
    "optagelse",
    "transskriberet",
]


def _codes_by_label(column: str) -> dict[str, str]:
    """Every way the sheet may write a code (the code itself, its Danish or English name), casefolded."""
    seed, key = CODED_COLUMNS[column]
    by_label: dict[str, str] = {}
    for row in seed_rows(seed):
        for name, value in row.items():
            if name == key or name.endswith(("_name_da", "_name_en")):
                by_label[value.strip().casefold()] = row[key]
    return by_label


def _code(column: str, text: str, *, required: bool) -> str | None:
    key = text.strip().casefold()
    if not key:
        if required:
            raise RowError(column, "is empty but required")
        return None
    codes = _codes_by_label(column)
    if key not in codes:
        seed, _ = CODED_COLUMNS[column]
        # The reason names the rule, never the cell: a misplaced informant name must not be repeated.
        raise RowError(column, f"is not one of the names in the reference list dbt_project/seeds/{seed}.csv")
    return codes[key]


def _read_sheet(path: Path, expected: list[str]) -> list[tuple[int, dict[str, str]]]:
    require_file(path, f"the case register's {path.name}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LandingFileError(path, f"is not UTF-8 (at byte {error.start}); save the sheet as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = next(reader, [])
    if [name.strip() for name in header] != expected:
        raise LandingFileError(path, f"the header (row 1) should read {';'.join(expected)}", row=1)
    return [
        (number, dict(zip(expected, row, strict=False)) | {"_fields": str(len(row))})
        for number, row in enumerate(reader, start=2)
        if any(cell.strip() for cell in row)
    ]


def read_case_register(directory: Path, pseudonymise: Pseudonymise) -> SourceBatch:
    """Read the case register folder. Returns raw tables case_studies and fieldwork_activities."""
    case_path, activity_path = directory / CASE_FILE, directory / ACTIVITY_FILE
    batch = SourceBatch(source=SOURCE, files=[case_path, activity_path])

    cases = []
    for line_number, values in _read_sheet(case_path, CASE_COLUMNS):
        try:
            if values["_fields"] != str(len(CASE_COLUMNS)):
                raise RowError(None, f"has {values['_fields']} fields; expected {len(CASE_COLUMNS)}")
            case_id = values["case_id"].strip()
            if not case_id:
                raise RowError("case_id", "is empty but required")
            cases.append(
                {
                    "case_id": case_id,
                    "municipality_code": parse_int("kommunekode", values["kommunekode"], required=True),
                    "effort_title": values["indsats"].strip(),
                    "knowledge_area": _code("vidensomraade", values["vidensomraade"], required=True),
                    "fieldwork_start_date": parse_danish_date("feltarbejde_start", values["feltarbejde_start"]),
                    "fieldwork_end_date": parse_danish_date("feltarbejde_slut", values["feltarbejde_slut"]),
                    "source_file": str(case_path),
                    "source_row": line_number,
                }
            )
        except RowError as error:
            batch.rejects.append(Reject(SOURCE, str(case_path), line_number, error.column, error.reason))

    activities = []
    for line_number, values in _read_sheet(activity_path, ACTIVITY_COLUMNS):
        try:
            if values["_fields"] != str(len(ACTIVITY_COLUMNS)):
                raise RowError(None, f"has {values['_fields']} fields; expected {len(ACTIVITY_COLUMNS)}")
            activity_id = values["aktivitet_id"].strip()
            if not activity_id:
                raise RowError("aktivitet_id", "is empty but required")
            activities.append(
                {
                    "activity_id": activity_id,
                    "case_id": values["case_id"].strip(),
                    "activity_type": _code("type", values["type"], required=True),
                    "activity_date": parse_danish_date("dato", values["dato"]),
                    "informant_role": _code("informant_rolle", values["informant_rolle"], required=False),
                    "n_participants": parse_int("antal_deltagere", values["antal_deltagere"]),
                    "has_consent": parse_yes_no("samtykke", values["samtykke"]),
                    "has_recording": parse_yes_no("optagelse", values["optagelse"]),
                    "has_transcript": parse_yes_no("transskriberet", values["transskriberet"]),
                    "informant_pseudonym": pseudonymise("informant", values["informant_navn"]),
                    "source_file": str(activity_path),
                    "source_row": line_number,
                }
            )
        except RowError as error:
            batch.rejects.append(Reject(SOURCE, str(activity_path), line_number, error.column, error.reason))

    batch.tables["case_studies"] = pd.DataFrame(
        cases,
        columns=[
            "case_id",
            "municipality_code",
            "effort_title",
            "knowledge_area",
            "fieldwork_start_date",
            "fieldwork_end_date",
            "source_file",
            "source_row",
        ],
    )
    frame = pd.DataFrame(
        activities,
        columns=[
            "activity_id",
            "case_id",
            "activity_type",
            "activity_date",
            "informant_role",
            "n_participants",
            "has_consent",
            "has_recording",
            "has_transcript",
            "informant_pseudonym",
            "source_file",
            "source_row",
        ],
    )
    frame["n_participants"] = frame["n_participants"].astype("Int64")
    for column in ("has_consent", "has_recording", "has_transcript"):
        frame[column] = frame[column].astype("boolean")
    batch.tables["fieldwork_activities"] = frame
    return batch


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """The cases/ folder is one delivery, the register's two sheets; anything else there is not recognised."""
    entries = real_entries(folder)
    if not entries:
        return [], []
    files = (folder / CASE_FILE, folder / ACTIVITY_FILE)
    findings = [
        finding
        for entry in entries
        if entry.name not in (CASE_FILE, ACTIVITY_FILE)
        for finding in not_recognised(
            Path(entry.path), inventory, f"is not part of the case register ({CASE_FILE}, {ACTIVITY_FILE})"
        )
    ]
    return [Delivery(SOURCE, inventory.relative(folder), folder, files, "case-register-csv")], findings


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    return read_case_register(delivery.path, pseudonymise)


CASES = Source(
    name=SOURCE,
    folder="cases",
    description="The researchers' case register: the five case studies and their fieldwork activities",
    discover=discover,
    read=read,
    tables=(
        RawTable(
            "case_studies",
            (
                ("case_id", "varchar"),
                ("municipality_code", "integer"),
                ("effort_title", "varchar"),
                ("knowledge_area", "varchar"),
                ("fieldwork_start_date", "date"),
                ("fieldwork_end_date", "date"),
            ),
        ),
        RawTable(
            "fieldwork_activities",
            (
                ("activity_id", "varchar"),
                ("case_id", "varchar"),
                ("activity_type", "varchar"),
                ("activity_date", "date"),
                ("informant_role", "varchar"),
                ("n_participants", "integer"),
                ("has_consent", "boolean"),
                ("has_recording", "boolean"),
                ("has_transcript", "boolean"),
                ("informant_pseudonym", "varchar"),
            ),
        ),
    ),
    suites=("raw_case_studies", "raw_fieldwork_activities"),
    reading_seeds=(
        "knowledge_areas",
        "activity_types",
        "informant_roles",
        "municipalities",
        "municipality_name_variants",
        "other_areas",
    ),
)
