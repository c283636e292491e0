"""Statistics Denmark's Statbank data in the landing zone: what the connector landed, and hand downloads.

Under `statbank/` (and its `api/` folder, where `samskab registry fetch` lands the API's answers):

- `<TABLE>_<anything>.tableinfo.json`: a table's `tableinfo` answer, loaded as raw.statbank_tableinfo
  (one row per variable: which is the area, which the time, each one's total category);
- `<TABLE>_<anything>.csv` (CSV or BULK) or `.json` (JSON-stat): the table's figures, loaded as
  raw.statbank_observations, one row per figure;
- `<name>.request.json` beside an answer: the request that produced it (when, how, which format),
  part of that answer's delivery.

A data file is read with the newest tableinfo of its table that has landed (see statbank_format for
what it decides). When the tableinfo of any table changes, every Statbank file is read again.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from samskab.ingest.landing import IGNORED, Delivery, Finding, Inventory, not_recognised, real_entries
from samskab.ingest.sources.common import LandingFileError, Pseudonymise, RawTable, Source, SourceBatch, require_file
from samskab.ingest.sources.recognise import belongs_in
from samskab.ingest.sources.statbank_format import TableInfo, read_statbank_csv, read_statbank_json_stat, read_tableinfo

SOURCE = "statbank"
TABLEINFO_SUFFIX = ".tableinfo.json"
REQUEST_SUFFIX = ".request.json"
TABLEINFO_FORMAT, DATA_FORMAT = "statbank-tableinfo", "statbank-data"
_TABLE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")

OBSERVATIONS = RawTable(
    "statbank_observations",
    (
        ("table_id", "varchar"),
        ("area_variable", "varchar"),
        ("area_code", "varchar"),
        ("area_level", "varchar"),
        ("municipality_code", "integer"),
        ("region_code", "integer"),
        ("landsdel_code", "integer"),
        ("time_code", "varchar"),
        ("period_type", "varchar"),
        ("period_start_date", "date"),
        ("dimensions", "varchar"),
        ("dimensions_at_total", "boolean"),
        ("value", "double"),
        ("value_marker", "varchar"),
        ("value_presentation", "varchar"),
        ("answer_format", "varchar"),
        ("retrieved_at", "timestamp"),
    ),
)
TABLEINFO = RawTable(
    "statbank_tableinfo",
    (
        ("table_id", "varchar"),
        ("table_text", "varchar"),
        ("unit", "varchar"),
        ("updated", "varchar"),
        ("variable_id", "varchar"),
        ("variable_text", "varchar"),
        ("is_time", "boolean"),
        ("is_area", "boolean"),
        ("map", "varchar"),
        ("elimination", "boolean"),
        ("n_values", "integer"),
        ("total_code", "varchar"),
        ("total_label", "varchar"),
        ("retrieved_at", "timestamp"),
    ),
)


def table_of(path: Path) -> str:
    """The table a Statbank file is of, from its name: FOLK1A_2024.csv -> FOLK1A."""
    return path.name.split(".")[0].split("_")[0].upper()


def request_record(answer: Path) -> Path:
    """Where the request that produced `answer` is recorded: X.csv -> X.request.json,
    X.tableinfo.json -> X.tableinfo.request.json."""
    return answer.with_name(answer.name.removesuffix(".json").removesuffix(".csv") + REQUEST_SUFFIX)


def _answer_kind(name: str) -> str | None:
    folded = name.casefold()
    if folded.endswith(REQUEST_SUFFIX):
        return None
    if folded.endswith(TABLEINFO_SUFFIX):
        return TABLEINFO_FORMAT
    if folded.endswith((".csv", ".json")):
        return DATA_FORMAT
    return None


def _statbank_files(folder: Path) -> list[Path]:
    files = []
    for entry in real_entries(folder):
        if entry.is_dir():
            files += _statbank_files(Path(entry.path))
        elif entry.is_file():
            files.append(Path(entry.path))
    return files


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """Each answer (tableinfo or data) is a delivery with its request record; the rest is named."""
    deliveries, findings, claimed = [], [], set()
    files = _statbank_files(folder)
    for path in files:
        kind = _answer_kind(path.name)
        if kind is None or not _TABLE.match(table_of(path)):
            continue
        elsewhere = belongs_in(path)
        if elsewhere is not None and elsewhere.folder != SOURCE:
            continue  # named below, with where it belongs
        record = request_record(path)
        parts = (path, record) if record.is_file() else (path,)
        claimed.update(parts)
        deliveries.append(Delivery(SOURCE, inventory.relative(path), path, parts, kind))
    for path in files:
        if path in claimed:
            continue
        if path.name.startswith(".") and path.name.endswith(".part"):
            findings.append(
                Finding(inventory.relative(path), IGNORED, "an unfinished download the Statbank connector left")
            )
        elif path.name.casefold().endswith(REQUEST_SUFFIX):
            findings += not_recognised(path, inventory, "is a request record whose answer is not beside it")
        else:
            findings += not_recognised(
                path,
                inventory,
                "is not a Statbank answer (statbank/<TABLE>_<anything>.csv, .json for JSON-stat, or .tableinfo.json)",
            )
    return deliveries, findings


def _retrieved_at(answer: Path) -> tuple[datetime, str]:
    """When an answer was retrieved and in which format: from its request record, else the file's time."""
    record = request_record(answer)
    if record.is_file():
        try:
            document = json.loads(record.read_text(encoding="utf-8"))
            retrieved = datetime.fromisoformat(document["retrieved_at"]).astimezone(UTC).replace(tzinfo=None)
            return retrieved, str(document.get("body", {}).get("format", "CSV")).upper()
        except (ValueError, KeyError, TypeError, AttributeError):
            raise LandingFileError(
                record, "is not a readable request record (JSON with retrieved_at); fetch the table again"
            ) from None
    modified = datetime.fromtimestamp(answer.stat().st_mtime, UTC).replace(tzinfo=None)
    return modified, "download"


def tableinfo_files(folder: Path, table_id: str) -> list[Path]:
    """The landed tableinfo answers of one table, newest first (by the time in the request record)."""
    found = [
        path
        for path in _statbank_files(folder)
        if path.name.casefold().endswith(TABLEINFO_SUFFIX) and table_of(path) == table_id
    ]
    return sorted(found, key=lambda path: (_retrieved_at(path)[0], path.name), reverse=True)


def newest_tableinfo(folder: Path, table_id: str) -> TableInfo | None:
    """The newest tableinfo of `table_id` that reads, or None when none has landed."""
    for path in tableinfo_files(folder, table_id):
        try:
            return read_tableinfo(path)
        except LandingFileError:
            continue
    return None


def without_tableinfo_note(name: str, table_id: str) -> str:
    return (
        f"{name} was read without {table_id}'s tableinfo, since none has landed: its variables and values are "
        "kept as the answer writes them, but no area is placed in the municipality master and no total category "
        "is known beyond the labels that say so, so the marts do not use it. To place its areas, declare "
        f"{table_id} in dbt_project/seeds/statbank_tables.csv and run `samskab registry fetch {table_id}`, or "
        f"place its tableinfo answer beside it as {table_id}_<anything>.tableinfo.json"
    )


def read_tableinfo_delivery(path: Path) -> SourceBatch:
    batch = SourceBatch(source=SOURCE, files=[path])
    require_file(path, "a Statbank tableinfo answer")
    info = read_tableinfo(path)
    if info.table_id != table_of(path):
        raise LandingFileError(path, f"describes table {info.table_id}, but its name says {table_of(path)}")
    retrieved, _ = _retrieved_at(path)
    rows = [
        {
            "table_id": info.table_id,
            "table_text": info.text,
            "unit": info.unit,
            "updated": info.updated,
            "variable_id": variable.id,
            "variable_text": variable.text,
            "is_time": variable.is_time,
            "is_area": variable.is_area,
            "map": variable.map,
            "elimination": variable.elimination,
            "n_values": len(variable.values),
            "total_code": variable.total_code,
            "total_label": dict(variable.values).get(variable.total_code) if variable.total_code else None,
            "retrieved_at": retrieved,
            "source_file": str(path),
            "source_row": position,
        }
        for position, variable in enumerate(info.variables, start=1)
    ]
    batch.tables[TABLEINFO.name] = pd.DataFrame(rows, columns=[*TABLEINFO.column_names, "source_file", "source_row"])
    return batch


def read_data_delivery(path: Path, landing_folder: Path) -> SourceBatch:
    """Read a data answer (CSV, BULK or JSON-stat) with its table's newest tableinfo."""
    batch = SourceBatch(source=SOURCE, files=[path])
    require_file(path, "a Statbank answer")
    table_id = table_of(path)
    info = newest_tableinfo(landing_folder, table_id)
    if info is None:
        batch.notes.append(without_tableinfo_note(path.name, table_id))
    retrieved, answer_format = _retrieved_at(path)
    if path.suffix.casefold() == ".json":
        observations, rejects, presentation = read_statbank_json_stat(path, info, SOURCE, table_id)
        answer_format = "JSONSTAT" if answer_format == "download" else answer_format
    else:
        observations, rejects, presentation = read_statbank_csv(path, info, SOURCE, table_id)
    batch.rejects += rejects
    rows = [
        observation.values
        | {
            "value_presentation": presentation,
            "answer_format": answer_format,
            "retrieved_at": retrieved,
            "source_file": str(path),
            "source_row": observation.row,
        }
        for observation in observations
    ]
    frame = pd.DataFrame(rows, columns=[*OBSERVATIONS.column_names, "source_file", "source_row"])
    for column in ("municipality_code", "region_code", "landsdel_code"):
        frame[column] = frame[column].astype("Int64")
    frame["dimensions_at_total"] = frame["dimensions_at_total"].astype("boolean")
    frame["value"] = frame["value"].astype("float64")
    batch.tables[OBSERVATIONS.name] = frame
    if not observations and not rejects:
        raise LandingFileError(path, "holds a header but no figures; download the table again")
    return batch


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    if delivery.format == TABLEINFO_FORMAT:
        batch = read_tableinfo_delivery(delivery.path)
    else:
        landing_folder = next(parent for parent in delivery.path.parents if parent.name == SOURCE)
        batch = read_data_delivery(delivery.path, landing_folder)
    batch.files = list(delivery.files)  # the answer and its request record, both in the ledger
    return batch


def reading_files(landing_dir: Path) -> list[Path]:
    """The tableinfo answers every data file is read with: when one changes, Statbank files are read again."""
    folder = landing_dir / SOURCE
    if not folder.is_dir():
        return []
    return sorted(path for path in _statbank_files(folder) if path.name.casefold().endswith(TABLEINFO_SUFFIX))


STATBANK = Source(
    name=SOURCE,
    folder=SOURCE,
    description="Statistics Denmark Statbank answers: tableinfo and figures (FOLK1A, ARE207, ... as declared)",
    discover=discover,
    read=read,
    tables=(OBSERVATIONS, TABLEINFO),
    suites=("raw_statbank_observations",),
    reading_seeds=("municipalities", "municipality_name_variants", "other_areas"),
    reading_files=reading_files,
    personal_data=(),  # public statistics: counts over areas, no person
)
