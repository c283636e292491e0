"""Read the researchers' case register: the five case studies, their fieldwork, informants and documents.

Researchers keep the register as one Excel workbook in `cases/` with four sheets (sheet names in Danish
or English, any case):

- Cases (`cases`, `sager`): case_id, kommunekode, indsats, vidensomraade, samskabes, partnere,
  feltarbejde_start, feltarbejde_slut;
- Aktiviteter (`activities`, `aktiviteter`): aktivitet_id, case_id, type (the study's five kinds), dato,
  varighed_min, antal_deltagere, informanter (informant ids, comma-separated), samtykke, optagelse,
  transskription;
- Informanter (`informants`, `informanter`): informant_id, case_id, navn, rolle, organisationstype;
- Dokumenter (`documents`, `dokumenter`): dokument_id, case_id, type, dato, kilde.

The register's first, CSV form is still read: `case_studies.csv` and `fieldwork_activities.csv`
(semicolon-separated), with the informant written on the activity's row.

Labels are mapped to the platform's codes from the reference seeds (Danish or English names, or the
code); dates are Excel dates or DD.MM.YYYY. Informant names become pseudonyms before anything is stored.
A row that cannot be read, or names a case, informant or municipality the register does not hold, is
rejected with its sheet, row and column; a missing sheet or column refuses the workbook.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from samskab.common.reference import seed_rows, yes_no
from samskab.ingest.landing import Delivery, Finding, Inventory, not_recognised, real_entries
from samskab.ingest.sources.common import (
    KEPT,
    PSEUDONYMISED,
    RAW_ONLY,
    LandingFileError,
    PersonalData,
    Pseudonymise,
    RawTable,
    Reject,
    RowError,
    Source,
    SourceBatch,
    open_workbook,
    require_file,
)
from samskab.ingest.sources.municipalities import reference_resolver

SOURCE = "cases"
CASE_FILE, ACTIVITY_FILE = "case_studies.csv", "fieldwork_activities.csv"
WORKBOOK_FORMAT, CSV_FORMAT = "case-register-xlsx", "case-register-csv"

# Each coded column, and the reference seed that holds its codes with their Danish and English names.
CODED_COLUMNS = {
    "knowledge_area": "knowledge_areas",
    "activity_type": "activity_types",
    "informant_role": "informant_roles",
    "consent_status": "consent_statuses",
    "transcript_status": "transcript_statuses",
    "organisation_type": "organisation_types",
    "document_kind": "document_kinds",
}
# How the register's first, CSV form wrote consent and transcripts.
YES_NO_STATUS = {
    "consent_status": {"ja": "given", "nej": "refused"},
    "transcript_status": {"ja": "done", "nej": "not_started"},
}


@dataclass(frozen=True)
class SheetSpec:
    """A sheet of the register: its names, and its columns (each with the names a sheet may give it)."""

    key: str
    title: str
    names: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    optional: tuple[str, ...] = ()


CASE_SHEET = SheetSpec(
    "cases",
    "Cases",
    ("cases", "sager", "case"),
    {
        "case_id": ("case_id",),
        "kommunekode": ("kommunekode", "kommune"),
        "indsats": ("indsats", "titel"),
        "vidensomraade": ("vidensomraade", "vidensområde", "sektorområde", "sektoromraade"),
        "samskabes": ("samskabes", "hvad samskabes"),
        "partnere": ("partnere",),
        "feltarbejde_start": ("feltarbejde_start",),
        "feltarbejde_slut": ("feltarbejde_slut",),
    },
    optional=("samskabes", "partnere"),
)
ACTIVITY_SHEET = SheetSpec(
    "activities",
    "Aktiviteter",
    ("aktiviteter", "activities", "feltarbejde"),
    {
        "aktivitet_id": ("aktivitet_id",),
        "case_id": ("case_id",),
        "type": ("type",),
        "dato": ("dato",),
        "varighed_min": ("varighed_min", "varighed (min)", "varighed"),
        "antal_deltagere": ("antal_deltagere",),
        "informanter": ("informanter", "informant_id"),
        "samtykke": ("samtykke",),
        "optagelse": ("optagelse",),
        "transskription": ("transskription", "transskriberet"),
    },
)
INFORMANT_SHEET = SheetSpec(
    "informants",
    "Informanter",
    ("informanter", "informants"),
    {
        "informant_id": ("informant_id",),
        "case_id": ("case_id",),
        "navn": ("navn", "informant_navn"),
        "rolle": ("rolle", "informant_rolle"),
        "organisationstype": ("organisationstype", "organisation"),
    },
)
DOCUMENT_SHEET = SheetSpec(
    "documents",
    "Dokumenter",
    ("dokumenter", "documents"),
    {
        "dokument_id": ("dokument_id",),
        "case_id": ("case_id",),
        "type": ("type",),
        "dato": ("dato",),
        "kilde": ("kilde",),
    },
)
WORKBOOK_SHEETS = (CASE_SHEET, ACTIVITY_SHEET, INFORMANT_SHEET, DOCUMENT_SHEET)
# The CSV form's activity sheet: the informant on the activity's row, consent and transcript as ja/nej.
CSV_ACTIVITY_SHEET = SheetSpec(
    "activities",
    "fieldwork_activities.csv",
    (),
    {
        "aktivitet_id": ("aktivitet_id",),
        "case_id": ("case_id",),
        "type": ("type",),
        "dato": ("dato",),
        "informant_navn": ("informant_navn",),
        "informant_rolle": ("informant_rolle",),
        "antal_deltagere": ("antal_deltagere",),
        "samtykke": ("samtykke",),
        "optagelse": ("optagelse",),
        "transskriberet": ("transskriberet",),
    },
)


@dataclass
class Sheet:
    """The rows of one sheet (or CSV file): (row number as a spreadsheet shows it, cells by column)."""

    spec: SheetSpec
    file: Path
    name: str | None  # the sheet's name in a workbook; None for a CSV file
    rows: list[tuple[int, dict[str, Any]]]

    def reject(self, row: int, error: RowError) -> Reject:
        return Reject(SOURCE, str(self.file), row, error.column, error.reason, self.name)


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().casefold())


def _header_map(file: Path, spec: SheetSpec, header: list[Any], sheet: str | None) -> dict[str, int]:
    found = {_fold(cell): index for index, cell in enumerate(header) if cell is not None and str(cell).strip()}
    positions, missing = {}, []
    for column, aliases in spec.columns.items():
        index = next((found[_fold(alias)] for alias in aliases if _fold(alias) in found), None)
        if index is None:
            if column not in spec.optional:
                missing.append(column)
            continue
        positions[column] = index
    if missing:
        raise LandingFileError(
            file,
            f"the header (row 1) has no column {', '.join(missing)}; the {spec.title} sheet needs "
            f"{', '.join(c for c in spec.columns if c not in spec.optional)} (a renamed column must keep its name)",
            row=1,
            sheet=sheet,
        )
    return positions


def _rows(file: Path, spec: SheetSpec, records: list[list[Any]], sheet: str | None) -> Sheet:
    if not records:
        raise LandingFileError(file, f"the {spec.title} sheet is empty: it needs its header in row 1", sheet=sheet)
    positions = _header_map(file, spec, records[0], sheet)
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell is not None and str(cell).strip() for cell in record):
            continue
        cells = {column: record[index] if index < len(record) else None for column, index in positions.items()}
        rows.append((number, cells))
    return Sheet(spec, file, sheet, rows)


def _csv_sheet(path: Path, spec: SheetSpec) -> Sheet:
    require_file(path, f"the case register's {path.name}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LandingFileError(path, f"is not UTF-8 (at byte {error.start}); save the sheet as CSV UTF-8") from None
    return _rows(path, spec, list(csv.reader(io.StringIO(text), delimiter=";")), None)


def _workbook(path: Path) -> list[Sheet]:
    workbook = open_workbook(path)
    try:
        names = {_fold(name): name for name in workbook.sheetnames}
        sheets, missing = [], []
        for spec in WORKBOOK_SHEETS:
            name = next((names[alias] for alias in spec.names if alias in names), None)
            if name is None:
                missing.append(spec.title)
                continue
            records = [list(row) for row in workbook[name].iter_rows(values_only=True)]
            sheets.append(_rows(path, spec, records, name))
        if missing:
            raise LandingFileError(
                path,
                f"has no sheet {', '.join(missing)}; the case register holds the sheets "
                f"{', '.join(spec.title for spec in WORKBOOK_SHEETS)} (it has: {', '.join(workbook.sheetnames)})",
            )
    except LandingFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        raise LandingFileError(path, "is not a readable .xlsx workbook (damaged or cut short)") from None
    finally:
        workbook.close()
    return sheets


# --- cells -------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _codes_by_label(column: str) -> dict[str, str]:
    """Every way a sheet may write a code (the code itself, its Danish or English name), casefolded."""
    by_label: dict[str, str] = {}
    for row in seed_rows(CODED_COLUMNS[column]):
        for name, value in row.items():
            if name == column or name.endswith(("_name_da", "_name_en")):
                by_label[_fold(value)] = row[column]
    return by_label


def _code(column: str, sheet_column: str, value: Any, *, required: bool) -> str | None:
    key = _fold(_text(value))
    if not key:
        if required:
            raise RowError(sheet_column, "is empty but required")
        return None
    codes = _codes_by_label(column) | YES_NO_STATUS.get(column, {})
    if key not in codes:
        # The reason names the rule, never the cell: a misplaced informant name must not be repeated.
        raise RowError(
            sheet_column,
            f"is not one of the names in the reference list dbt_project/seeds/{CODED_COLUMNS[column]}.csv",
        )
    return codes[key]


def _date(column: str, value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowError(column, "is not a date that exists (an Excel date, or DD.MM.YYYY)")


# The largest figure a cell may hold, with what it means: a number past it is a typing slip (a phone number
# in the duration column), rejected as a cell, never stored and never quoted.
MOST = {
    "varighed_min": (10_080, "minutes in a week"),
    "antal_deltagere": (100_000, "participants"),
}


def _whole(column: str, value: Any) -> int | None:
    if isinstance(value, float) and not value.is_integer():
        raise RowError(column, "is not a whole number")
    text = _text(value)
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise RowError(column, "is not a whole number") from None
    if number < 0:
        raise RowError(column, "is negative")
    most, meaning = MOST[column]
    if number > most:
        raise RowError(column, f"is more than {most:,} ({meaning}): a number typed into the wrong column?")
    return number


def _yes_no(column: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    try:
        return yes_no(_text(value))
    except KeyError:
        raise RowError(column, "is neither 'ja' nor 'nej' (the words of seed yes_no_words)") from None


def _required(column: str, value: Any) -> str:
    text = _text(value)
    if not text:
        raise RowError(column, "is empty but required")
    return text


# --- rows --------------------------------------------------------------------------------------------


def _case_row(cells: dict[str, Any]) -> dict[str, Any]:
    area = reference_resolver().resolve(_text(cells["kommunekode"]))
    if not area.is_municipality:
        raise RowError("kommunekode", "is not one of the 98 municipalities (a 3- or 4-digit code, or its name)")
    start, end = (
        _date("feltarbejde_start", cells["feltarbejde_start"]),
        _date("feltarbejde_slut", cells["feltarbejde_slut"]),
    )
    if start and end and end < start:
        raise RowError("feltarbejde_slut", "is before feltarbejde_start")
    return {
        "case_id": _required("case_id", cells["case_id"]),
        "municipality_code": area.code,
        "effort_title": _text(cells["indsats"]),
        "knowledge_area": _code("knowledge_area", "vidensomraade", cells["vidensomraade"], required=True),
        "co_created": _text(cells.get("samskabes")) or None,
        "partners": _text(cells.get("partnere")) or None,
        "fieldwork_start_date": start,
        "fieldwork_end_date": end,
    }


def _activity_row(cells: dict[str, Any]) -> dict[str, Any]:
    return {
        "activity_id": _required("aktivitet_id", cells["aktivitet_id"]),
        "case_id": _required("case_id", cells["case_id"]),
        "activity_type": _code("activity_type", "type", cells["type"], required=True),
        "activity_date": _date("dato", cells["dato"]),
        "duration_minutes": _whole("varighed_min", cells["varighed_min"]),
        "n_participants": _whole("antal_deltagere", cells["antal_deltagere"]),
        # Ids as people separate them: commas, semicolons or line breaks within the cell.
        "informant_ids": ",".join(
            part.strip() for part in re.split(r"[,;\n]", _text(cells["informanter"])) if part.strip()
        )
        or None,
        "consent_status": _code("consent_status", "samtykke", cells["samtykke"], required=False),
        "has_recording": _yes_no("optagelse", cells["optagelse"]),
        "transcript_status": _code("transcript_status", "transskription", cells["transskription"], required=False),
    }


def _informant_row(cells: dict[str, Any], pseudonymise: Pseudonymise) -> dict[str, Any]:
    return {
        "informant_id": _required("informant_id", cells["informant_id"]),
        "case_id": _required("case_id", cells["case_id"]),
        "informant_role": _code("informant_role", "rolle", cells["rolle"], required=True),
        "organisation_type": _code(
            "organisation_type", "organisationstype", cells["organisationstype"], required=False
        ),
        "informant_pseudonym": pseudonymise("informant", _text(cells["navn"]) or None),
    }


def _document_row(cells: dict[str, Any]) -> dict[str, Any]:
    return {
        "document_id": _required("dokument_id", cells["dokument_id"]),
        "case_id": _required("case_id", cells["case_id"]),
        "document_kind": _code("document_kind", "type", cells["type"], required=True),
        "document_date": _date("dato", cells["dato"]),
        "document_source": _text(cells["kilde"]) or None,
    }


def _csv_activity_rows(cells: dict[str, Any], pseudonymise: Pseudonymise) -> tuple[dict[str, Any], dict | None]:
    """An activity of the CSV form, and the informant written on its row (an informant of its own)."""
    activity_id = _required("aktivitet_id", cells["aktivitet_id"])
    name = _text(cells["informant_navn"])
    role = _code("informant_role", "informant_rolle", cells["informant_rolle"], required=False)
    informant = None
    if name or role:
        informant = {
            "informant_id": f"{activity_id}-I",
            "case_id": _required("case_id", cells["case_id"]),
            "informant_role": role,
            "organisation_type": None,
            "informant_pseudonym": pseudonymise("informant", name or None),
        }
    activity = {
        "activity_id": activity_id,
        "case_id": _required("case_id", cells["case_id"]),
        "activity_type": _code("activity_type", "type", cells["type"], required=True),
        "activity_date": _date("dato", cells["dato"]),
        "duration_minutes": None,
        "n_participants": _whole("antal_deltagere", cells["antal_deltagere"]),
        "informant_ids": informant["informant_id"] if informant else None,
        "consent_status": _code("consent_status", "samtykke", cells["samtykke"], required=False),
        "has_recording": _yes_no("optagelse", cells["optagelse"]),
        "transcript_status": _code("transcript_status", "transskriberet", cells["transskriberet"], required=False),
    }
    return activity, informant


# --- the register ------------------------------------------------------------------------------------


CASE_STUDIES = RawTable(
    "case_studies",
    (
        ("case_id", "varchar"),
        ("municipality_code", "integer"),
        ("effort_title", "varchar"),
        ("knowledge_area", "varchar"),
        ("co_created", "varchar"),
        ("partners", "varchar"),
        ("fieldwork_start_date", "date"),
        ("fieldwork_end_date", "date"),
    ),
)
FIELDWORK_ACTIVITIES = RawTable(
    "fieldwork_activities",
    (
        ("activity_id", "varchar"),
        ("case_id", "varchar"),
        ("activity_type", "varchar"),
        ("activity_date", "date"),
        ("duration_minutes", "integer"),
        ("n_participants", "integer"),
        ("informant_ids", "varchar"),
        ("consent_status", "varchar"),
        ("has_recording", "boolean"),
        ("transcript_status", "varchar"),
    ),
)
CASE_INFORMANTS = RawTable(
    "case_informants",
    (
        ("informant_id", "varchar"),
        ("case_id", "varchar"),
        ("informant_role", "varchar"),
        ("organisation_type", "varchar"),
        ("informant_pseudonym", "varchar"),
    ),
)
CASE_DOCUMENTS = RawTable(
    "case_documents",
    (
        ("document_id", "varchar"),
        ("case_id", "varchar"),
        ("document_kind", "varchar"),
        ("document_date", "date"),
        ("document_source", "varchar"),
    ),
)
TABLES = (CASE_STUDIES, FIELDWORK_ACTIVITIES, CASE_INFORMANTS, CASE_DOCUMENTS)


class _Collector:
    """Rows per raw table and rejects, reading one sheet after another."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in TABLES}
        self.rejects: list[Reject] = []

    def read(self, sheet: Sheet, table: str, parse: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        for number, cells in sheet.rows:
            try:
                row = parse(cells)
            except RowError as error:
                self.rejects.append(sheet.reject(number, error))
                continue
            self.rows[table].append(row | {"source_file": str(sheet.file), "source_row": number, "_sheet": sheet})

    def keep_if(self, table: str, column: str, allowed: set[str], why: str, sheet_column: str) -> None:
        """Reject the rows of `table` whose `column` names nothing the register holds."""
        kept = []
        for row in self.rows[table]:
            values = [part for part in str(row[column] or "").split(",") if part]
            if all(value in allowed for value in values):
                kept.append(row)
            else:
                self.rejects.append(row["_sheet"].reject(row["source_row"], RowError(sheet_column, why)))
        self.rows[table] = kept

    def unique(self, table: str, column: str, sheet_column: str) -> None:
        seen, kept = set(), []
        for row in self.rows[table]:
            if row[column] in seen:
                self.rejects.append(
                    row["_sheet"].reject(row["source_row"], RowError(sheet_column, "repeats an id of an earlier row"))
                )
            else:
                seen.add(row[column])
                kept.append(row)
        self.rows[table] = kept

    def batch(self, files: list[Path]) -> SourceBatch:
        batch = SourceBatch(source=SOURCE, files=files, rejects=self.rejects)
        for table in TABLES:
            columns = [*table.column_names, "source_file", "source_row"]
            frame = pd.DataFrame(
                [{k: v for k, v in row.items() if k != "_sheet"} for row in self.rows[table.name]], columns=columns
            )
            for name, kind in table.columns:
                if kind == "integer":
                    frame[name] = frame[name].astype("Int64")
                elif kind == "boolean":
                    frame[name] = frame[name].astype("boolean")
                elif kind == "date":
                    frame[name] = pd.to_datetime(frame[name]).dt.date
            batch.tables[table.name] = frame
        return batch


def _cross_check(collected: _Collector) -> None:
    """Ids must name what the register holds: a case of the Cases sheet, an informant of Informanter."""
    collected.unique("case_studies", "case_id", "case_id")
    cases = {row["case_id"] for row in collected.rows["case_studies"]}
    unknown_case = "is not a case of the Cases sheet"
    collected.unique("case_informants", "informant_id", "informant_id")
    collected.keep_if("case_informants", "case_id", cases, unknown_case, "case_id")
    informants = {row["informant_id"] for row in collected.rows["case_informants"]}
    collected.unique("fieldwork_activities", "activity_id", "aktivitet_id")
    collected.keep_if("fieldwork_activities", "case_id", cases, unknown_case, "case_id")
    collected.keep_if(
        "fieldwork_activities",
        "informant_ids",
        informants,
        "names an informant id the Informanter sheet lacks",
        "informanter",
    )
    collected.unique("case_documents", "document_id", "dokument_id")
    collected.keep_if("case_documents", "case_id", cases, unknown_case, "case_id")


def read_case_workbook(path: Path, pseudonymise: Pseudonymise) -> SourceBatch:
    """Read the register's workbook: raw tables case_studies, fieldwork_activities, case_informants,
    case_documents, and the rows rejected with their sheet, row, column and reason."""
    sheets = {sheet.spec.key: sheet for sheet in _workbook(path)}
    collected = _Collector()
    collected.read(sheets["cases"], "case_studies", _case_row)
    collected.read(sheets["informants"], "case_informants", lambda cells: _informant_row(cells, pseudonymise))
    collected.read(sheets["activities"], "fieldwork_activities", _activity_row)
    collected.read(sheets["documents"], "case_documents", _document_row)
    _cross_check(collected)
    return collected.batch([path])


def read_case_register(directory: Path, pseudonymise: Pseudonymise) -> SourceBatch:
    """Read the register's CSV form (case_studies.csv, fieldwork_activities.csv) into the same raw tables."""
    case_path, activity_path = directory / CASE_FILE, directory / ACTIVITY_FILE
    cases = _csv_sheet(case_path, CASE_SHEET)
    activities = _csv_sheet(activity_path, CSV_ACTIVITY_SHEET)
    collected = _Collector()
    collected.read(cases, "case_studies", _case_row)
    for number, cells in activities.rows:
        try:
            activity, informant = _csv_activity_rows(cells, pseudonymise)
        except RowError as error:
            collected.rejects.append(activities.reject(number, error))
            continue
        lineage = {"source_file": str(activity_path), "source_row": number, "_sheet": activities}
        collected.rows["fieldwork_activities"].append(activity | lineage)
        if informant:
            collected.rows["case_informants"].append(informant | lineage)
    _cross_check(collected)
    return collected.batch([case_path, activity_path])


def _workbooks(entries: list) -> list[Path]:
    """The workbooks among the entries; an Office lock file (~$name.xlsx) is none (it is ignored)."""
    return [
        Path(entry.path)
        for entry in entries
        if entry.is_file() and entry.name.casefold().endswith(".xlsx") and not entry.name.startswith("~$")
    ]


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """A workbook in cases/ is the register; without one, the CSV pair is. Anything else is named."""
    entries = real_entries(folder)
    workbooks = _workbooks(entries)
    deliveries = [Delivery(SOURCE, inventory.relative(path), path, (path,), WORKBOOK_FORMAT) for path in workbooks]
    csv_form = {CASE_FILE, ACTIVITY_FILE}
    if not workbooks and any(entry.name in csv_form for entry in entries):
        files = (folder / CASE_FILE, folder / ACTIVITY_FILE)
        deliveries.append(Delivery(SOURCE, inventory.relative(folder), folder, files, CSV_FORMAT))
        claimed = csv_form
    else:
        claimed = set()
    findings = []
    for entry in entries:
        path = Path(entry.path)
        if path in workbooks or entry.name in claimed:
            continue
        reason = (
            "is the register's CSV form, but the register is kept in the workbook beside it; move the CSV files "
            "into withdrawn/"
            if entry.name in csv_form
            else "is not part of the case register (one .xlsx workbook, or case_studies.csv with "
            "fieldwork_activities.csv)"
        )
        findings += not_recognised(path, inventory, reason)
    return deliveries, findings


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    if delivery.format == WORKBOOK_FORMAT:
        return read_case_workbook(delivery.path, pseudonymise)
    return read_case_register(delivery.path, pseudonymise)


CASES = Source(
    name=SOURCE,
    folder="cases",
    description="The researchers' case register: cases, fieldwork activities, informants and documents",
    discover=discover,
    read=read,
    tables=TABLES,
    suites=("raw_case_studies", "raw_fieldwork_activities"),
    personal_data=(
        PersonalData(
            "an informant's name (Informanter: navn; an activity's informant_navn)",
            PSEUDONYMISED,
            ("case_informants.informant_pseudonym",),
            "informant_pseudonyms in case_activities",
        ),
        PersonalData(
            "the register's informant id",
            RAW_ONLY,
            ("case_informants.informant_id", "fieldwork_activities.informant_ids"),
        ),
        PersonalData(
            "an informant's role and organisation type, and an activity's consent, recording and transcript",
            KEPT,
            (
                "case_informants.informant_role",
                "case_informants.organisation_type",
                "fieldwork_activities.consent_status",
                "fieldwork_activities.has_recording",
                "fieldwork_activities.transcript_status",
            ),
            "informant_roles and consent_status in case_activities",
        ),
    ),
    reading_seeds=(
        *CODED_COLUMNS.values(),
        "municipalities",
        "municipality_name_variants",
        "other_areas",
    ),
)
